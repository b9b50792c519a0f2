"""A served hub with the webhooks connector, a hook, and a sender that signs like a client
library of the Standard Webhooks spec would (`standardwebhooks.Webhook.sign`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from standardwebhooks import Webhook

from connectors.webhooks import plugin as webhooks_plugin
from connectors.webhooks.plugin import WebhooksConnector
from hub.inbound_hooks import InboundHooks, IssuedHook
from hub.store.ledger_tables import UsageRecord
from hub.store.platform_tables import Delivery
from hub.web import CONNECTORS_KEY
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub


def config_for(base_url: str, *, allow_private: bool = True) -> dict[str, Any]:
    """Prompt tokens cost 1 micro-dollar each and completion tokens 2 (USD 1 and 2 per M)."""
    return {
        "webhooks": {"allow_private_targets": allow_private},
        "providers": {"up": openai_provider_config(base_url)},
        "models": {"gpt": model_config(("up", "gpt-x", 1.0, 2.0))},
    }


@dataclass
class HookRig:
    running: RunningHub
    issued: IssuedHook

    @property
    def url(self) -> str:
        return self.running.base_url + self.issued.hook.url

    @property
    def connector(self) -> WebhooksConnector:
        assert self.running.runner is not None
        [connector] = self.running.runner.app[CONNECTORS_KEY]
        assert isinstance(connector, WebhooksConnector)
        return connector

    def sign(
        self,
        body: bytes,
        *,
        secret: str | None = None,
        msg_id: str | None = None,
        at: datetime | None = None,
        shift: timedelta = timedelta(0),
    ) -> dict[str, str]:
        msg_id = msg_id or "msg_" + secrets.token_hex(8)
        when = (at or self.running.clock.now()) + shift
        signature = Webhook(secret or self.issued.secret).sign(msg_id, when, body.decode())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
        }

    async def post(
        self, payload: Any, *, headers: dict[str, str] | None = None, **sign: Any
    ) -> httpx.Response:
        body = json.dumps(payload).encode()
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(
                self.url, content=body, headers=headers or self.sign(body, **sign)
            )

    async def usage_rows(self) -> list[UsageRecord]:
        async with self.running.hub.sessions() as session:
            return list(await session.scalars(select(UsageRecord).order_by(UsageRecord.id)))

    async def claims(self) -> int:
        async with self.running.hub.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Delivery)) or 0)


async def hook_rig(
    config: dict[str, Any], *, database_url: str, model: str | None = "gpt", **kwargs: Any
) -> HookRig:
    running = await start_hub(config, database_url=database_url, **kwargs)
    hooks = InboundHooks.for_hub(running.hub)
    issued = await hooks.create(running.team, name="ci", model=model)
    await running.serve(plugins=[webhooks_plugin])
    return HookRig(running, issued)
