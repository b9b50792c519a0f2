"""Per-route body limits (issue #13): headers are checked before the body is read, a declared
or streamed body over the route's `max_body_bytes` gets 413 in that connector's error format,
and nothing is claimed, spent or called."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from nacl.encoding import HexEncoder
from nacl.signing import SigningKey
from sqlalchemy import func, select
from standardwebhooks import Webhook

from connectors.admin_api import plugin as admin_api
from connectors.discord import plugin as discord
from connectors.openai_api import plugin as openai_api
from connectors.slack import plugin as slack
from connectors.slack.verify import sign
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.inbound_hooks import InboundHooks
from hub.store.ledger_tables import UsageRecord
from hub.store.platform_tables import Delivery
from tests.support.hubs import SECRET_KEY, RunningHub, start_hub
from tests.support.logs import LogCapture

LIMIT = 4096
OVER = b'{"pad": "' + b"x" * (LIMIT * 4) + b'"}'
SLACK_SECRET = "slack-signing-secret"
OPERATOR_KEY = "operator-key-for-body-limits-0123456789"
SIGNING_KEY = SigningKey(b"\x01" * 32)


@pytest_asyncio.fixture
async def served(sqlite_url: str) -> AsyncIterator[RunningHub]:
    limit = {"max_body_bytes": LIMIT}
    running = await start_hub(
        {
            "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
            "connectors": {
                "openai_api": {"enabled": True, **limit},
                "admin_api": {"enabled": True, **limit},
                "zapier": {"enabled": True, **limit},
                "webhooks": {"enabled": True, **limit},
                "slack": {
                    "enabled": True,
                    "signing_secret": SLACK_SECRET,
                    "bot_token": "xoxb-test",
                    "api_base_url": "http://127.0.0.1:9/",
                    **limit,
                },
                "discord": {
                    "enabled": True,
                    "application_id": "123456789",
                    "public_key": SIGNING_KEY.verify_key.encode(HexEncoder).decode(),
                    **limit,
                },
            },
        },
        database_url=sqlite_url,
    )
    await running.serve(plugins=[openai_api, admin_api, zapier, webhooks, slack, discord])
    try:
        yield running
    finally:
        await running.close()


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    # No Content-Length: the hub learns the size only by reading.
    for start in range(0, len(body), 1000):
        yield body[start : start + 1000]


async def _nothing_happened(running: RunningHub) -> None:
    async with running.hub.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        assert await session.scalar(select(func.count()).select_from(UsageRecord)) == 0


def _slack_headers(now: float) -> dict[str, str]:
    stamp = str(int(now))
    signature = sign(SLACK_SECRET, stamp, OVER)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}


def _discord_headers(now: float) -> dict[str, str]:
    stamp = str(int(now))
    signature = SIGNING_KEY.sign(stamp.encode() + OVER).signature.hex()
    return {"X-Signature-Timestamp": stamp, "X-Signature-Ed25519": signature}


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_signed_platform_bodies_over_the_limit_get_413(
    served: RunningHub, chunked: bool, logs: LogCapture
) -> None:
    now = served.clock.now().timestamp()
    async with served.client() as c:

        def body() -> Any:
            return _chunked(OVER) if chunked else OVER

        slack_r = await c.post("/slack/events", content=body(), headers=_slack_headers(now))
        discord_r = await c.post(
            "/discord/interactions", content=body(), headers=_discord_headers(now)
        )
    assert slack_r.status_code == 413
    assert slack_r.json()["error"] == "payload_too_large"
    assert discord_r.status_code == 413
    assert f"{LIMIT:,} bytes" in discord_r.json()["error"]
    await _nothing_happened(served)
    assert not [r for r in logs.records if r.levelname == "ERROR" or r.exc_info]


async def test_unsigned_platform_requests_are_refused_on_their_headers(
    served: RunningHub,
) -> None:
    """No signature headers, or ones that cannot be right: 401 whatever the body's size."""
    stale = served.clock.now().timestamp() - 3600
    async with served.client() as c:
        answers = [
            await c.post("/slack/events", content=OVER),
            await c.post("/slack/events", content=OVER, headers=_slack_headers(stale)),
            await c.post("/discord/interactions", content=OVER),
            await c.post("/discord/interactions", content=OVER, headers=_discord_headers(stale)),
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 401]
    await _nothing_happened(served)


