"""What billing needs from a payment platform (Stripe is one, in connectors/stripe): a customer
per team and one meter event per usage record and token type. The hub finds the platform
through a connector plugin's optional `payment_platform(hub)` hook, never by import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol


@dataclass(frozen=True, slots=True)
class MeterEvent:
    identifier: str  # deterministic: the platform de-duplicates a resend
    customer_id: str
    token_type: str
    model: str
    value: int
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class MeterOutcome:
    # accepted, or duplicate (the platform had it already: delivered too); retry later;
    # rejected for good (the event itself is wrong: retrying cannot help).
    kind: Literal["accepted", "duplicate", "retry", "rejected"]
    error: str | None = None
    retry_after: float | None = None
    status_code: int | None = None


class PaymentPlatform(Protocol):
    name: str

    async def ensure_customer(
        self, *, team_id: int, team_name: str, email: str, name: str
    ) -> str: ...

    async def send_meter_event(self, event: MeterEvent) -> MeterOutcome: ...

    async def close(self) -> None: ...
