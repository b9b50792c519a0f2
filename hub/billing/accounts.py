"""A team's billing account: details printed on invoices, the payment-platform customer, and
the payment standing that can suspend the team.

Payment events arrive from the platform (the Stripe connector) and are applied once each: a
replayed event id changes nothing, and an event older than the last one applied is ignored.
A team whose payment has failed for more than `[billing] suspend_after_days` is refused until
a payment succeeds or an admin lifts the suspension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, BillingSuspended
from hub.store.billing_tables import BillingAccount, PaymentEvent
from hub.store.ledger_tables import Team
from hub.ttl_cache import TTLCache

PaymentKind = Literal["paid", "payment_failed", "subscription_deleted"]


@dataclass(frozen=True, slots=True)
class AccountView:
    team_id: int
    name: str
    address: str
    email: str
    tax_id: str
    stripe_customer_id: str | None
    export_from: date | None
    status: str
    payment_failed_at: datetime | None
    lifted_at: datetime | None

    def suspended_since(self, grace: timedelta) -> datetime | None:
        """When the grace period ran out, if the team is suspended."""
        failed = self.payment_failed_at
        if failed is None or (self.lifted_at is not None and self.lifted_at >= failed):
            return None
        return failed + grace

    def bill_to(self) -> dict[str, str]:
        return {
            "name": self.name,
            "address": self.address,
            "email": self.email,
            "tax_id": self.tax_id,
        }


def _view(team_id: int, row: BillingAccount | None) -> AccountView:
    if row is None:
        return AccountView(team_id, "", "", "", "", None, None, "active", None, None)
    return AccountView(
        team_id=team_id,
        name=row.name,
        address=row.address,
        email=row.email,
        tax_id=row.tax_id,
        stripe_customer_id=row.stripe_customer_id,
        export_from=row.export_from,
        status=row.status,
        payment_failed_at=row.payment_failed_at,
        lifted_at=row.lifted_at,
    )


class BillingAccounts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        suspend_after_days: int,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self.grace = timedelta(days=suspend_after_days)
        self._cache: TTLCache[int, AccountView] = TTLCache(clock, 5.0)

    async def get(self, team_id: int) -> AccountView:
        async with self._sessions() as session:
            return _view(team_id, await session.get(BillingAccount, team_id))

    async def by_customer(self, customer_id: str) -> AccountView | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(BillingAccount).where(BillingAccount.stripe_customer_id == customer_id)
            )
        return None if row is None else _view(row.team_id, row)

    async def update(self, team: Team, **values: str | None) -> AccountView:
        """Set billing details (name, address, email, tax_id, stripe_customer_id)."""
        allowed = {"name", "address", "email", "tax_id", "stripe_customer_id"}
        assert set(values) <= allowed
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                row = await _row(session, team.id, now)
                before = {k: getattr(row, k) for k in values}
                for key, value in values.items():
                    setattr(row, key, value)
                if values.get("stripe_customer_id") and row.export_from is None:
                    row.export_from = now.date().replace(day=1)
                row.updated_at = now
                await session.flush()
                await audit.record(
                    session,
                    now=now,
                    action="team.billing",
                    team_id=team.id,
                    target=f"team:{team.name}",
                    before=before,
                    after=dict(values),
                )
                view = _view(team.id, row)
        except IntegrityError as exc:
            raise BadRequest(
                f"Stripe customer {values.get('stripe_customer_id')} belongs to another team."
            ) from exc
        self._cache.invalidate(team.id)
        return view

    async def apply_payment_event(
        self, *, event_id: str, kind: PaymentKind, customer_id: str, occurred_at: datetime
    ) -> Literal["applied", "replayed", "unknown_customer", "stale"]:
        now = self._clock.now()
        try:
            async with self._sessions.begin() as session:
                row = await session.scalar(
                    select(BillingAccount).where(BillingAccount.stripe_customer_id == customer_id)
                )
                session.add(
                    PaymentEvent(
                        event_id=event_id,
                        type=kind,
                        team_id=row.team_id if row else None,
                        occurred_at=occurred_at,
                        received_at=now,
                    )
                )
                await session.flush()  # a replayed event id stops here
                if row is None:
                    return "unknown_customer"
                if row.status_event_at is not None and occurred_at < row.status_event_at:
                    return "stale"
                _apply(row, kind, occurred_at)
                row.status_event_at = occurred_at
                row.updated_at = now
                team_id = row.team_id
        except IntegrityError:
            return "replayed"
        self._cache.invalidate(team_id)
        return "applied"

    async def lift(self, team: Team) -> AccountView:
        """An admin lets a suspended team ask again (until the next failed payment)."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await _row(session, team.id, now)
            row.lifted_at = now
            row.updated_at = now
            await audit.record(
                session,
                now=now,
                action="team.billing.lift",
                team_id=team.id,
                target=f"team:{team.name}",
                after={"lifted_at": now.isoformat()},
            )
            view = _view(team.id, row)
        self._cache.invalidate(team.id)
        return view

    async def check(self, team_id: int, team_name: str) -> None:
        """Raise BillingSuspended when the team's grace period after a failed payment is over."""
        view = await self._cache.get(team_id, lambda: self.get(team_id))
        since = view.suspended_since(self.grace)
        if since is None or self._clock.now() < since:
            return
        assert view.payment_failed_at is not None
        days = self.grace.days
        raise BillingSuspended(
            f"Team '{team_name}' is suspended: its payment failed on "
            f"{view.payment_failed_at:%Y-%m-%d} and is still unpaid after {days} "
            f"day{'s' if days != 1 else ''}. Update the payment method, or ask a hub admin "
            "to lift the suspension."
        )


def _apply(row: BillingAccount, kind: PaymentKind, at: datetime) -> None:
    if kind == "paid":
        row.status = "active"
        row.payment_failed_at = None
    elif kind == "payment_failed":
        lifted = row.lifted_at is not None and (
            row.payment_failed_at is None or row.lifted_at >= row.payment_failed_at
        )
        if row.payment_failed_at is None or lifted:
            row.payment_failed_at = at  # the grace period counts from the first failure
        if lifted:
            row.lifted_at = None
        row.status = "past_due"
    else:
        row.status = "cancelled"


async def _row(session: AsyncSession, team_id: int, now: datetime) -> BillingAccount:
    row = await session.get(BillingAccount, team_id)
    if row is None:
        row = BillingAccount(team_id=team_id, status="active", updated_at=now)
        session.add(row)
    return row
