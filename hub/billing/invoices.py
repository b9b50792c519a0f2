"""Invoices from the ledger: generated per team and month, numbered without gaps when issued.

The open month gets a draft (no number) that every later generation replaces, so a team can
see its bill so far; a closed month gets an issued invoice with the next number of the
sequence, announced as `invoice.created`. An issued invoice never changes: it can only be
voided (its number stays used), after which generating the month again issues a new one.
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.billing.accounts import BillingAccounts
from hub.billing.invoice_math import InvoiceFigures, Line, invoice_figures, month_bounds
from hub.billing.plans import Plans
from hub.billing.price_book import PriceBook
from hub.billing.rollup_counts import rollup_priced_counts
from hub.billing.usage_counts import priced_counts
from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.events.outbox import EventSink
from hub.ledger.money import micros_to_usd
from hub.store.billing_tables import Invoice, InvoiceCounter, InvoiceLine
from hub.store.ledger_tables import Team

COUNTER = "invoice"


@dataclass(frozen=True, slots=True)
class InvoiceView:
    id: int
    number: str | None
    team: str
    team_id: int
    period: str
    status: str
    currency: str
    bill_to: dict[str, str]
    lines: tuple[Line, ...]
    subtotal_micros: int
    rounding_micros: int
    total_micros: int
    issued_at: datetime | None
    created_at: datetime

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "number": self.number,
            "team": self.team,
            "period": self.period,
            "status": self.status,
            "currency": self.currency,
            "bill_to": self.bill_to,
            "issued_at": self.issued_at.isoformat() if self.issued_at else None,
            "lines": [
                {
                    "description": line.description,
                    "kind": line.kind,
                    "model": line.model,
                    "token_type": line.token_type,
                    "quantity": line.quantity,
                    "unit_price_usd": float(line.unit_price_usd),
                    "unit_price_usd_exact": str(line.unit_price_usd.normalize()),
                    "amount_usd": micros_to_usd(line.amount_micros),
                    "amount_micros": line.amount_micros,
                }
                for line in self.lines
            ],
            "subtotal_usd": micros_to_usd(self.subtotal_micros),
            "rounding_usd": micros_to_usd(self.rounding_micros),
            "total_usd": micros_to_usd(self.total_micros),
            "total_micros": self.total_micros,
        }


def period_of(moment: datetime) -> str:
    return f"{moment:%Y-%m}"


def previous_period(moment: datetime) -> str:
    return period_of(moment.replace(day=1) - timedelta(days=1))


def check_period(period: str) -> str:
    try:
        month_bounds(period)
    except (ValueError, TypeError) as exc:
        raise BadRequest(f"A billing period is a month like 2026-11, not '{period}'.") from exc
    if len(period) != 7:
        raise BadRequest(f"A billing period is a month like 2026-11, not '{period}'.")
    return period


class Invoices:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        prices: PriceBook,
        plans: Plans,
        accounts: BillingAccounts,
        events: EventSink,
        prefix: str,
        currency: str,
    ) -> None:
        self._sessions = sessions
        # Staged rollup facts folded before counting from the rollups (hub/ledger/fold.py).
        self.fold_rollups: Callable[[], Awaitable[object]] | None = None
        self._clock = clock
        self._prices = prices
        self._plans = plans
        self._accounts = accounts
        self._events = events
        self._prefix = prefix
        self._currency = currency

    async def figures(
        self, team_id: int, period: str, *, until: datetime, from_rollups: bool = False
    ) -> InvoiceFigures:
        """The invoice's lines for a team's month, with usage up to `until`; from_rollups:
        counted from the quarter-hour rollups (an estimate of the open month, rollup_counts.py)."""
        first, last = month_bounds(period)
        start = datetime.combine(first, time(0), tzinfo=UTC)
        # Usage up to and including `until` (a record made this very microsecond counts).
        end = min(
            until + timedelta(microseconds=1),
            datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC),
        )
        spans = await self._plans.spans(team_id, first=first, last=last)
        book = await self._prices.ready()
        if from_rollups and self.fold_rollups is not None:
            await self.fold_rollups()
        count = rollup_priced_counts if from_rollups else priced_counts
        counts = await count(
            self._sessions, book, team_id=team_id, spans=spans, since=start, until=end
        )
        return invoice_figures(spans=spans, counts=counts, month_days=last.day)

    async def generate(
        self, period: str, *, teams: Sequence[Team]
    ) -> list[tuple[str, InvoiceView | None]]:
        """Per team: what happened ("issued", "draft", "already issued", "nothing to bill")
        and the invoice."""
        check_period(period)
        now = self._clock.now()
        _, last = month_bounds(period)
        closed = now >= datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC)
        results: list[tuple[str, InvoiceView | None]] = []
        for team in teams:
            existing = await self._issued(team.id, period)
            if existing is not None:
                results.append(("already issued", existing))
                continue
            figures = await self.figures(team.id, period, until=now)
            if not figures.lines:
                await self._drop_drafts(team.id, period)
                results.append(("nothing to bill", None))
                continue
            account = await self._accounts.get(team.id)
            invoice_id = await self._store(
                team, period, figures, issued=closed, bill_to=account.bill_to(), now=now
            )
            results.append(("issued" if closed else "draft", await self.get(invoice_id)))
        return results

    async def _issued(self, team_id: int, period: str) -> InvoiceView | None:
        async with self._sessions() as session:
            found = await session.scalar(
                select(Invoice.id).where(
                    Invoice.team_id == team_id, Invoice.period == period, Invoice.status == "issued"
                )
            )
        return None if found is None else await self.get(found)

    async def _drop_drafts(self, team_id: int, period: str) -> None:
        async with self._sessions.begin() as session:
            await _delete_drafts(session, team_id, period)

    async def _store(
        self,
        team: Team,
        period: str,
        figures: InvoiceFigures,
        *,
        issued: bool,
        bill_to: dict[str, str],
        now: datetime,
    ) -> int:
        async with self._sessions.begin() as session:
            await _delete_drafts(session, team.id, period)
            number = await _next_number(session, self._prefix) if issued else None
            row = Invoice(
                number=number,
                team_id=team.id,
                period=period,
                status="issued" if issued else "draft",
                currency=self._currency,
                bill_to=json.dumps(bill_to, sort_keys=True),
                subtotal_micros=figures.subtotal_micros,
                rounding_micros=figures.rounding_micros,
                total_micros=figures.total_micros,
                issued_at=now if issued else None,
                created_at=now,
            )
            session.add(row)
            await session.flush()
            for position, line in enumerate(figures.lines):
                session.add(
                    InvoiceLine(
                        invoice_id=row.id,
                        position=position,
                        kind=line.kind,
                        description=line.description,
                        model=line.model,
                        token_type=line.token_type,
                        quantity=line.quantity,
                        unit_price_usd=str(line.unit_price_usd),
                        amount_micros=line.amount_micros,
                    )
                )
            if issued:
                await audit.record(
                    session,
                    now=now,
                    action="invoice.issue",
                    team_id=team.id,
                    target=f"invoice:{number}",
                    after={"period": period, "total_micros": figures.total_micros},
                )
                await self._events.emit(
                    session,
                    team_id=team.id,
                    type="invoice.created",
                    data={
                        "id": row.id,
                        "number": number,
                        "team": team.name,
                        "period": period,
                        "total_usd": micros_to_usd(figures.total_micros),
                        "currency": self._currency,
                    },
                )
            return row.id

    async def get(self, invoice_id: int | str) -> InvoiceView:
        async with self._sessions() as session:
            if isinstance(invoice_id, int) or str(invoice_id).isdigit():
                row = await session.get(Invoice, int(invoice_id))
            else:
                row = await session.scalar(select(Invoice).where(Invoice.number == invoice_id))
            if row is None:
                raise NotFound(f"No invoice {invoice_id}; `hub invoice list` shows them.")
            team = await session.get(Team, row.team_id)
            lines = await session.scalars(
                select(InvoiceLine)
                .where(InvoiceLine.invoice_id == row.id)
                .order_by(InvoiceLine.position)
            )
            return _view(row, team.name if team else str(row.team_id), list(lines))

    async def list(
        self, *, team_id: int | None = None, period: str | None = None
    ) -> builtins.list[InvoiceView]:
        query = select(Invoice.id).order_by(Invoice.period, Invoice.id)
        if team_id is not None:
            query = query.where(Invoice.team_id == team_id)
        if period is not None:
            query = query.where(Invoice.period == period)
        async with self._sessions() as session:
            ids = builtins.list(await session.scalars(query))
        return [await self.get(i) for i in ids]

    async def void(self, invoice_id: int | str) -> InvoiceView:
        view = await self.get(invoice_id)
        if view.status != "issued":
            raise BadRequest(
                f"Invoice {invoice_id} is {view.status}; only an issued one is voided."
            )
        now = self._clock.now()
        async with self._sessions.begin() as session:
            await session.execute(
                update(Invoice).where(Invoice.id == view.id).values(status="void", voided_at=now)
            )
            await audit.record(
                session,
                now=now,
                action="invoice.void",
                team_id=view.team_id,
                target=f"invoice:{view.number}",
                before={"status": "issued"},
                after={"status": "void"},
            )
        return await self.get(view.id)


def _view(row: Invoice, team: str, lines: list[InvoiceLine]) -> InvoiceView:
    return InvoiceView(
        id=row.id,
        number=row.number,
        team=team,
        team_id=row.team_id,
        period=row.period,
        status=row.status,
        currency=row.currency,
        bill_to=json.loads(row.bill_to or "{}"),
        lines=tuple(
            Line(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price_usd=Decimal(line.unit_price_usd),
                amount_micros=line.amount_micros,
                model=line.model,
                token_type=line.token_type,
            )
            for line in lines
        ),
        subtotal_micros=row.subtotal_micros,
        rounding_micros=row.rounding_micros,
        total_micros=row.total_micros,
        issued_at=row.issued_at,
        created_at=row.created_at,
    )


async def _delete_drafts(session: AsyncSession, team_id: int, period: str) -> None:
    drafts = select(Invoice.id).where(
        Invoice.team_id == team_id, Invoice.period == period, Invoice.status == "draft"
    )
    await session.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(drafts)))
    await session.execute(
        delete(Invoice).where(
            Invoice.team_id == team_id, Invoice.period == period, Invoice.status == "draft"
        )
    )


async def _next_number(session: AsyncSession, prefix: str) -> str:
    """The next number, taken inside the issuing transaction (a rollback gives it back)."""
    for _ in range(2):
        number = await session.scalar(
            update(InvoiceCounter)
            .where(InvoiceCounter.name == COUNTER)
            .values(last_number=InvoiceCounter.last_number + 1)
            .returning(InvoiceCounter.last_number)
        )
        if number is not None:
            return f"{prefix}{int(number):06d}"
        await session.execute(insert(InvoiceCounter).values(name=COUNTER, last_number=0))
    raise RuntimeError("the invoice counter could not be created")