async def test_webhook_body_over_the_limit_gets_413_in_its_format(served: RunningHub) -> None:
    hooks = InboundHooks.for_hub(served.hub)
    issued = await hooks.create(served.team, name="ci")
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(served.clock.now().timestamp())),
        "webhook-signature": Webhook(issued.secret).sign("msg_1", served.clock.now(), "x"),
    }
    async with served.client() as c:
        unsigned = await c.post(issued.hook.url, content=OVER)
        declared = await c.post(issued.hook.url, content=OVER, headers=headers)
        streamed = await c.post(issued.hook.url, content=_chunked(OVER), headers=headers)
    assert unsigned.status_code == 401
    for answer in (declared, streamed):
        assert answer.status_code == 413
        assert answer.json()["error"] == {
            "message": f"The request body is larger than {LIMIT:,} bytes, the most this route "
            "accepts.",
            "code": "request_too_large",
            "field": "body",
        }
    await _nothing_happened(served)


async def test_keyed_apis_refuse_large_bodies_with_413_in_their_formats(
    served: RunningHub,
) -> None:
    bearer = {"Authorization": f"Bearer {served.key.key}"}
    async with served.client() as c:
        no_key = await c.post("/v1/chat/completions", content=OVER)
        chat = await c.post("/v1/chat/completions", content=OVER, headers=bearer)
        streamed = await c.post("/v1/embeddings", content=_chunked(OVER), headers=bearer)
        zap = await c.post(
            "/zapier/actions/ask", content=OVER, headers={"X-API-Key": served.key.key}
        )
        admin = await c.post(
            "/admin/api/v1/teams",
            content=OVER,
            headers={"Authorization": f"Bearer {OPERATOR_KEY}"},
        )
    assert no_key.status_code == 401
    for answer in (chat, streamed):
        assert answer.status_code == 413
        error = answer.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "invalid_request_error",
            "request_too_large",
            "body",
        )
    for answer in (zap, admin):
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "request_too_large"
    await _nothing_happened(served)


async def test_bodies_within_the_limit_still_work(served: RunningHub) -> None:
    async with served.client() as c:
        chat = await c.post(
            "/v1/chat/completions",
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {served.key.key}"},
        )
        body = b'{"id": "1", "type": 1, "application_id": "1"}'
        stamp = str(int(served.clock.now().timestamp()))
        ping = await c.post(
            "/discord/interactions",
            content=body,
            headers={
                "X-Signature-Timestamp": stamp,
                "X-Signature-Ed25519": SIGNING_KEY.sign(stamp.encode() + body).signature.hex(),
            },
        )
    assert chat.status_code == 200, chat.text
    assert ping.json() == {"type": 1}


async def test_api_bodies_past_the_app_wide_form_limit_are_read_by_their_route(
    sqlite_url: str,
) -> None:
    """The app's client_max_size (1 MiB) bounds only request.post(); /v1 reads up to its own
    20 MiB default."""
    running = await start_hub({}, database_url=sqlite_url)
    await running.serve()
    try:
        body = b'{"model": "demo", "messages": [{"role": "user", "content": "hi"}]}'
        async with running.client() as c:
            answer = await c.post(
                "/v1/chat/completions",
                content=body + b" " * (3 * 1024 * 1024),  # JSON may end in whitespace
                headers={"Authorization": f"Bearer {running.key.key}"},
            )
        assert answer.status_code == 200, answer.text
    finally:
        await running.close()
