"""`hub` top-level group: global --config, core subcommands, and connectors' subcommands."""

from __future__ import annotations

import click

from hub.cli.admin import bind, rotate_secrets_command, team
from hub.cli.ask import ask
from hub.cli.audit import audit
from hub.cli.config_cmd import config_group
from hub.cli.context import CliContext
from hub.cli.deployments import deployments
from hub.cli.keys import key
from hub.cli.members import member
from hub.cli.provider_keys import provider_key
from hub.cli.quotas import limit, quota
from hub.cli.serve import bootstrap_demo, migrate, serve
from hub.cli.subscriptions import subscription
from hub.cli.usage import usage
from hub.cli.worker import worker
from hub.connector import discover


class HubGroup(click.Group):
    """Core commands at once; connectors' commands loaded only when one of them is asked
    for (or for --help), since importing every platform SDK costs a second per invocation."""

    _plugins_loaded = False

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for plugin in discover().values():
            for command in plugin.commands():
                self.add_command(command)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None:
            self._load_plugins()
            found = super().get_command(ctx, cmd_name)
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugins()
        return super().list_commands(ctx)


@click.group(cls=HubGroup)
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
    deployments,
    ask,
    bind,
    audit,
    rotate_secrets_command,
    subscription,
    worker,
    config_group,
)
for command in CORE_COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli()
