"""`hub` top-level group: global --config, core subcommands, and connectors' subcommands."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import click

from hub.cli.admin import bind, rotate_secrets_command, team
from hub.cli.alerts import alert
from hub.cli.ask import ask
from hub.cli.audit import audit
from hub.cli.billing import billing, invoice, plan, prices, team_billing, team_subscribe
from hub.cli.boundary import guarded
from hub.cli.config_cmd import config_group
from hub.cli.context import CliContext
from hub.cli.deployments import deployments
from hub.cli.doctor import doctor
from hub.cli.experiments import experiment
from hub.cli.keys import key
from hub.cli.members import member
from hub.cli.provider_keys import provider_key
from hub.cli.quotas import limit, quota
from hub.cli.serve import bootstrap_demo, migrate, serve
from hub.cli.simulate import simulate
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


def _version() -> str:
    try:
        return version("unillm-hub")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@click.group(cls=HubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="HUB_CONFIG",
    default="config/hub.toml",
    show_default=True,
    help="Path to the hub's TOML configuration (accepted anywhere on the line).",
)
@click.option("--debug", is_flag=True, help="Show the traceback of a failure.")
@click.version_option(_version(), "--version", prog_name="hub", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: str, debug: bool) -> None:
    """UniLLM Hub: LLMs in Slack, Discord, webhooks, Zapier and any OpenAI SDK."""
    if isinstance(ctx.obj, CliContext):
        ctx.obj.config_path = config_path
    else:
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
    doctor,
    simulate,
    prices,
    plan,
    invoice,
    billing,
    alert,
    experiment,
)
team.add_command(team_subscribe)
team.add_command(team_billing)
for command in CORE_COMMANDS:
    cli.add_command(command)


def hoist_global_options(argv: Sequence[str]) -> tuple[list[str], bool]:
    """`--config PATH` and `--debug` are accepted anywhere (`hub team list --config x.toml`):
    moved in front of the subcommand, where click expects them. `--` ends the scan."""
    front: list[str] = []
    rest: list[str] = []
    debug = False
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--debug":
            debug = True
        elif arg == "--config" and i + 1 < len(args):
            front = ["--config", args[i + 1]]
            i += 1
        elif arg.startswith("--config="):
            front = [arg]
        else:
            rest.append(arg)
        i += 1
    return front + (["--debug"] if debug else []) + rest, debug


def main(argv: Sequence[str] | None = None) -> None:
    args, debug = hoist_global_options(sys.argv[1:] if argv is None else argv)
    state = CliContext("config/hub.toml")

    def run() -> None:
        result = cli.main(args=args, prog_name="hub", standalone_mode=False, obj=state)
        if isinstance(result, int) and result:
            raise SystemExit(result)

    sys.exit(guarded(run, debug=debug, database_url=state.loaded_database_url))
