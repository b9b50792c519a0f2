"""A fake Slack Web API on 127.0.0.1 that the real slack_sdk AsyncWebClient talks to.

async with FakeSlack() as slack:            # base_url ends in /api/, like https://slack.com/api/
    slack.clock = running.clock             # stamp each call with the hub's (fake) clock
    slack.fail("chat.update", "msg_too_long")          # next call answers {"ok": false, ...}
    slack.fail("chat.postMessage", "ratelimited", status=429, retry_after=2)
    slack.fail("chat.appendStream", "message_not_in_streaming_state", skip=2)
    call = await slack.wait_for("chat.stopStream")

It keeps channels' messages (what the bot posts, streams, edits and deletes, plus messages a
test adds) so conversations.replies answers with the real thread, and serves private files
only with a valid bot token, as Slack does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, TypeVar

from aiohttp import web
from aiohttp.test_utils import TestServer

DEFAULT_TOKEN = "xoxb-test-token"


class _Clock(Protocol):
    def monotonic(self) -> float: ...


@dataclass(frozen=True)
class Bot:
    team_id: str
    user_id: str
    bot_id: str
    team_name: str = "Test Workspace"


@dataclass
class SlackCall:
    method: str
    args: dict[str, Any]
    token: str | None
    at: float | None  # the test clock's monotonic time when the call arrived

    @property
    def text(self) -> str:
        """The message text the call carries (plain text, markdown or streamed chunks)."""
        parts = [str(self.args.get("markdown_text") or "")]
        for chunk in self.args.get("chunks") or []:
            if isinstance(chunk, dict) and chunk.get("type") == "markdown_text":
                parts.append(str(chunk.get("text", "")))
        return "".join(parts) or str(self.args.get("text") or "")


@dataclass
class Failure:
    method: str
    error: str
    status: int = 200
    retry_after: int | None = None
    skip: int = 0
    times: int = 1


@dataclass
class StoredMessage:
    ts: str
    channel: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    blocks: list[Any] = field(default_factory=list)
    streaming: bool = False
    files: list[Any] = field(default_factory=list)

    def wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        for key in ("user", "bot_id", "thread_ts"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.blocks:
            out["blocks"] = self.blocks
        return out


T = TypeVar("T")
_JSON_FIELDS = ("blocks", "chunks", "attachments", "prompts", "metadata")


class FakeSlack:
    def __init__(self) -> None:
        self.clock: _Clock | None = None
        self.calls: list[SlackCall] = []
        self.bots: dict[str, Bot] = {DEFAULT_TOKEN: Bot("T1", "UBOT", "BBOT")}
        self.messages: dict[str, StoredMessage] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.client_id = "111.222"
        self.client_secret = "client-secret"
        self._failures: list[Failure] = []
        self._ts = itertools.count(1)
        self._changed = asyncio.Condition()
        self._server: TestServer | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self.socket_ready = asyncio.Event()

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/{method}", self._api),
                web.get("/api/{method}", self._api),
                web.get("/files-pri/{name:.+}", self._file),
                web.post("/response/{id}", self._response_url),
                web.get("/link", self._socket),
            ]
        )
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=1.0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._server is not None:
            await self._server.close()

    # -- scripting ------------------------------------------------------------------------

    def fail(self, method: str, error: str, **options: Any) -> None:
        self._failures.append(Failure(method, error, **options))

    def next_ts(self) -> str:
        return f"1700000000.{next(self._ts):06d}"

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U1",
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> str:
        ts = ts or self.next_ts()
        self.messages[ts] = StoredMessage(ts, channel, text, user=user, thread_ts=thread_ts)
        return ts

    def add_file(self, name: str, data: bytes, mimetype: str, filetype: str = "") -> dict[str, Any]:
        key = f"T1-F{len(self.files) + 1}/{name}"
        self.files[key] = (data, mimetype)
        url = f"{self.origin}/files-pri/{key}"
        return {
            "id": f"F{len(self.files)}",
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype or mimetype.split("/")[-1],
            "size": len(data),
            "url_private": url,
            "url_private_download": url + "?download=1",
        }

    def response_url(self, key: str = "cmd1") -> str:
        return f"{self.origin}/response/{key}"

    # -- inspection -----------------------------------------------------------------------

    def calls_to(self, *methods: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method in methods]

    def thread(self, channel: str, thread_ts: str) -> list[StoredMessage]:
        found = [
            m
            for m in self.messages.values()
            if m.channel == channel and (m.ts == thread_ts or m.thread_ts == thread_ts)
        ]
        return sorted(found, key=lambda m: float(m.ts))

    def bot_messages(self, channel: str) -> list[StoredMessage]:
        found = [m for m in self.messages.values() if m.channel == channel and m.bot_id]
        return sorted(found, key=lambda m: float(m.ts))

    async def wait_for(self, method: str, predicate: Any = None, timeout: float = 10) -> SlackCall:
        """The first call to `method` (matching `predicate`), waiting for it if need be."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for call in self.calls:
                    if call.method == method and (predicate is None or predicate(call)):
                        return call
                await self._changed.wait()

    async def until(self, check: Callable[[], T], timeout: float = 10) -> T:
        """`check()` once it is truthy, looked at again after each call the fake has answered."""
        async with asyncio.timeout(timeout), self._changed:
            return await self._changed.wait_for(check)

    async def _changed_now(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- handlers -------------------------------------------------------------------------

    async def _record(self, method: str, args: dict[str, Any], token: str | None) -> SlackCall:
        at = self.clock.monotonic() if self.clock is not None else None
        call = SlackCall(method, args, token, at)
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return call

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(dict(await request.post()))
        for key in _JSON_FIELDS:
            if isinstance(args.get(key), str) and args[key][:1] in "[{":
                args[key] = json.loads(args[key])
        return args

    def _take_failure(self, method: str) -> Failure | None:
        for failure in self._failures:
            if failure.method != method:
                continue
            if failure.skip:
                failure.skip -= 1
                return None
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() or args.pop("token", None)
        await self._record(method, args, token)
        failure = self._take_failure(method)
        if failure is not None:
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            body = {"ok": False, "error": failure.error}
            return web.json_response(body, status=failure.status, headers=headers)
        if method == "oauth.v2.access":
            return web.json_response(self._oauth(args))
        if method == "apps.connections.open":
            if not (token or "").startswith("xapp-"):
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self._port}/link"})
        bot = self.bots.get(token or "")
        if bot is None:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        body = handler(bot, args) if handler is not None else {}
        await self._changed_now()  # what the handler stored (a posted message) can be waited on
        return web.json_response({"ok": True, **body})

    async def _file(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        found = self.files.get(request.match_info["name"])
        if auth not in self.bots or found is None:
            # Slack answers a login page, not an error, without a valid token.
            return web.Response(text="<html>Sign in</html>", content_type="text/html")
        data, mimetype = found
        return web.Response(body=data, content_type=mimetype)

    @property
    def _port(self) -> int:
        assert self._server is not None and self._server.port is not None
        return self._server.port

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver a Socket Mode envelope to the connected app."""
        await self.socket_ready.wait()
        await self._sockets[-1].send_json(envelope)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A1"}}
        )
        self.socket_ready.set()
        async for message in socket:
            if message.type == web.WSMsgType.TEXT:
                await self._record("socket_ack", json.loads(message.data), None)
        return socket

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record("response_url", await request.json(), None)
        return web.Response(text="ok")

    # -- methods --------------------------------------------------------------------------

    def _oauth(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("client_id") != self.client_id or args.get("client_secret") != (
            self.client_secret
        ):
            return {"ok": False, "error": "invalid_client_id"}
        found = self.oauth_codes.pop(str(args.get("code")), None)
        return found if found is not None else {"ok": False, "error": "invalid_code"}

    def _m_auth_test(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://test.slack.com/",
            "team": bot.team_name,
            "user": "unillm",
            "team_id": bot.team_id,
            "user_id": bot.user_id,
            "bot_id": bot.bot_id,
            "is_enterprise_install": False,
        }

    def _post(self, bot: Bot, args: dict[str, Any], text: str, streaming: bool) -> dict[str, Any]:
        ts = self.next_ts()
        channel = str(args.get("channel"))
        self.messages[ts] = StoredMessage(
            ts,
            channel,
            text,
            user=bot.user_id,
            bot_id=bot.bot_id,
            thread_ts=args.get("thread_ts") or None,
            blocks=list(args.get("blocks") or []),
            streaming=streaming,
        )
        return {"channel": channel, "ts": ts, "message": self.messages[ts].wire()}

    def _m_chat_postMessage(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        return self._post(bot, args, str(args.get("text") or ""), False)

    def _m_chat_postEphemeral(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self.next_ts()}

    def _m_chat_update(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[str(args["ts"])]
        message.text = str(args.get("text") or "")
        message.blocks = list(args.get("blocks") or [])
        return {"channel": message.channel, "ts": message.ts, "text": message.text}

    def _m_chat_delete(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        self.messages.pop(str(args["ts"]), None)
        return {"channel": args.get("channel"), "ts": args.get("ts")}

    def _m_chat_startStream(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        call = SlackCall("chat.startStream", args, None, None)
        return self._post(bot, args, call.text, True)

    def _m_chat_appendStream(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[str(args["ts"])]
        message.text += SlackCall("chat.appendStream", args, None, None).text
        return {"channel": message.channel, "ts": message.ts}

    def _m_chat_stopStream(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages[str(args["ts"])]
        message.text += SlackCall("chat.stopStream", args, None, None).text
        message.blocks += list(args.get("blocks") or [])  # shown under the finished message
        message.streaming = False
        return {"channel": message.channel, "ts": message.ts, "message": message.wire()}

    def _m_conversations_replies(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        thread = self.thread(str(args.get("channel")), str(args.get("ts")))
        return {"messages": [m.wire() for m in thread], "has_more": False}

    def _m_assistant_threads_setStatus(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _m_assistant_threads_setSuggestedPrompts(
        self, bot: Bot, args: dict[str, Any]
    ) -> dict[str, Any]:
        return {}

    def _m_assistant_threads_setTitle(self, bot: Bot, args: dict[str, Any]) -> dict[str, Any]:
        return {}
