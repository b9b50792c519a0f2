"""Plans (fee, included allowance, markup) and which plan a team is on, day by day.

A subscription runs from its first day to its last (inclusive); subscribing to another plan
ends the running one the day before. A plan may carry a default monthly budget: a team that
subscribes without a monthly budget of its own gets it (plans do not replace budgets).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.ledger.money import micros_to_usd
from hub.ledger.teams import QuotaSpec, set_quota_in
from hub.store.billing_tables import Plan, TeamSubscription
from hub.store.ledger_tables import Quota, Team


@dataclass(frozen=True, slots=True)
class PlanTerms:
    id: int
    name: str
    monthly_fee_micros: int
    included_micros: int
    markup_percent: Decimal
    model_markups: Mapping[str, Decimal] = field(default_factory=dict)
    monthly_budget_micros: int | None = None

    def markup_for(self, alias: str) -> Decimal:
        """A per-model markup replaces the plan's markup for that model."""
        return self.model_markups.get(alias, self.markup_percent)

    def as_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "monthly_fee_usd": micros_to_usd(self.monthly_fee_micros),
            "included_usd": micros_to_usd(self.included_micros),
            "markup_percent": float(self.markup_percent),
            "per_model_markup_percent": {k: float(v) for k, v in self.model_markups.items()},
            "monthly_budget_usd": None
            if self.monthly_budget_micros is None
            else micros_to_usd(self.monthly_budget_micros),
        }


@dataclass(frozen=True, slots=True)
class PlanSpan:
    """Days `first`..`last` (inclusive) of a month on one plan (None: on no plan)."""

    plan: PlanTerms | None
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def percent(text: str | Decimal | float, where: str) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation as exc:
        raise BadRequest(f"{where} must be a percentage like 20 or 12.5, not '{text}'.") from exc
    if not value.is_finite() or value < -100 or value > 10_000:
        raise BadRequest(f"{where} must be between -100 and 10000 percent.")
    return value.normalize() if value != 0 else Decimal(0)


def _terms(row: Plan) -> PlanTerms:
    markups = {k: Decimal(v) for k, v in json.loads(row.model_markups or "{}").items()}
    return PlanTerms(
        id=row.id,
        name=row.name,
        monthly_fee_micros=row.monthly_fee_micros,
        included_micros=row.included_micros,
        markup_percent=Decimal(row.markup_percent),
        model_markups=markups,
        monthly_budget_micros=row.monthly_budget_micros,
    )


class Plans:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def create(
        self,
        name: str,
        *,
        monthly_fee_micros: int = 0,
        included_micros: int = 0,
        markup_percent: Decimal = Decimal(0),
        model_markups: Mapping[str, Decimal] | None = None,
        monthly_budget_micros: int | None = None,
    ) -> PlanTerms:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadRequest("A plan name must be 1 to 100 characters.")
        if monthly_fee_micros < 0 or included_micros < 0:
            raise BadRequest("A plan's fee and included allowance cannot be negative.")
        markups = {k: str(v) for k, v in (model_markups or {}).items()}
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = Plan(
                name=name,
                monthly_fee_micros=monthly_fee_micros,
                included_micros=included_micros,
                markup_percent=str(markup_percent),
                model_markups=json.dumps(markups, sort_keys=True),
                monthly_budget_micros=monthly_budget_micros,
                created_at=now,
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"A plan named '{name}' already exists.") from exc
            terms = _terms(row)
            await audit.record(
                session,
                now=now,
                action="plan.create",
                team_id=None,
                target=f"plan:{name}",
                after=terms.as_json(),
            )
        return terms

    async def list(self) -> builtins.list[PlanTerms]:
        async with self._sessions() as session:
            return [_terms(r) for r in await session.scalars(select(Plan).order_by(Plan.name))]

    async def get(self, name: str) -> PlanTerms:
        async with self._sessions() as session:
            row = await session.scalar(select(Plan).where(Plan.name == name))
        if row is None:
            raise NotFound(f"No plan named '{name}'; `hub plan list` shows them.")
        return _terms(row)

    async def subscribe(self, team: Team, plan_name: str, *, start: date) -> PlanTerms:
        plan = await self.get(plan_name)
        now = self._clock.now()
        async with self._sessions.begin() as session:
            running = builtins.list(
                await session.scalars(
                    select(TeamSubscription).where(
                        TeamSubscription.team_id == team.id,
                        (TeamSubscription.ends_on.is_(None)) | (TeamSubscription.ends_on >= start),
                    )
                )
            )
            for sub in running:
                if sub.starts_on >= start:
                    await session.delete(sub)  # replaced before it began
                else:
                    sub.ends_on = start - timedelta(days=1)
            session.add(
                TeamSubscription(team_id=team.id, plan_id=plan.id, starts_on=start, created_at=now)
            )
            if plan.monthly_budget_micros is not None:
                await _default_budget(session, team.id, plan.monthly_budget_micros, now=now)
            await audit.record(
                session,
                now=now,
                action="team.subscribe",
                team_id=team.id,
                target=f"team:{team.name}",
                after={"plan": plan.name, "start": start.isoformat()},
            )
        return plan

    async def spans(self, team_id: int, *, first: date, last: date) -> builtins.list[PlanSpan]:
        """The plan of each stretch of days from `first` to `last`, gaps as plan None."""
        async with self._sessions() as session:
            rows = builtins.list(
                await session.execute(
                    select(TeamSubscription, Plan)
                    .join(Plan, Plan.id == TeamSubscription.plan_id)
                    .where(
                        TeamSubscription.team_id == team_id,
                        TeamSubscription.starts_on <= last,
                        (TeamSubscription.ends_on.is_(None)) | (TeamSubscription.ends_on >= first),
                    )
                    .order_by(TeamSubscription.starts_on)
                )
            )
        spans: list[PlanSpan] = []
        cursor = first
        for sub, plan in rows:
            start = max(sub.starts_on, first)
            end = min(sub.ends_on or last, last)
            if start > cursor:
                spans.append(PlanSpan(None, cursor, start - timedelta(days=1)))
            previous = spans[-1] if spans else None
            if previous is not None and previous.plan is not None and previous.plan.id == plan.id:
                spans[-1] = PlanSpan(previous.plan, previous.first, end)  # back on the same plan
            else:
                spans.append(PlanSpan(_terms(plan), start, end))
            cursor = end + timedelta(days=1)
        if cursor <= last:
            spans.append(PlanSpan(None, cursor, last))
        return spans

    async def current(self, team_id: int, on: date) -> PlanTerms | None:
        spans = await self.spans(team_id, first=on, last=on)
        return spans[0].plan if spans else None


async def _default_budget(
    session: AsyncSession, team_id: int, budget_micros: int, *, now: datetime
) -> None:
    existing = await session.scalar(
        select(Quota).where(
            Quota.scope == "team", Quota.scope_id == team_id, Quota.window == "month"
        )
    )
    if existing is not None and existing.cost_limit_micros is not None:
        return  # the team's own budget wins
    await set_quota_in(
        session,
        QuotaSpec(
            "team",
            team_id,
            "month",
            budget_micros,
            existing.token_limit if existing is not None else None,
        ),
        team_id=team_id,
        now=now,
    )
