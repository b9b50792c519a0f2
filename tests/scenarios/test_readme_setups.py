"""README's Slack and Discord setups, followed literally (#12 point 4).

Each test reads its section of README.md and does what it says, in order: the `export`
lines become the environment, the ```toml blocks are added to a copy of config/hub.toml, and
every `.venv/bin/hub ...` line runs as a real `hub` process in a folder laid out like the
repository after `make run` (config/hub.toml, var/secret-key). `hub serve` and `hub discord`
keep running in the background. A line the test does not understand fails it, so the
README cannot drift from what works.

Only two things are added to what the README says: the fake platform's address (the
`api_base_url` / `gateway_url` keys the README's example config documents for tests) and,
for Discord, a public key the test holds the private half of. The fakes accept the README's
own example tokens, ids and secrets.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.fernet import Fernet
from nacl.signing import SigningKey

from tests.fakes.discord_gateway import FakeDiscordGateway, guild_json
from tests.fakes.discord_rest import BOT_ID, BOT_USER, FakeDiscordRest, user_json
from tests.fakes.slack_api import Bot, FakeSlack
from tests.support.forked_cli import Background, Finished, run_all
from tests.support.hubs import free_port

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PORT_IN_README = "8080"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Block:
    lang: str
    text: str


def section(heading: str) -> list[Block]:
    """The fenced code blocks under `heading`, up to the next heading of its level or above."""
    lines = README.read_text().splitlines()
    level = len(heading) - len(heading.lstrip("#"))
    start = lines.index(heading) + 1
    blocks: list[Block] = []
    fence: tuple[str, int, list[str]] | None = None
    for line in lines[start:]:
        stripped = line.strip()
        if fence is None and re.match(rf"^#{{1,{level}}} ", line):
            break
        if stripped.startswith("```"):
            if fence is None:
                fence = (stripped[3:].strip(), len(line) - len(line.lstrip()), [])
            else:
                blocks.append(Block(fence[0], "\n".join(fence[2]) + "\n"))
                fence = None
            continue
        if fence is not None:
            fence[2].append(line[fence[1] :])
    assert blocks, f"no code blocks under {heading!r}"
    return blocks


def exports(blocks: list[Block]) -> dict[str, str]:
    found = {}
    for block in blocks:
        if block.lang == "sh":
            for line in block.text.splitlines():
                if line.startswith("export "):
                    name, _, value = line.removeprefix("export ").partition("=")
                    found[name] = value
    return found


@dataclass
class Follower:
    """Does what the README's blocks say, in a folder laid out like the repository."""

    folder: Path
    extra_toml: dict[str, str]  # after the README's `[table]`: keys pointing at the fakes
    overrides: dict[str, str] = field(default_factory=dict)  # values the test must hold
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    ran: list[Finished] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.folder / "config").mkdir()
        shutil.copy(ROOT / "config" / "hub.toml", self.folder / "config" / "hub.toml")
        (self.folder / "var").mkdir()  # what `make run` leaves: the secret key
        (self.folder / "var" / "secret-key").write_text(Fernet.generate_key().decode() + "\n")
        (self.folder / "var" / "secret-key").chmod(0o600)
        self.env = {"PATH": "/usr/bin:/bin", "HOME": str(self.folder)}

    async def follow(
        self, blocks: list[Block], *, after: Callable[[list[str]], Awaitable[None]] | None = None
    ) -> None:
        for block in blocks:
            if block.lang == "toml":
                self._configure(block.text)
            elif block.lang == "sh":
                for line in block.text.splitlines():
                    args = self._line(line)
                    if args is not None:
                        await self._hub(args)
                        if after is not None:
                            await after(args)

    def _configure(self, text: str) -> None:
        for table, keys in self.extra_toml.items():
            text = text.replace(f"[{table}]\n", f"[{table}]\n{keys}\n")
        with (self.folder / "config" / "hub.toml").open("a") as config:
            config.write("\n" + text)

    def _line(self, line: str) -> list[str] | None:
        line = re.sub(r"\s+#\s.*$", "", line).strip()
        if not line or line.startswith("#"):
            return None
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            self.env[name] = self.overrides.get(name, value)
            return None
        words = shlex.split(line.replace(PORT_IN_README, str(self.port)))
        assert words[0] == ".venv/bin/hub", f"the README says to run {line!r}"
        return words[1:]

    async def _hub(self, args: list[str]) -> None:
        if args[0] == "serve" or args == ["discord"]:
            started = Background(args, cwd=self.folder, env=self.env)
            self.background.append(started)
            text = "listening on" if args[0] == "serve" else "Discord bot connecting"
            await asyncio.to_thread(started.wait_for, text, timeout_s=TIMEOUT_S)
            return
        (done,) = await asyncio.to_thread(
            run_all, [args], cwd=self.folder, env=self.env, timeout_s=TIMEOUT_S
        )
        assert done.returncode == 0, done
        assert "Traceback" not in done.stderr, done
        self.ran.append(done)

    def output(self, *args: str) -> str:
        return next(r.stdout for r in self.ran if r.args[: len(args)] == args)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> list[Finished]:
        """SIGTERM to each background process, newest first; in a thread, so the fakes (on
        this event loop) keep answering while the hub shuts down."""
        stopped = []
        for process in reversed(self.background):
            done = await asyncio.to_thread(process.stop)
            assert "Traceback" not in done.stderr, done.stderr
            stopped.append(done)
        return stopped


