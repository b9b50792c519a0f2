"""Latency and time-to-first-token percentiles on the Overview and the model performance page:
per deployment and per day, from the rollups' histograms, equal to the bin of the exact
nearest-rank value over the ledger's records; only the viewer's team."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from connectors.dashboard.performance import milliseconds
from hub.ledger.latency_bins import bin_of, bin_value
from hub.ledger.money import format_usd
from tests.connectors.dashboard.support import NOW, DashboardHub


def percentile(values: list[int], fraction: float) -> str:
    """The page's text for the nearest-rank percentile: its bin's middle."""
    ordered = sorted(values)
    exact = ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
    return milliseconds(bin_value(bin_of(exact)))


def cells(html: str, start: str) -> list[str]:
    row = html.split(start)[1].split("</tr>")[0]
    return [cell.split(">", 1)[1].split("<")[0] for cell in row.split('<td class="num"')[1:]]


async def test_model_performance_percentiles_per_deployment_and_per_day(
    dash: DashboardHub,
) -> None:
    async with dash.signed_in(dash.admin.key) as client:
        page = await client.get("/models", params={"from": "2026-10-01", "to": "2026-11-20"})
        assert page.status_code == 200
        records = [r for r in await dash.records() if r.team_id == dash.running.team.id]
        gpt = [r for r in records if r.deployment == "prov/gpt-4o"]
        latency = [r.latency_ms for r in gpt]
        ttft = [r.ttft_ms for r in gpt if r.ttft_ms is not None]
        errors = sum(r.status == "error" for r in gpt) / len(gpt)
        per_1k = format_usd(sum(r.cost_micros for r in gpt) * 1000 // len(gpt))
        shown = cells(page.text, '<tr data-deployment="prov/gpt-4o">')
        assert shown == [
            str(len(gpt)), f"{errors:.1%}", percentile(latency, 0.5), percentile(latency, 0.95),
            percentile(latency, 0.99), percentile(ttft, 0.5), percentile(ttft, 0.95),
            shown[7], per_1k,
        ]  # fmt: skip
        assert "±4.4%" in page.text and "globex" not in page.text and "prov/gpt-4o" in page.text
        # One deployment over time, per day, days without requests too.
        params = {"from": "2026-11-01", "to": "2026-11-20", "tz": "UTC"}
        daily = await client.get("/models", params=params | {"deployment": "prov/gpt-4o"})
        day = [r for r in gpt if r.created_at.date().isoformat() == "2026-11-19"]
        assert day, "seeded on the 19th"
        shown = cells(daily.text, '<time datetime="2026-11-19">Nov 19, 2026</time></th>')
        errors = sum(r.status == "error" for r in day) / len(day)
        assert shown[:4] == [str(len(day)), f"{errors:.1%}",
                             percentile([r.latency_ms for r in day], 0.5),
                             percentile([r.latency_ms for r in day], 0.95)]  # fmt: skip
        assert cells(daily.text, '<time datetime="2026-11-02">Nov 2, 2026</time></th>')[:2] == [
            "0",
            "–",
        ]


async def test_the_overview_shows_this_months_latency_and_ttft_percentiles(
    dash: DashboardHub,
) -> None:
    month = datetime(NOW.year, NOW.month, 1, tzinfo=UTC)
    async with dash.signed_in(dash.admin.key) as client:
        page = await client.get("/")
    records = [r for r in await dash.records()
               if r.team_id == dash.running.team.id and r.created_at >= month]  # fmt: skip
    latency = [r.latency_ms for r in records]
    ttft = [r.ttft_ms for r in records if r.ttft_ms is not None]
    figure = page.text.split('data-figure="latency">')[1].split("<")[0]
    assert figure == f"{percentile(latency, 0.5)} / {percentile(latency, 0.95)}"
    figure = page.text.split('data-figure="ttft">')[1].split("<")[0]
    assert figure == f"{percentile(ttft, 0.5)} / {percentile(ttft, 0.95)}"
