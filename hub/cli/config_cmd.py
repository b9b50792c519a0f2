"""`hub config check` and `hub config show`: the configuration, without starting anything."""

from __future__ import annotations

import json
import sys

import click
import tomli_w

from hub.cli.context import CliContext
from hub.config import ConfigError, Settings, load_settings
from hub.config.show import effective

config_option = click.option(
    "--config",
    "config_path",
    default=None,
    help="Path to the hub's TOML configuration (default: the one given to `hub`).",
)


@click.group("config")
def config_group() -> None:
    """Check or show the configuration."""


@config_group.command("check")
@config_option
@click.pass_obj
def check(ctx: CliContext, config_path: str | None) -> None:
    """Validate the configuration: every mistake, one line each; exit 1 if there is any."""
    path = config_path or ctx.config_path
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    click.echo(f"{path} is valid: {_summary(settings)}.")


@config_group.command("show")
@config_option
@click.option("--json", "as_json", is_flag=True, help="JSON instead of TOML.")
@click.pass_obj
def show(ctx: CliContext, config_path: str | None, as_json: bool) -> None:
    """Print the effective configuration (defaults and ${VAR}s filled in, secrets masked)."""
    path = config_path or ctx.config_path
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    data = effective(settings)
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(f"# The effective configuration from {path}; secrets are shown as ***.")
        click.echo(tomli_w.dumps(data).rstrip())


def _summary(settings: Settings) -> str:
    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    enabled = [
        name
        for name, section in settings.connectors.items()
        if getattr(section, "enabled", False)
        or (isinstance(section, dict) and section.get("enabled"))
    ]
    return (
        f"{count(len(settings.models), 'model')} ({', '.join(settings.models)}), "
        f"{count(len(settings.providers), 'provider')} ({', '.join(settings.providers)}), "
        f"connectors enabled: {', '.join(sorted(enabled)) or 'none'}"
    )