def demo_answer_to(question: str) -> Callable[[str], bool]:
    return lambda text: f'You asked: "{question}"' in text and text.endswith("real answers.")


async def test_slack_one_workspace_over_http(tmp_path: Path) -> None:
    blocks = section("### 2a. One workspace over HTTP (bot token), step by step")
    values = exports(blocks)
    async with FakeSlack() as slack:
        slack.bots[values["SLACK_BOT_TOKEN"]] = Bot("T0123ABCD", "U0HUBBOT", "B0HUB")
        follower = Follower(tmp_path, {"connectors.slack": f'api_base_url = "{slack.base_url}"'})
        try:
            await follower.follow(blocks)
            simulated = follower.output("simulate", "slack")
            assert "<- HTTP 200" in simulated
            answered = demo_answer_to("Hello from Slack")
            messages = await slack.until(
                lambda: [m for m in slack.bot_messages("C0123") if answered(m.text)], TIMEOUT_S
            )
            assert len(messages) == 1
        finally:
            stopped = await follower.stop()
        assert [s.returncode for s in stopped] == [0], stopped
        # The served URL is the public one the README exports.
        assert "listening on https://hub.example.com" in stopped[0].stdout


async def test_slack_many_workspaces_with_oauth(tmp_path: Path) -> None:
    blocks = section("### 2b. Many workspaces (OAuth install), step by step")
    values = exports(blocks)
    async with FakeSlack() as slack:
        slack.client_id, slack.client_secret = (
            values["SLACK_CLIENT_ID"],
            values["SLACK_CLIENT_SECRET"],
        )
        slack.bots["xoxb-installed"] = Bot("T0456EFGH", "U0HUBBOT", "B0HUB")
        slack.oauth_codes["code-1"] = {
            "ok": True,
            "app_id": "A1",
            "authed_user": {"id": "UINSTALLER"},
            "scope": "app_mentions:read,chat:write,commands",
            "token_type": "bot",
            "access_token": "xoxb-installed",
            "bot_user_id": "U0HUBBOT",
            "team": {"id": "T0456EFGH", "name": "Acme"},
            "enterprise": None,
            "is_enterprise_install": False,
        }
        follower = Follower(tmp_path, {"connectors.slack": f'api_base_url = "{slack.base_url}"'})
        try:
            await follower.follow(blocks)
            link = urlsplit(follower.output("slack", "install-link").strip())
            assert (link.scheme, link.netloc) == ("https", "hub.example.com")
            # Whoever opens the link goes to Slack, which sends them back with a code.
            async with httpx.AsyncClient(base_url=follower.base_url) as browser:
                opened = await browser.get(f"{link.path}?{link.query}")
                assert opened.status_code == 302, opened.text
                state = parse_qs(urlsplit(opened.headers["Location"]).query)["state"][0]
                back = await browser.get(
                    "/slack/oauth_redirect", params={"code": "code-1", "state": state}
                )
                assert back.status_code == 200, back.text
            # The README: `hub simulate slack --workspace <its id>` then answers as in 2a.
            (simulated,) = await asyncio.to_thread(
                run_all,
                [
                    (
                        "simulate",
                        "slack",
                        "--url",
                        follower.base_url,
                        "--workspace",
                        "T0456EFGH",
                        "--channel",
                        "C0456",
                        "--text",
                        "Hi",
                        "--wait",
                        "0",
                    )
                ],
                cwd=tmp_path,
                env=follower.env,
            )
            assert simulated.returncode == 0, simulated
            answered = demo_answer_to("Hi")
            await slack.until(
                lambda: [m for m in slack.bot_messages("C0456") if answered(m.text)], TIMEOUT_S
            )
        finally:
            stopped = await follower.stop()
        assert [s.returncode for s in stopped] == [0], stopped


