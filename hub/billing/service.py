"""Billing's services, composed once per hub (`hub.billing`), and the monthly invoice job."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.accounts import BillingAccounts
from hub.billing.catalog import PriceCatalog
from hub.billing.exports import UsageExporter
from hub.billing.invoice_math import InvoiceFigures
from hub.billing.invoices import Invoices, period_of, previous_period
from hub.billing.plans import Plans, PlanTerms
from hub.billing.platform import PaymentPlatform
from hub.billing.price_book import PriceBook
from hub.billing.reconcile import Reconciliation, reconcile
from hub.clock import Clock
from hub.config import BillingSettings
from hub.events.outbox import EventSink
from hub.ledger.teams import Teams
from hub.scheduled_once import ScheduledOnce
from hub.store.ledger_tables import Team

log = logging.getLogger("hub.billing")
INVOICE_JOB = "invoice-generate"


class Billing:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        settings: BillingSettings,
        catalog: PriceCatalog,
        prices: PriceBook,
        teams: Teams,
        jobs: ScheduledOnce,
        events: EventSink,
        find_platform: Callable[[], PaymentPlatform | None],
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._teams = teams
        self._jobs = jobs
        self._find_platform = find_platform
        self._platform: PaymentPlatform | None = None
        self._looked = False
        self.settings = settings
        self.catalog = catalog
        self.prices = prices
        self.plans = Plans(sessions, clock)
        self.accounts = BillingAccounts(
            sessions, clock, suspend_after_days=settings.suspend_after_days
        )
        self.invoices = Invoices(
            sessions,
            clock,
            prices=prices,
            plans=self.plans,
            accounts=self.accounts,
            events=events,
            prefix=settings.invoice_prefix,
            currency=settings.currency,
        )
        self.exporter = UsageExporter(sessions, clock)

    def platform(self) -> PaymentPlatform | None:
        """The configured payment platform (Stripe), found once through the plugins."""
        if not self._looked:
            self._platform = self._find_platform()
            self._looked = True
        return self._platform

    async def close(self) -> None:
        if self._platform is not None:
            await self._platform.close()

    async def subscribe(
        self, team: Team, plan: str, *, start: date
    ) -> tuple[PlanTerms, str | None]:
        """Put the team on the plan; with a payment platform, map it to a customer (created
        when the team has none). The plan and the customer id."""
        terms = await self.plans.subscribe(team, plan, start=start)
        customer = await self.ensure_customer(team)
        return terms, customer

    async def ensure_customer(self, team: Team) -> str | None:
        account = await self.accounts.get(team.id)
        if account.stripe_customer_id:
            return account.stripe_customer_id
        platform = self.platform()
        if platform is None:
            return None
        customer = await platform.ensure_customer(
            team_id=team.id, team_name=team.name, email=account.email, name=account.name
        )
        await self.accounts.update(team, stripe_customer_id=customer)
        return customer

    async def estimate(self, team_id: int) -> InvoiceFigures:
        """The open month's bill so far (what the draft invoice would say now)."""
        now = self._clock.now()
        return await self.invoices.figures(team_id, period_of(now), until=now)

    async def plan_and_estimate(self, team_id: int) -> tuple[str | None, int]:
        """For /ask usage and /usage: the team's plan today (None: no plan) and the open
        month's invoice total so far, in micro-dollars (rounded to cents like the invoice).
        From the hourly rollups: a few rows per hour and deployment, not every record
        (rollup_counts.py), since chat commands ask for it on every `/usage`."""
        now = self._clock.now()
        plan = await self.plans.current(team_id, now.date())
        figures = await self.invoices.figures(team_id, period_of(now), until=now, from_rollups=True)
        return (plan.name if plan else None), figures.total_micros

    async def standing(self, team: Team) -> dict[str, object]:
        """The team's billing details and standing now, as `hub team billing --json` and the
        admin API show it: status is `suspended` once the grace after a failed payment ran out."""
        account = await self.accounts.get(team.id)
        now = self._clock.now()
        suspended = account.suspended_since(self.accounts.grace)
        plan = await self.plans.current(team.id, now.date())
        return {
            "team": team.name,
            **account.bill_to(),
            "stripe_customer_id": account.stripe_customer_id,
            "status": "suspended" if suspended is not None and now >= suspended else account.status,
            "payment_failed_at": _iso(account.payment_failed_at),
            "plan": plan.name if plan else None,
        }

    async def reconcile(self, period: str, *, team_id: int | None = None) -> list[Reconciliation]:
        return await reconcile(
            self._sessions, await self.prices.ready(), period=period, team_id=team_id
        )

    async def monthly_invoices(self) -> int:
        """The scheduler's job (00:10 UTC on the 1st): last month's invoices, once across all
        processes. How many were issued."""
        period = previous_period(self._clock.now())
        if not await self._jobs.claim(INVOICE_JOB, period=period):
            return 0
        results = await self.invoices.generate(period, teams=await self._teams.list())
        issued = sum(1 for state, _ in results if state == "issued")
        log.info("issued %d invoice(s) for %s", issued, period)
        return issued

    async def export_usage(self) -> None:
        platform = self.platform()
        if platform is not None:
            report = await self.exporter.run_once(platform)
            if report.attempted:
                log.info("usage export: %s", report)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
