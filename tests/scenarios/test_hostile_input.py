"""Every example of issue #13 that used to be a 500 with an ERROR traceback: each is now the
route's 4xx in its connector's format, logged without a traceback. A genuine bug (a handler
that raises) is one ERROR with its traceback and a 500 in the connector's format that names
the request id."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest_asyncio
from aiohttp import web
from nacl.encoding import HexEncoder
from nacl.signing import SigningKey
from standardwebhooks import Webhook

from connectors.admin_api import plugin as admin_api
from connectors.discord import plugin as discord
from connectors.openai_api import plugin as openai_api
from connectors.slack import plugin as slack
from connectors.slack.verify import sign
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.errors import HubError
from hub.inbound_hooks import InboundHooks
from hub.service import Hub
from tests.support.hubs import SECRET_KEY, RunningHub, start_hub
from tests.support.logs import LogCapture

SLACK_SECRET = "slack-signing-secret"
OPERATOR_KEY = "operator-key-for-hostile-tests-0123456789"
DISCORD_KEY = SigningKey(b"\x02" * 32)
DEEP = ('{"a":' * 3000 + "1" + "}" * 3000).encode()


class BuggyConnector:
    """A connector with a bug, to see the boundary answer for it."""

    name = "buggy"

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.get("/buggy", self.handle)]

    async def handle(self, request: web.Request) -> web.Response:
        raise RuntimeError("a genuine bug")

    def error_response(self, error: HubError) -> web.StreamResponse:
        return web.json_response({"buggy_error": error.user_message}, status=error.status)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class BuggyPlugin:
    name = "buggy"
    enabled_by_default = True

    def create(self, hub: Hub, section: object) -> BuggyConnector:
        return BuggyConnector()

    def commands(self) -> Sequence[Any]:
        return ()


@pytest_asyncio.fixture
async def served(database_url: str) -> AsyncIterator[RunningHub]:
    running = await start_hub(
        {
            "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
            "connectors": {
                "zapier": {"enabled": True},
                "webhooks": {"enabled": True},
                "slack": {
                    "enabled": True,
                    "signing_secret": SLACK_SECRET,
                    "bot_token": "xoxb-test",
                    "api_base_url": "http://127.0.0.1:9/",
                },
                "discord": {
                    "enabled": True,
                    "application_id": "123456789",
                    "public_key": DISCORD_KEY.verify_key.encode(HexEncoder).decode(),
                },
            },
        },
        database_url=database_url,
    )
    plugins: list[Any] = [openai_api, admin_api, zapier, webhooks, slack, discord, BuggyPlugin()]
    await running.serve(plugins=plugins)
    try:
        yield running
    finally:
        await running.close()


def no_tracebacks(logs: LogCapture) -> list[str]:
    return [r.getMessage() for r in logs.records if r.levelname == "ERROR" or r.exc_info]


def slack_signed(body: bytes, now: float) -> dict[str, str]:
    stamp = str(int(now))
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": sign(SLACK_SECRET, stamp, body),
        "Content-Type": "application/json",
    }


def discord_signed(body: bytes, now: float) -> dict[str, str]:
    stamp = str(int(now))
    return {
        "X-Signature-Timestamp": stamp,
        "X-Signature-Ed25519": DISCORD_KEY.sign(stamp.encode() + body).signature.hex(),
    }


async def test_unauthenticated_header_garbage_is_401(served: RunningHub, logs: LogCapture) -> None:
    now = str(int(served.clock.now().timestamp()))
    async with served.client() as c:
        slack_r = await c.post(
            "/slack/events",
            content=b"{}",
            headers={"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=\u00e9".encode()},
        )
        discord_rs = [
            await c.post(
                "/discord/interactions",
                content=b"{}",
                headers={"X-Signature-Timestamp": stamp, "X-Signature-Ed25519": "00" * 64},
            )
            for stamp in ("²".encode(), b"4" * 400, b"4" * 5000)
        ]
    assert slack_r.status_code == 401 and slack_r.json()["error"] == "invalid_signature"
    for answer in discord_rs:
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid request signature"}
    assert no_tracebacks(logs) == []


async def test_signed_malformed_platform_payloads_are_400(
    served: RunningHub, logs: LogCapture
) -> None:
    now = served.clock.now().timestamp()
    # What Bolt would choke on before any listener runs (a well-formed object goes on to
    # Bolt; the fuzz tests cover those).
    for_slack = [DEEP, b"[]", b"1", b"\xff", b'{"a": "\\u0000"}']
    for_discord = [*for_slack, b'{"type": "x"}', b'{"type": 2, "data": []}', b'{"id": {}}']
    form = b"payload=" + DEEP
    async with served.client() as c:
        for body in for_slack:
            slack_r = await c.post("/slack/events", content=body, headers=slack_signed(body, now))
            assert slack_r.status_code == 400, (body[:40], slack_r.text)
            assert slack_r.json()["error"] == "invalid_body"
        slack_form = await c.post(
            "/slack/events",
            content=form,
            headers={
                **slack_signed(form, now),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        assert slack_form.status_code == 400, slack_form.text
        for body in for_discord:
            discord_r = await c.post(
                "/discord/interactions", content=body, headers=discord_signed(body, now)
            )
            assert discord_r.status_code == 400, (body[:40], discord_r.text)
            assert "error" in discord_r.json()
    assert no_tracebacks(logs) == []


OPENAI_BAD = [
    (DEEP, "body"),
    (b'{"model": "demo", "messages": [{"role": {}, "content": "hi"}]}', "messages"),
    (b'{"model": "demo", "messages": [{"role": ["user"], "content": "hi"}]}', "messages"),
    (b'{"model": "demo", "messages": [{"role": "user", "content": "\\ud800"}]}', "messages"),
    (
        b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": '
        + str(2**63).encode()
        + b"}",
        "max_tokens",
    ),
    (
        b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": '
        + b"9" * 5000
        + b"}",
        "max_tokens",
    ),
    (
        b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}], "max_tokens": true}',
        "max_tokens",
    ),
]


async def test_openai_api_refuses_each_example_by_field(
    served: RunningHub, logs: LogCapture
) -> None:
    bearer = {"Authorization": f"Bearer {served.key.key}"}
    async with served.client() as c:
        for body, field in OPENAI_BAD:
            answer = await c.post("/v1/chat/completions", content=body, headers=bearer)
            assert answer.status_code == 400, (body[:60], answer.text)
            error = answer.json()["error"]
            assert error["type"] == "invalid_request_error"
            assert (error["param"] or "").startswith(field), (body[:60], error)
    assert no_tracebacks(logs) == []


async def test_webhooks_and_zapier_refuse_each_example_by_field(
    served: RunningHub, logs: LogCapture
) -> None:
    hooks = InboundHooks.for_hub(served.hub)
    issued = await hooks.create(served.team, name="ci")
    bodies: list[tuple[bytes, str]] = [
        (DEEP, "body"),
        (json.dumps({"input": "hi", "max_tokens": 2**63}).encode(), "max_tokens"),
        (json.dumps({"input": "hi", "max_tokens": True}).encode(), "max_tokens"),
        (json.dumps({"messages": [{"role": {}, "content": "hi"}]}).encode(), "messages[0].role"),
        (json.dumps({"messages": [{"role": ["user"], "content": "x"}]}).encode(), "messages[0]"),
    ]
    async with served.client() as c:
        for n, (body, field) in enumerate(bodies):
            when = served.clock.now()
            headers = {
                "webhook-id": f"msg_{n}",
                "webhook-timestamp": str(int(when.timestamp())),
                "webhook-signature": Webhook(issued.secret).sign(f"msg_{n}", when, body.decode()),
            }
            hook = await c.post(issued.hook.url, content=body, headers=headers)
            assert hook.status_code == 400, (body[:60], hook.text)
            assert hook.json()["error"]["field"].startswith(field), hook.json()
        for body, field in [
            (DEEP, "body"),
            (b'{"prompt": "hi", "max_tokens": 9223372036854775808}', "max_tokens"),
            (b'{"prompt": "hi", "max_tokens": true}', "max_tokens"),
        ]:
            zap = await c.post(
                "/zapier/actions/ask", content=body, headers={"X-API-Key": served.key.key}
            )
            assert zap.status_code == 400, (body[:60], zap.text)
            assert zap.json()["error"]["field"] == field
    assert no_tracebacks(logs) == []


async def test_a_member_patched_while_being_deleted_is_never_a_500(served: RunningHub) -> None:
    members = [await served.hub.members.add(served.team, f"racer-{i}") for i in range(6)]
    base = f"/admin/api/v1/teams/{served.team.id}/members"
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    async with served.client(headers=operator) as c:
        answers = await asyncio.gather(
            *(c.delete(f"{base}/{m.id}") for m in members),
            *(c.patch(f"{base}/{m.id}", json={"role": "viewer"}) for m in members),
        )
    statuses = sorted({a.status_code for a in answers})
    assert set(statuses) <= {200, 204, 404}, [(a.status_code, a.text) for a in answers]


async def test_a_genuine_bug_is_one_error_and_a_500_in_the_connectors_format(
    served: RunningHub, logs: LogCapture
) -> None:
    started = time.monotonic()
    async with served.client() as c:
        answer = await c.get("/buggy", headers={"X-Request-ID": "req-bug-1"})
    assert answer.status_code == 500
    assert "req-bug-1" in answer.json()["buggy_error"]
    errors = [r for r in logs.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert "req-bug-1" in errors[0].getMessage()
    assert time.monotonic() - started < 30