async def test_slack_socket_mode(tmp_path: Path) -> None:
    blocks = section("### 2c. Socket Mode (no public URL), step by step")
    values = exports(blocks)
    async with FakeSlack() as slack:
        slack.bots[values["SLACK_BOT_TOKEN"]] = Bot("T0123ABCD", "U0HUBBOT", "B0HUB")
        follower = Follower(tmp_path, {"connectors.slack": f'api_base_url = "{slack.base_url}"'})
        try:
            await follower.follow(blocks)
            await slack.socket_ready.wait()
            command = {
                "token": "x",
                "team_id": "T0123ABCD",
                "channel_id": "C0123",
                "user_id": "U0001",
                "command": "/ask",
                "text": "Over the socket",
                "response_url": slack.response_url(),
                "trigger_id": "1.2.3",
                "api_app_id": "A1",
            }
            await slack.socket_send(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": command,
                }
            )
            ack = await slack.wait_for("socket_ack", timeout=TIMEOUT_S)
            assert ack.args["envelope_id"] == "env-1"
            answered = demo_answer_to("Over the socket")
            await slack.until(
                lambda: [m for m in slack.bot_messages("C0123") if answered(m.text)], TIMEOUT_S
            )
        finally:
            stopped = await follower.stop()
        assert [s.returncode for s in stopped] == [0], stopped


@pytest.mark.timeout(240)
async def test_discord_interactions_and_gateway(tmp_path: Path) -> None:
    blocks = [
        *section("### 2. Configure the hub, step by step"),
        *section("### 5. Register the commands, bind the server, start the bot"),
    ]
    values = exports(blocks)
    guild, channel = "1200000000000000001", "1300000000000000001"
    key = SigningKey.generate()
    async with (
        FakeDiscordRest(bot_token=values["DISCORD_BOT_TOKEN"]) as rest,
        FakeDiscordGateway(guilds=[guild_json(guild, channels=[channel])]) as gateway,
    ):
        assert values["DISCORD_APPLICATION_ID"] == BOT_ID  # the fake's application
        rest.gateway_url = gateway.url
        follower = Follower(
            tmp_path,
            {
                "connectors.discord": f'api_base_url = "{rest.base_url}"\n'
                f'gateway_url = "{gateway.url}"'
            },
            overrides={"DISCORD_PUBLIC_KEY": key.verify_key.encode().hex()},
        )
        try:
            await follower.follow(blocks)
            probe = follower.output("simulate", "discord")
            assert "<- HTTP 401" in probe
            registered = rest.commands
            assert sorted(c["name"] for c in next(iter(registered.values()))) == [
                "ask",
                "model",
                "quota",
                "usage",
            ]
            # The staging check the README ends with: a signed /ask through `hub simulate`.
            (asked,) = await asyncio.to_thread(
                run_all,
                [
                    (
                        "simulate",
                        "discord",
                        "--url",
                        follower.base_url,
                        "--private-key",
                        key.encode().hex(),
                        "--guild",
                        guild,
                        "--channel",
                        channel,
                        "--text",
                        "Hello from Discord",
                    )
                ],
                cwd=tmp_path,
                env=follower.env,
            )
            assert asked.returncode == 0, asked
            assert '"type": 5' in asked.stdout  # deferred: "thinking...", then edits
            answered = demo_answer_to("Hello from Discord")
            async with asyncio.timeout(TIMEOUT_S):
                await rest.wait_for(
                    "PATCH",
                    lambda c: (
                        c.path.endswith("/@original")
                        and answered(str((c.json or {}).get("content")))
                    ),
                )
            # The gateway bot answers a mention in the bound server.
            await asyncio.wait_for(gateway.wait_identified(), TIMEOUT_S)
            question = rest.user_message(
                channel_id=channel,
                guild_id=guild,
                author=user_json("1400000000000000001", "alice"),
                content=f"<@{BOT_ID}> Hello from a mention",
                mentions=(BOT_USER,),
            )
            await gateway.dispatch("MESSAGE_CREATE", question)
            mentioned = demo_answer_to("Hello from a mention")
            async with asyncio.timeout(TIMEOUT_S):
                await rest.until(
                    lambda: [
                        c
                        for c in rest.matching("POST") + rest.matching("PATCH")
                        if mentioned(str((c.json or {}).get("content")))
                    ]
                )
        finally:
            stopped = await follower.stop()
        assert [s.returncode for s in stopped] == [0, 0]
        assert "Discord bot stopped." in stopped[0].stdout
