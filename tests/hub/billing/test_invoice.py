"""Invoices from the ledger: a month with a plan change, markups, an allowance and three
models with cached tokens, computed by hand; drafts, numbering, voiding, the PDF and CSV."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from hub.billing.invoice_pdf import render_pdf
from hub.billing.invoice_render import render_csv
from hub.clock import FakeClock
from hub.events.subscriptions import Subscriptions
from hub.store.event_tables import OutboxEvent
from tests.hub.billing.support import MARCH_1, at, march, record, three_models
from tests.support.hubs import RunningHub, start_hub


@pytest.fixture
async def running(sqlite_url: str) -> AsyncIterator[RunningHub]:
    config = three_models() | {"webhooks": {"allow_private_targets": True}}
    hub = await start_hub(config, database_url=sqlite_url, clock=FakeClock(MARCH_1))
    try:
        yield hub
    finally:
        await hub.close()


def micros(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), ROUND_HALF_UP))


def usage_amount(tokens: int, usd_per_mtok: str) -> int:
    """Tokens at a price per million, in micro-dollars (the invoice rounds each line once)."""
    return micros(Decimal(tokens) * Decimal(usd_per_mtok))


async def month_of_usage(running: RunningHub) -> None:
    hub, team = running.hub, running.team
    await hub.billing.plans.create("Starter", monthly_fee_micros=10_000_000)
    await hub.billing.plans.create(
        "Pro",
        monthly_fee_micros=31_000_000,
        included_micros=6_200_000,
        markup_percent=Decimal(20),
        model_markups={"claude": Decimal(10)},
    )
    await hub.billing.subscribe(team, "Starter", start=march(1).date())
    await record(
        running,
        at=march(5),
        alias="gpt",
        prompt_tokens=100_000,
        cached_tokens=40_000,
        completion_tokens=20_000,
    )
    at(running, march(11, 9))
    await hub.billing.subscribe(team, "Pro", start=march(11).date())  # mid-month change
    await record(
        running,
        at=march(12),
        alias="gpt",
        prompt_tokens=400_000,
        cached_tokens=300_000,
        completion_tokens=50_000,
        reasoning_tokens=10_000,
    )
    await record(
        running,
        at=march(20),
        alias="mini",
        prompt_tokens=1_000_000,
        cached_tokens=250_000,
        completion_tokens=300_000,
    )
    await record(
        running,
        at=march(25),
        alias="claude",
        prompt_tokens=200_000,
        cached_tokens=100_000,
        cache_write_tokens=50_000,
        completion_tokens=40_000,
    )
    await record(
        running,
        at=march(28),
        alias="gpt",
        prompt_tokens=2_000_000,
        cached_tokens=1_000_000,
        completion_tokens=100_000,
    )


async def test_march_invoice_equals_the_hand_computed_one_and_its_pdf(
    running: RunningHub,
) -> None:
    await month_of_usage(running)
    at(running, datetime(2026, 4, 1, 0, 10, tzinfo=UTC))
    assert await running.hub.billing.monthly_invoices() == 1  # the scheduler's job
    assert await running.hub.billing.monthly_invoices() == 0  # once, however often it fires
    (view,) = await running.hub.billing.invoices.list(team_id=running.team.id)

    # By hand. Starter days 1-10 (10/31 of $10), Pro days 11-31 (21/31 of $31, $6.20 included).
    starter_fee = micros(Decimal(10_000_000) * 10 / 31)  # 3,225,806
    pro_fee = micros(Decimal(31_000_000) * 21 / 31)  # 21,000,000
    included = micros(Decimal(6_200_000) * 21 / 31)  # 4,200,000
    # gpt-4o (catalog): $2.50 in, $1.25 cached, $10 out (reasoning at the output price).
    s_gpt = [usage_amount(60_000, "2.5"), usage_amount(40_000, "1.25"),
             usage_amount(20_000, "10")]  # fmt: skip
    p_gpt = [usage_amount(100_000 + 1_000_000, "2.5"), usage_amount(300_000 + 1_000_000, "1.25"),
             usage_amount(40_000 + 100_000, "10"), usage_amount(10_000, "10")]  # fmt: skip
    # house-mini (its own config prices): $0.20 in, $0.10 cached, $0.80 out.
    p_mini = [usage_amount(750_000, "0.2"), usage_amount(250_000, "0.1"),
              usage_amount(300_000, "0.8")]  # fmt: skip
    # claude-sonnet-4 (catalog): $3 in, $0.30 cached, $3.75 cache write, $15 out.
    p_claude = [usage_amount(50_000, "3"), usage_amount(100_000, "0.3"),
                usage_amount(50_000, "3.75"), usage_amount(40_000, "15")]  # fmt: skip
    markup_gpt = micros(Decimal(sum(p_gpt)) * Decimal("0.20"))
    markup_mini = micros(Decimal(sum(p_mini)) * Decimal("0.20"))
    markup_claude = micros(Decimal(sum(p_claude)) * Decimal("0.10"))  # per-model markup
    customer_pro = sum(p_gpt + p_mini + p_claude) + markup_gpt + markup_mini + markup_claude
    allowance = -min(included, customer_pro)
    subtotal = starter_fee + sum(s_gpt) + pro_fee + customer_pro + allowance
    total = micros(Decimal(subtotal) / 10_000) * 10_000

    assert [(line.kind, line.model, line.token_type, line.quantity, line.amount_micros)
            for line in view.lines] == [
        ("fee", None, None, 1, starter_fee),
        ("usage", "gpt", "input", 60_000, s_gpt[0]),
        ("usage", "gpt", "cached_input", 40_000, s_gpt[1]),
        ("usage", "gpt", "output", 20_000, s_gpt[2]),
        ("fee", None, None, 1, pro_fee),
        ("usage", "claude", "input", 50_000, p_claude[0]),
        ("usage", "claude", "cached_input", 100_000, p_claude[1]),
        ("usage", "claude", "cache_write", 50_000, p_claude[2]),
        ("usage", "claude", "output", 40_000, p_claude[3]),
        ("usage", "gpt", "input", 1_100_000, p_gpt[0]),
        ("usage", "gpt", "cached_input", 1_300_000, p_gpt[1]),
        ("usage", "gpt", "output", 140_000, p_gpt[2]),
        ("usage", "gpt", "reasoning", 10_000, p_gpt[3]),
        ("usage", "mini", "input", 750_000, p_mini[0]),
        ("usage", "mini", "cached_input", 250_000, p_mini[1]),
        ("usage", "mini", "output", 300_000, p_mini[2]),
        ("markup", "claude", None, 1, markup_claude),
        ("markup", "gpt", None, 1, markup_gpt),
        ("markup", "mini", None, 1, markup_mini),
        ("allowance", None, None, 1, allowance),
    ]  # fmt: skip
    assert (view.subtotal_micros, view.total_micros, view.rounding_micros) == (
        subtotal,
        total,
        total - subtotal,
    )
    assert (subtotal, total) == (29_038_056, 29_040_000)  # the figures above, written out
    assert view.number == "INV-000001" and view.status == "issued" and view.period == "2026-03"
    data = view.as_json()
    assert data["total_usd"] == 29.04 and data["team"] == "acme"
    first = data["lines"][0]
    assert first["description"] == (
        "Starter plan: monthly fee, prorated 10/31 days (Mar 01 - Mar 10)"
    )
    assert (first["quantity"], first["unit_price_usd"], first["amount_usd"]) == (
        1,
        3.225806,
        3.225806,
    )
    gpt_input = data["lines"][1]
    assert gpt_input["unit_price_usd_exact"] == "0.0000025"
    assert Decimal(gpt_input["unit_price_usd_exact"]) * gpt_input["quantity"] == Decimal("0.15")

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(render_pdf(view, issuer="Hub"))).pages
    )
    assert "Total due (USD)" in text and "$29.04" in text
    assert "Rounding to cents" in text and "$0.001944" in text
    assert "Markup 10% on claude usage" in text
    csv_rows = render_csv(view).splitlines()
    assert csv_rows[-1] == "INV-000001,acme,2026-03,Total due,,,,,29.040000"


async def test_drafts_are_replaced_numbers_have_no_gaps_and_voids_keep_theirs(
    running: RunningHub,
) -> None:
    hub, team = running.hub, running.team
    other = await hub.teams.create("globex")
    subs = Subscriptions.for_hub(hub)
    await subs.create(team_id=team.id, url="http://127.0.0.1:9/hooks", events=["invoice.created"])
    await hub.billing.accounts.update(team, name="Acme Corp", address="1 Road\nTown", tax_id="EU1")
    await record(running, at=march(3), alias="mini", prompt_tokens=10_000, completion_tokens=1_000)
    at(running, march(4))
    ((state, draft),) = await hub.billing.invoices.generate("2026-03", teams=[team])
    assert state == "draft" and draft is not None and draft.number is None
    await record(running, at=march(5), alias="mini", prompt_tokens=10_000, completion_tokens=1_000)
    at(running, march(6))
    ((_, again),) = await hub.billing.invoices.generate("2026-03", teams=[team])
    assert again is not None and again.subtotal_micros == 2 * draft.subtotal_micros
    assert [v.id for v in await hub.billing.invoices.list(team_id=team.id)] == [again.id]
    assert await hub.billing.estimate(team.id) == await hub.billing.invoices.figures(
        team.id, "2026-03", until=hub.clock.now()
    )

    await record(
        running,
        at=march(6, 1),
        alias="gpt",
        team_id=other.id,
        prompt_tokens=1_000,
        completion_tokens=10,
    )
    at(running, datetime(2026, 4, 2, tzinfo=UTC))
    results = await hub.billing.invoices.generate("2026-03", teams=[team, other])
    assert [(s, v.number if v else None) for s, v in results] == [
        ("issued", "INV-000001"),
        ("issued", "INV-000002"),
    ]
    issued = results[0][1]
    assert issued is not None and issued.bill_to["name"] == "Acme Corp"
    assert [s for s, _ in await hub.billing.invoices.generate("2026-03", teams=[team])] == [
        "already issued"
    ]
    voided = await hub.billing.invoices.void("INV-000001")
    assert voided.status == "void" and voided.number == "INV-000001"
    ((state, reissued),) = await hub.billing.invoices.generate("2026-03", teams=[team])
    assert state == "issued" and reissued is not None and reissued.number == "INV-000003"
    async with hub.sessions() as session:
        events = list(await session.scalars(select(OutboxEvent.type)))
    assert events == ["invoice.created", "invoice.created"]  # acme's two; globex subscribes none
