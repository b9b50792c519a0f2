"""`hub` top-level group: global --config, core subcommands, and connectors' subcommands."""

from __future__ import annotations

import click

from hub.cli.admin import bind, team
from hub.cli.ask import ask
from hub.cli.audit import audit
from hub.cli.context import CliContext
from hub.cli.keys import key
from hub.cli.members import member
from hub.cli.provider_keys import provider_key
from hub.cli.quotas import limit, quota
from hub.cli.serve import bootstrap_demo, migrate, serve
from hub.cli.subscriptions import subscription
from hub.cli.usage import usage
from hub.cli.worker import worker
from hub.connector import discover


@click.group()
@click.option(
    "--config",
    "config_path",
    envvar="HUB_CONFIG",
    default="config/hub.toml",
    show_default=True,
    help="Path to the hub's TOML configuration.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: str) -> None:
    """UniLLM Hub: LLMs in Slack, Discord, webhooks, Zapier and any OpenAI SDK."""
    ctx.obj = CliContext(config_path)


CORE_COMMANDS = (
    serve,
    migrate,
    bootstrap_demo,
    team,
    key,
    member,
    quota,
    limit,
    provider_key,
    usage,
    ask,
    bind,
    audit,
    subscription,
    worker,
)
for command in CORE_COMMANDS:
    cli.add_command(command)


def main() -> None:
    for plugin in discover().values():
        for command in plugin.commands():
            cli.add_command(command)
    cli()
