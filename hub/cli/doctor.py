"""`hub doctor [--json]`: a ✓/✗ table of every part the configuration names, with a fix for
each ✗; `--json` prints a list of {check, ok, detail}. Exit 1 when any check fails."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from hub.cli.context import CliContext
from hub.config import ConfigError, Settings
from hub.connector import discover, enabled
from hub.doctor import Check, core_checks, render_table
from hub.service import Hub
from hub.store.secretbox import SecretBoxError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {check, ok, detail}.")
@click.pass_obj
def doctor(ctx: CliContext, as_json: bool) -> None:
    """Check the config, database, Redis, providers, connectors and secrets' file modes."""
    try:
        settings = ctx.settings
    except ConfigError as exc:
        checks = [Check("config", False, f"{exc}; fix: `hub config check` lists every mistake")]
    else:
        checks = [
            Check("config", True, f"{ctx.config_path} is valid"),
            *asyncio.run(_run(settings)),
        ]
    if as_json:
        click.echo(json.dumps([c.as_json() for c in checks], indent=2))
    else:
        click.echo(render_table(checks))
    if not all(c.ok for c in checks):
        sys.exit(1)


async def _run(settings: Settings) -> list[Check]:
    try:
        hub = Hub.open(settings)
    except SecretBoxError as exc:
        return [Check("secret key", False, str(exc))]
    try:
        checks = [Check("secret key", True, f"{len(settings.security.secret_keys)} key(s)")]
        checks += await core_checks(hub)
        for plugin in enabled(discover(), settings.connectors):
            hook = getattr(plugin, "doctor_checks", None)
            if callable(hook):
                checks += await hook(hub, settings.connector(plugin.name))
        return checks
    finally:
        await hub.close()
