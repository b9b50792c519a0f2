"""A fake Discord gateway (v10, JSON text frames) on 127.0.0.1 for discord.py to connect to.

It speaks HELLO (op 10), answers heartbeats (op 1 -> op 11), takes IDENTIFY (op 2) with
READY and a GUILD_CREATE per guild, takes RESUME (op 6) with RESUMED, and lets the test
dispatch events (MESSAGE_CREATE) and drop the connection to make the client resume.
Frames go out uncompressed: discord.py decompresses only binary frames.

    async with FakeDiscordGateway(guilds=[guild_json(...)]) as gateway:
        await gateway.wait_identified()
        await gateway.dispatch("MESSAGE_CREATE", payload)
"""

from __future__ import annotations

import asyncio
from typing import Any, Self

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from tests.fakes.discord_rest import APP_ID, BOT_USER, EPOCH

HELLO, HEARTBEAT, IDENTIFY, RESUME, HEARTBEAT_ACK, DISPATCH = 10, 1, 2, 6, 11, 0


def guild_json(
    guild_id: str, *, channels: list[str], threads: dict[str, str] | None = None
) -> dict[str, Any]:
    """A guild with text channels and threads ({thread id: parent channel id})."""
    everyone = {
        "id": guild_id,
        "name": "@everyone",
        "permissions": "0",
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
    }
    return {
        "id": guild_id,
        "name": "Test guild",
        "icon": None,
        "owner_id": "1100000000000000099",
        "roles": [everyone],
        "emojis": [],
        "stickers": [],
        "features": [],
        "channels": [
            {
                "id": c,
                "type": 0,
                "name": f"channel-{i}",
                "position": i,
                "permission_overwrites": [],
                "guild_id": guild_id,
            }
            for i, c in enumerate(channels)
        ],
        "threads": [
            {
                "id": t,
                "type": 11,
                "name": f"thread-{t[-4:]}",
                "parent_id": parent,
                "guild_id": guild_id,
                "owner_id": "1100000000000000099",
                "message_count": 0,
                "member_count": 1,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": EPOCH,
                    "locked": False,
                },
            }
            for t, parent in (threads or {}).items()
        ],
        "members": [],
        "voice_states": [],
        "presences": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
        "joined_at": EPOCH,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "nsfw_level": 0,
        "preferred_locale": "en-US",
    }


class FakeDiscordGateway:
    def __init__(
        self, *, guilds: list[dict[str, Any]] | None = None, heartbeat_interval_ms: int = 45_000
    ) -> None:
        self.guilds = guilds or []
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.session_id = "fake-session-1"
        self.received: list[dict[str, Any]] = []  # every frame the client sent
        self.connect_queries: list[dict[str, str]] = []
        self.identified = asyncio.Event()
        self.resumed = asyncio.Event()
        self._seq = 0
        self._ws: web.WebSocketResponse | None = None
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"ws://127.0.0.1:{self._server.port}/"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/", self._connect)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=1.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close(code=1000)
        if self._server is not None:
            await self._server.close()

    # -- what tests use -------------------------------------------------------------------

    async def wait_identified(self) -> None:
        await self.identified.wait()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        assert self._ws is not None and not self._ws.closed, "no client connected"
        self._seq += 1
        await self._ws.send_json({"op": DISPATCH, "t": event, "s": self._seq, "d": data})

    async def drop(self) -> None:
        """Close the connection as Discord does when it wants a resume (4000)."""
        self.resumed.clear()
        assert self._ws is not None
        await self._ws.close(code=4000, message=b"please resume")

    async def close_with(self, code: int) -> None:
        """Close as Discord does on a fatal error (4004: authentication failed)."""
        assert self._ws is not None
        await self._ws.close(code=code, message=b"closed by the fake")

    async def heartbeat_roundtrip(self) -> None:
        """Ask for a heartbeat (op 1) and wait for the client's answer: proves its loop is free."""
        assert self._ws is not None
        before = self.count(HEARTBEAT)
        await self._ws.send_json({"op": HEARTBEAT, "d": None})
        await self.wait_frames(HEARTBEAT, before + 1)

    def count(self, op: int) -> int:
        return sum(1 for frame in self.received if frame.get("op") == op)

    async def wait_frames(self, op: int, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.count(op) >= count)

    # -- the server -----------------------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        self.connect_queries.append(dict(request.query))
        await ws.send_json({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            frame = msg.json()
            async with self._changed:
                self.received.append(frame)
                self._changed.notify_all()
            op = frame.get("op")
            if op == HEARTBEAT:
                await ws.send_json({"op": HEARTBEAT_ACK})
            elif op == IDENTIFY:
                await self._ready(ws)
            elif op == RESUME:
                await self.dispatch("RESUMED", {})
                self.resumed.set()
        return ws

    async def _ready(self, ws: web.WebSocketResponse) -> None:
        self._seq = 0
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": BOT_USER,
                "guilds": [{"id": g["id"], "unavailable": True} for g in self.guilds],
                "session_id": self.session_id,
                "resume_gateway_url": self.url,
                "application": {"id": APP_ID, "flags": 0},
                "private_channels": [],
            },
        )
        for guild in self.guilds:
            await self.dispatch("GUILD_CREATE", guild)
        self.identified.set()
