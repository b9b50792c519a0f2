"""`hub slack ...`: the connector's own subcommands."""

from __future__ import annotations

import click

from connectors.slack.config import SlackSettings
from connectors.slack.install import install_link_path
from hub.cli.context import pass_hub
from hub.service import Hub


@click.group("slack")
def slack_group() -> None:
    """Slack connector: install links."""


@slack_group.command("install-link")
@click.option("--team", "team_name", required=True, help="Hub team that will pay.")
@click.option("--hours", default=72, show_default=True, help="How long the link stays valid.")
@click.option(
    "--base-url",
    default="",
    help="The hub's public URL, e.g. https://hub.example.com (default: [server] public_url).",
)
@pass_hub
async def install_link(hub: Hub, team_name: str, hours: int, base_url: str) -> None:
    """Print a signed link that installs the app and binds the workspace to TEAM."""
    settings = SlackSettings.model_validate(hub.settings.connector("slack"))
    if not settings.multi_workspace:
        raise click.ClickException(
            "install links need connectors.slack.client_id and client_secret (OAuth installs)"
        )
    await hub.teams.get_active(team_name)
    base = base_url.strip().rstrip("/") or hub.settings.server.public_url
    if not base:
        raise click.UsageError(
            "say where the hub is: set [server] public_url, or pass --base-url https://..."
        )
    expires = int(hub.clock.now().timestamp()) + hours * 3600
    path = install_link_path(key=settings.client_secret, team=team_name, expires=expires)
    click.echo(base + path)
