"""The `[connectors.webhooks]` section: typed by the hub's settings loader."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from hub.config import MIB, ConnectorSection, body_limit


class WebhooksConfig(ConnectorSection):
    rotation_grace_hours: float = Field(
        24,
        gt=0,
        le=24 * 365,
        description="After `hub webhook rotate-secret`, the old secret keeps verifying this long.",
    )
    duplicate_wait_s: float = Field(
        30,
        gt=0,
        le=3600,
        description="A repeated webhook-id waits this long for the first answer, else 409.",
    )
    max_body_bytes: int = body_limit(MIB, route="POST /hooks/<id>")

    @property
    def rotation_grace(self) -> timedelta:
        return timedelta(hours=self.rotation_grace_hours)
