"""An invoice's lines from a month's plan spans and priced token counts: pure arithmetic.

All amounts are integer micro-dollars; each line is rounded (half up) to the micro-dollar
once, and only the total is rounded to cents, with the difference shown as its own figure.
For each stretch of the month on one plan (a span):
- the plan's monthly fee, prorated by days (days on the plan / days in the month);
- usage per model and token type at the provider price in force when it was used;
- the markup on each model's usage (the per-model markup replaces the plan's);
- the included allowance (customer dollars, prorated like the fee), deducted from that
  span's usage plus markup and never below zero: the rest is overage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hub.billing.plans import PlanSpan
from hub.billing.token_prices import TOKEN_TYPE_NAMES, TOKEN_TYPES
from hub.ledger.money import format_usd

MICROS = Decimal(1_000_000)
CENT_MICROS = 10_000


@dataclass(frozen=True, slots=True)
class PricedCount:
    """Tokens of one type on one model, in one span, at one unit price."""

    span: int
    model: str
    token_type: str
    micros_per_mtok: int
    quantity: int


@dataclass(frozen=True, slots=True)
class Line:
    kind: str  # fee | usage | markup | allowance
    description: str
    quantity: int
    unit_price_usd: Decimal
    amount_micros: int
    model: str | None = None
    token_type: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceFigures:
    lines: tuple[Line, ...]
    subtotal_micros: int
    rounding_micros: int
    total_micros: int


def round_micros(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def to_cents(micros: int) -> int:
    """Micro-dollars rounded half up (away from zero) to whole cents, in micro-dollars."""
    return round_micros(Decimal(micros) / CENT_MICROS) * CENT_MICROS


def _days_note(span: PlanSpan, month_days: int) -> str:
    if span.days == month_days:
        return ""
    return f", prorated {span.days}/{month_days} days ({span.first:%b %d} - {span.last:%b %d})"


def _fee_line(span: PlanSpan, month_days: int) -> Line | None:
    plan = span.plan
    if plan is None or plan.monthly_fee_micros == 0:
        return None
    amount = round_micros(Decimal(plan.monthly_fee_micros) * span.days / month_days)
    return Line(
        kind="fee",
        description=f"{plan.name} plan: monthly fee{_days_note(span, month_days)}",
        quantity=1,
        unit_price_usd=Decimal(amount) / MICROS,
        amount_micros=amount,
    )


def _usage_lines(counts: Sequence[PricedCount], suffix: str) -> list[Line]:
    order: dict[str, int] = {t: i for i, t in enumerate(TOKEN_TYPES)}
    lines = []
    for c in sorted(counts, key=lambda c: (c.model, order.get(c.token_type, 9), c.micros_per_mtok)):
        if c.quantity == 0:
            continue
        per_token = Decimal(c.micros_per_mtok) / MICROS / MICROS
        lines.append(
            Line(
                kind="usage",
                description=f"{c.model}: {TOKEN_TYPE_NAMES.get(c.token_type, c.token_type)}"
                f" at {format_usd(c.micros_per_mtok)}/1M{suffix}",
                quantity=c.quantity,
                unit_price_usd=per_token,
                amount_micros=round_micros(Decimal(c.quantity) * c.micros_per_mtok / MICROS),
                model=c.model,
                token_type=c.token_type,
            )
        )
    return lines


def _markup_lines(span: PlanSpan, usage: Sequence[Line], suffix: str) -> list[Line]:
    plan = span.plan
    if plan is None:
        return []
    by_model: dict[str, int] = {}
    for line in usage:
        assert line.model is not None
        by_model[line.model] = by_model.get(line.model, 0) + line.amount_micros
    lines = []
    for model, base in sorted(by_model.items()):
        rate = plan.markup_for(model)
        if rate == 0:
            continue
        amount = round_micros(Decimal(base) * rate / 100)
        lines.append(
            Line(
                kind="markup",
                description=f"Markup {rate}% on {model} usage ({format_usd(base)}){suffix}",
                quantity=1,
                unit_price_usd=Decimal(amount) / MICROS,
                amount_micros=amount,
                model=model,
            )
        )
    return lines


def _allowance_line(span: PlanSpan, month_days: int, customer_usage: int) -> Line | None:
    plan = span.plan
    if plan is None or plan.included_micros == 0 or customer_usage <= 0:
        return None
    included = round_micros(Decimal(plan.included_micros) * span.days / month_days)
    used = min(included, customer_usage)
    return Line(
        kind="allowance",
        description=f"{plan.name} plan: included usage, {format_usd(included)}"
        f"{_days_note(span, month_days)}",
        quantity=1,
        unit_price_usd=Decimal(-used) / MICROS,
        amount_micros=-used,
    )


def invoice_figures(
    *, spans: Sequence[PlanSpan], counts: Sequence[PricedCount], month_days: int
) -> InvoiceFigures:
    lines: list[Line] = []
    several = len([s for s in spans if s.plan is not None]) > 1
    for index, span in enumerate(spans):
        suffix = ""
        if several:
            suffix = f" ({span.plan.name if span.plan else 'no plan'}, {_span_dates(span)})"
        fee = _fee_line(span, month_days)
        if fee is not None:
            lines.append(fee)
        usage = _usage_lines([c for c in counts if c.span == index], suffix)
        markup = _markup_lines(span, usage, suffix)
        lines += usage + markup
        allowance = _allowance_line(
            span, month_days, sum(line.amount_micros for line in usage + markup)
        )
        if allowance is not None:
            lines.append(allowance)
    subtotal = sum(line.amount_micros for line in lines)
    total = to_cents(subtotal)
    return InvoiceFigures(tuple(lines), subtotal, total - subtotal, total)


def _span_dates(span: PlanSpan) -> str:
    return f"{span.first:%b %d} - {span.last:%b %d}"


def month_bounds(period: str) -> tuple[date, date]:
    """First and last day of YYYY-MM."""
    year, month = (int(x) for x in period.split("-"))
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
