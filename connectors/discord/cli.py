"""`hub discord` (the gateway bot process) and `hub discord sync-commands [--guild ID]`."""

from __future__ import annotations

import asyncio
import signal

import click

from connectors.discord.command_defs import sync_commands
from connectors.discord.config import DiscordConfig
from connectors.discord.discord_lib import discord
from connectors.discord.gateway import GatewayBot
from connectors.discord.rest import DiscordAPIError, DiscordRest
from hub.cli.context import pass_hub
from hub.service import Hub


@click.group("discord", invoke_without_command=True)
@click.pass_context
def discord_group(ctx: click.Context) -> None:
    """Run the Discord gateway bot (answers mentions and DMs); see also sync-commands."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(run_bot)


@discord_group.command("run")
@pass_hub
async def run_bot(hub: Hub) -> None:
    """Run the gateway bot (the same as a bare `hub discord`)."""
    config = DiscordConfig.model_validate(hub.settings.connector("discord"))
    await hub.settlements.replay()  # journaled settlements of stopped processes
    await hub.instances.join("discord")  # its requests' holds are its own (hub/ledger/instances)
    bot = GatewayBot(hub, config)
    runner = asyncio.create_task(bot.run())
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGTERM, runner.cancel)
    except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
        pass
    click.echo("Discord bot connecting; stop with Ctrl-C.")
    try:
        await runner
    except asyncio.CancelledError:
        click.echo("Discord bot stopped.")
    except discord.LoginFailure as exc:
        raise click.ClickException(
            "Discord refused the bot token: check connectors.discord.bot_token."
        ) from exc
    except discord.ConnectionClosed as exc:
        raise click.ClickException(
            f"Discord closed the gateway connection (code {exc.code}); check the bot token "
            "and that the Message Content intent is enabled in the Developer Portal."
        ) from exc


@discord_group.command("sync-commands")
@click.option("--guild", "guild_id", help="Register in one server (instant) instead of globally.")
@pass_hub
async def sync_commands_command(hub: Hub, guild_id: str | None) -> None:
    """Register /ask, /usage, /model and /quota with Discord (a bulk overwrite: safe to repeat)."""
    config = DiscordConfig.model_validate(hub.settings.connector("discord"))
    config.require("application_id", "bot_token")
    rest = DiscordRest(
        hub.http, base_url=config.api_base_url, bot_token=config.bot_token, clock=hub.clock
    )
    try:
        registered = await sync_commands(
            rest, application_id=config.application_id, aliases=hub.aliases, guild_id=guild_id
        )
    except DiscordAPIError as exc:
        raise click.ClickException(_refusal(exc, guild_id)) from exc
    where = f"server {guild_id}" if guild_id else "all servers (global; may take up to an hour)"
    names = ", ".join("/" + str(c.get("name")) for c in registered)
    click.echo(f"Registered {len(registered)} commands for {where}: {names}")


def _refusal(exc: DiscordAPIError, guild_id: str | None) -> str:
    if exc.status == 401:
        return "Discord refused the bot token (401): check connectors.discord.bot_token"
    if exc.status == 403:
        where = f"server {guild_id}" if guild_id else "this application"
        return f"Discord refused (403): the bot may not manage commands in {where}"
    if exc.status == 404:
        return (
            "Discord does not know this application (404): check connectors.discord.application_id"
        )
    return f"Discord refused the commands: {exc}"
