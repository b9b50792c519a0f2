"""The contract (issue #13): subscription, Zapier hook and webhook callback URLs that resolve
to an address class the hub must not call, in any form, or that are not valid names, get 400
naming the field, in each connector's format; nothing is stored."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest_asyncio
from standardwebhooks import Webhook

from connectors.admin_api import plugin as admin_api
from connectors.webhooks import plugin as webhooks
from connectors.zapier import plugin as zapier
from hub.inbound_hooks import InboundHooks
from tests.support.hubs import SECRET_KEY, RunningHub, start_hub

OPERATOR_KEY = "operator-key-for-ssrf-tests-0123456789ab"
TARGETS = [
    "http://100.100.100.200/latest/meta-data",  # carrier-grade NAT: a cloud metadata address
    "http://[2002:7f00:1::]/x",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::]/x",  # 6to4 of 169.254.169.254
    "http://[::ffff:10.0.0.1]/x",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",  # Teredo of 127.0.0.1
    "http://198.18.0.1/x",
    "http://a..b/x",  # not a valid name
    "http://xn--a.com/x",  # not valid IDNA
]


@pytest_asyncio.fixture
async def served(sqlite_url: str) -> AsyncIterator[RunningHub]:
    running = await start_hub(
        {
            "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
            "webhooks": {"allow_private_targets": False},
            "connectors": {"zapier": {"enabled": True}, "webhooks": {"enabled": True}},
        },
        database_url=sqlite_url,
    )
    await running.serve(plugins=[admin_api, zapier, webhooks])
    try:
        yield running
    finally:
        await running.close()


async def test_refused_targets_get_400_naming_the_field(served: RunningHub) -> None:
    hooks = InboundHooks.for_hub(served.hub)
    issued = await hooks.create(served.team, name="ci")
    admin = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    async with served.client() as c:
        for n, url in enumerate(TARGETS):
            subscription = await c.post(
                f"/admin/api/v1/teams/{served.team.id}/subscriptions",
                json={"url": url, "events": ["key.created"]},
                headers=admin,
            )
            hook = await c.post(
                "/zapier/hooks",
                json={"event": "new_completion", "target_url": url},
                headers={"X-API-Key": served.key.key},
            )
            body = json.dumps({"input": "hi", "callback_url": url})
            msg_id = f"msg_{n}"
            callback = await c.post(
                issued.hook.url,
                content=body,
                headers={
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(int(served.clock.now().timestamp())),
                    "webhook-signature": Webhook(issued.secret).sign(
                        msg_id, served.clock.now(), body
                    ),
                },
            )
            for answer, field in (
                (subscription, "url"),
                (hook, "target_url"),
                (callback, "callback_url"),
            ):
                assert answer.status_code == 400, (url, answer.text)
                error = answer.json()["error"]
                assert error["field"] == field, (url, error)
                assert url[:20] in error["message"], (url, error)
        listed = await c.get(f"/admin/api/v1/teams/{served.team.id}/subscriptions", headers=admin)
    assert listed.json() == {"data": []}
