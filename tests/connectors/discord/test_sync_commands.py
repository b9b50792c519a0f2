"""`hub discord sync-commands` registers the slash commands by bulk overwrite, idempotently."""

from __future__ import annotations

import asyncio
from pathlib import Path

from click.testing import CliRunner

from connectors.discord import plugin
from hub.cli.context import CliContext
from hub.store.engine import create_engine
from hub.store.migrate import upgrade
from tests.connectors.discord.helpers import GUILD
from tests.fakes.discord_gateway import FakeDiscordGateway
from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest
from tests.support.hubs import SECRET_KEY

CONFIG = """
[database]
url = "sqlite:///{tmp}/hub.db"

[security]
secret_key = "{secret}"

[providers.up]
type = "demo"

[[models.gpt.deployments]]
provider = "up"
model = "demo-1"
input_usd_per_mtok = 0.5
output_usd_per_mtok = 1.5

[[models.small.deployments]]
provider = "up"
model = "demo-small"
input_usd_per_mtok = 0.1
output_usd_per_mtok = 0.2

[connectors.discord]
enabled = true
application_id = "{app_id}"
public_key = "{public_key}"
bot_token = "{token}"
api_base_url = "{api}"
"""


async def write_config(tmp_path: Path, rest: FakeDiscordRest) -> str:
    """The config, and its database migrated (as `hub migrate` would have)."""
    path = tmp_path / "hub.toml"
    path.write_text(
        CONFIG.format(
            tmp=tmp_path,
            secret=SECRET_KEY,
            app_id=APP_ID,
            public_key="ab" * 32,
            token=BOT_TOKEN,
            api=rest.base_url,
        )
    )
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/hub.db")
    await upgrade(engine)
    await engine.dispose()
    return str(path)


async def run_cli(config_path: str, *args: str) -> str:
    [group] = plugin.commands()
    # The command runs its own event loop (asyncio.run); the fakes keep running on this one.
    result = await asyncio.to_thread(
        CliRunner().invoke, group, list(args), obj=CliContext(config_path)
    )
    assert result.exit_code == 0, result.output
    return result.output


async def test_sync_commands_overwrites_the_guild_commands(
    tmp_path: Path, rest: FakeDiscordRest
) -> None:
    config = await write_config(tmp_path, rest)
    output = await run_cli(config, "sync-commands", "--guild", GUILD)
    assert output == f"Registered 4 commands for server {GUILD}: /ask, /usage, /model, /quota\n"
    await run_cli(config, "sync-commands", "--guild", GUILD)
    first, second = rest.matching("PUT")
    assert first.path == second.path == f"/applications/{APP_ID}/guilds/{GUILD}/commands"
    assert first.headers["authorization"] == f"Bot {BOT_TOKEN}"
    assert first.json == second.json  # the same definitions: an idempotent overwrite
    choices = [{"name": "gpt", "value": "gpt"}, {"name": "small", "value": "small"}]
    assert first.json == [
        {
            "name": "ask",
            "type": 1,
            "description": "Ask the LLM; the answer streams into the channel",
            "options": [
                {
                    "type": 3,
                    "name": "prompt",
                    "description": "Your question",
                    "required": True,
                    "max_length": 6000,
                },
                {
                    "type": 3,
                    "name": "model",
                    "description": "Model alias (default: this channel's model)",
                    "required": False,
                    "choices": choices,
                },
            ],
        },
        {
            "name": "usage",
            "type": 1,
            "description": "This month's spending for the server's team, and your share",
        },
        {
            "name": "model",
            "type": 1,
            "description": "Show or set this channel's default model",
            "options": [
                {
                    "type": 3,
                    "name": "alias",
                    "description": "Model alias to make this channel's default",
                    "required": False,
                    "choices": choices,
                }
            ],
        },
        {
            "name": "quota",
            "type": 1,
            "description": "Set a member's spending or token limit (hub team admins)",
            "options": [
                {
                    "type": 6,
                    "name": "user",
                    "description": "Who the limit is for",
                    "required": True,
                },
                {
                    "type": 3,
                    "name": "limit",
                    "description": "e.g. 5usd/month, $2/day, 100k tokens/month",
                    "required": True,
                    "max_length": 100,
                },
            ],
        },
    ]
    names = [c["name"] for c in rest.commands[f"/guilds/{GUILD}"]]
    assert names == ["ask", "usage", "model", "quota"]


async def test_sync_commands_globally_allows_dms(tmp_path: Path, rest: FakeDiscordRest) -> None:
    output = await run_cli(await write_config(tmp_path, rest), "sync-commands")
    assert output.startswith("Registered 4 commands for all servers")
    [put] = rest.matching("PUT")
    assert put.path == f"/applications/{APP_ID}/commands"
    assert [(c["name"], c["contexts"], c["integration_types"]) for c in put.json] == [
        ("ask", [0, 1], [0]),
        ("usage", [0, 1], [0]),
        ("model", [0, 1], [0]),
        ("quota", [0], [0]),  # a member's quota belongs to a server's team: not in DMs
    ]


async def test_bare_hub_discord_runs_the_gateway_bot(tmp_path: Path, rest: FakeDiscordRest) -> None:
    config = await write_config(tmp_path, rest)
    async with FakeDiscordGateway() as gateway:
        rest.gateway_url = gateway.url
        [group] = plugin.commands()
        running = asyncio.create_task(
            asyncio.to_thread(CliRunner().invoke, group, [], obj=CliContext(config))
        )
        async with asyncio.timeout(10):
            await gateway.wait_identified()
            await gateway.close_with(4004)  # authentication failed: the bot must give up
            result = await running
    identify = next(f for f in gateway.received if f["op"] == 2)
    assert identify["d"]["token"] == BOT_TOKEN
    assert identify["d"]["intents"] == (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15)
    assert result.exit_code == 1
    assert "Discord closed the gateway connection (code 4004)" in result.output
