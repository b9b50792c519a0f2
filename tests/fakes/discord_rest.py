"""A fake Discord REST API (v10) on 127.0.0.1 that records every call.

discord.py (via `Route.BASE`) and the hub's httpx calls both talk to it. It keeps the
messages it has seen or created, so `fetch_message` and channel history work, serves image
attachments, and can be scripted to fail a matching call (429 with retry_after, 404 10062...).

    async with FakeDiscordRest(clock=running.clock) as rest:
        call = await rest.wait_for("PATCH", lambda c: c.path.endswith("/@original"))
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from hub.clock import Clock

APP_ID = "1100000000000000001"
BOT_ID = APP_ID  # a bot user's id is its application's id
BOT_TOKEN = "bot-token-for-tests"
API = "/api/v10"
EPOCH = "2026-11-15T12:00:00.000000+00:00"


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    at: float | None  # the hub clock's monotonic time when the call arrived


@dataclass
class Failure:
    method: str
    matches: Callable[[Call], bool]
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def user_json(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


BOT_USER = user_json(BOT_ID, "hubbot", bot=True)

T = TypeVar("T")
Handler = Callable[[Call, re.Match[str]], Awaitable[web.Response]]


class FakeDiscordRest:
    def __init__(self, *, clock: Clock | None = None, bot_token: str = BOT_TOKEN) -> None:
        self.clock = clock
        self.bot_token = bot_token
        self.gateway_url = "ws://127.0.0.1:1/"  # set by the test once the fake gateway runs
        self.calls: list[Call] = []
        self.messages: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.failures: list[Failure] = []
        self._ids = itertools.count(1_200_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/users/@me"), self._me),
            ("GET", re.compile(r"/oauth2/applications/@me"), self._application),
            ("GET", re.compile(r"/gateway(/bot)?"), self._gateway),
            ("POST", re.compile(r"/channels/(\d+)/typing"), self._no_content),
            ("POST", re.compile(r"/channels/(\d+)/messages"), self._create_message),
            ("GET", re.compile(r"/channels/(\d+)/messages"), self._history),
            ("GET", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._get_message),
            ("PATCH", re.compile(r"/channels/(\d+)/messages/(\d+)"), self._edit_message),
            ("POST", re.compile(r"/webhooks/(\d+)/([^/]+)"), self._followup),
            ("PATCH", re.compile(r"/webhooks/(\d+)/([^/]+)/messages/(@original|\d+)"), self._edit),
            ("DELETE", re.compile(r"/webhooks/(\d+)/([^/]+)/messages/@original"), self._no_content),
            ("PUT", re.compile(r"/applications/(\d+)(/guilds/\d+)?/commands"), self._put_commands),
        ]

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def base_url(self) -> str:
        return self.origin + API

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", API + "/{tail:.*}", self._dispatch)
        app.router.add_get("/attachments/{name}", self._attachment)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=1.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    # -- what tests use -------------------------------------------------------------------

    def matching(self, method: str, where: Callable[[Call], bool] | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (where is None or where(c))]

    async def wait_for(
        self, method: str, where: Callable[[Call], bool] | None = None, *, count: int = 1
    ) -> Call:
        """The `count`-th call matching, waiting for it to arrive."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.matching(method, where)) >= count)
        return self.matching(method, where)[count - 1]

    async def until(self, check: Callable[[], T]) -> T:
        """`check()` once it is truthy, looked at again after each request the fake receives."""
        async with self._changed:
            return await self._changed.wait_for(check)

    def fail_next(
        self,
        method: str,
        where: Callable[[Call], bool],
        *,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        self.failures.append(Failure(method, where, status, body, headers or {}))

    def new_id(self) -> str:
        return str(next(self._ids))

    def host_file(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        """Serve `data` as an attachment; returns the attachment JSON for a message."""
        self.files[name] = (data, content_type)
        return {
            "id": self.new_id(),
            "filename": name,
            "size": len(data),
            "url": f"{self.origin}/attachments/{name}",
            "proxy_url": f"{self.origin}/attachments/{name}",
            "content_type": content_type,
        }

    def user_message(
        self,
        *,
        channel_id: str,
        author: dict[str, Any],
        content: str,
        guild_id: str | None = None,
        mentions: tuple[dict[str, Any], ...] = (),
        reply_to: dict[str, Any] | None = None,
        attachments: tuple[dict[str, Any], ...] = (),
    ) -> dict[str, Any]:
        """A message someone wrote (remembered here), as a MESSAGE_CREATE payload."""
        data = self._message(channel_id, author, content, reply_to=reply_to)
        data.update(mentions=list(mentions), attachments=list(attachments))
        if guild_id is not None:
            data["guild_id"] = guild_id
            data["member"] = {"roles": [], "joined_at": EPOCH, "deaf": False, "mute": False}
        self.messages[data["id"]] = data
        return data

    # -- the server -----------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        raw = await request.read()
        path = request.path[len(API) :]
        call = Call(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=json.loads(raw) if raw else None,
            headers={k.lower(): v for k, v in request.headers.items()},
            at=self.clock.monotonic() if self.clock else None,
        )
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        for failure in self.failures:
            if failure.method == call.method and failure.matches(call):
                self.failures.remove(failure)
                return _json(failure.body, status=failure.status, headers=failure.headers)
        for method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if method == call.method and match:
                if not path.startswith("/webhooks/") and not self._authorized(call):
                    unauthorized = {"message": "401: Unauthorized", "code": 0}
                    return _json(unauthorized, status=401)
                return await handler(call, match)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    def _authorized(self, call: Call) -> bool:
        return call.headers.get("authorization") == f"Bot {self.bot_token}"

    async def _attachment(self, request: web.Request) -> web.Response:
        data, content_type = self.files[request.match_info["name"]]
        return web.Response(body=data, content_type=content_type)

    async def _me(self, call: Call, match: re.Match[str]) -> web.Response:
        return _json({**BOT_USER, "flags": 0, "mfa_enabled": False, "verified": True})

    async def _application(self, call: Call, match: re.Match[str]) -> web.Response:
        return _json(
            {
                "id": APP_ID,
                "name": "Hub",
                "icon": None,
                "description": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_json("1100000000000000099", "owner"),
                "team": None,
                "verify_key": "00" * 32,
                "flags": 0,
                "interactions_endpoint_url": None,
            }
        )

    async def _gateway(self, call: Call, match: re.Match[str]) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    async def _no_content(self, call: Call, match: re.Match[str]) -> web.Response:
        return web.Response(status=204)

    async def _create_message(self, call: Call, match: re.Match[str]) -> web.Response:
        body = call.json or {}
        reply_to = None
        reference = body.get("message_reference")
        if reference:
            reply_to = self.messages.get(str(reference["message_id"]))
        data = self._message(match.group(1), BOT_USER, body.get("content", ""), reply_to=reply_to)
        data["components"] = body.get("components", [])
        self.messages[data["id"]] = data
        return _json(data)

    async def _get_message(self, call: Call, match: re.Match[str]) -> web.Response:
        found = self.messages.get(match.group(2))
        if found is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        return _json(found)

    async def _history(self, call: Call, match: re.Match[str]) -> web.Response:
        channel = match.group(1)
        before = int(call.query.get("before", str(2**63)))
        limit = int(call.query.get("limit", "50"))
        found = [
            m
            for m in self.messages.values()
            if m["channel_id"] == channel and int(m["id"]) < before
        ]
        found.sort(key=lambda m: int(m["id"]), reverse=True)  # newest first, like Discord
        return _json(found[:limit])

    async def _edit_message(self, call: Call, match: re.Match[str]) -> web.Response:
        found = self.messages.get(match.group(2))
        if found is None:
            return _json({"message": "Unknown Message", "code": 10008}, status=404)
        found.update({k: v for k, v in (call.json or {}).items() if k in ("content", "components")})
        found["edited_timestamp"] = EPOCH
        return _json(found)

    async def _followup(self, call: Call, match: re.Match[str]) -> web.Response:
        body = call.json or {}
        data = self._message("0", BOT_USER, body.get("content", ""))
        data.update(webhook_id=match.group(1), flags=body.get("flags", 0))
        self.messages[data["id"]] = data
        return _json(data)

    async def _edit(self, call: Call, match: re.Match[str]) -> web.Response:
        body = call.json or {}
        message_id = match.group(3)
        if message_id == "@original":
            key = f"original:{match.group(2)}"
            found = self.messages.setdefault(
                key, {**self._message("0", BOT_USER, ""), "webhook_id": match.group(1)}
            )
        else:
            found = self.messages[message_id]
        found.update({k: v for k, v in body.items() if k in ("content", "components")})
        return _json(found)

    async def _put_commands(self, call: Call, match: re.Match[str]) -> web.Response:
        scope = match.group(2) or "global"
        registered = [
            {**c, "id": self.new_id(), "application_id": match.group(1), "version": "1"}
            for c in call.json
        ]
        self.commands[scope] = registered
        return _json(registered)

    def _message(
        self,
        channel_id: str,
        author: dict[str, Any],
        content: str,
        *,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.new_id(),
            "type": 0,
            "channel_id": channel_id,
            "author": author,
            "content": content,
            "timestamp": EPOCH,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "components": [],
        }
        if reply_to is not None:
            data["type"] = 19
            data["message_reference"] = {
                "message_id": reply_to["id"],
                "channel_id": reply_to["channel_id"],
                **({"guild_id": reply_to["guild_id"]} if "guild_id" in reply_to else {}),
            }
            # Discord nests the replied-to message one level deep, without its own reference.
            data["referenced_message"] = {
                k: v for k, v in reply_to.items() if k != "referenced_message"
            }
        return data


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py parses nothing else.
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )
