"""`hub` top-level group: global --config, core subcommands, and connectors' subcommands."""

from __future__ import annotations

import click

from hub.cli.admin import bind, key, team
from hub.cli.ask import ask
from hub.cli.context import CliContext
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


for command in (serve, migrate, bootstrap_demo, team, key, usage, ask, bind, subscription, worker):
    cli.add_command(command)


def main() -> None:
    for plugin in discover().values():
        for command in plugin.commands():
            cli.add_command(command)
    cli()
