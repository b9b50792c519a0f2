"""Reading /metrics as Prometheus would, and the ledger's totals to compare it with."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from hub.service import Hub
from hub.store.ledger_tables import UsageRecord

TOKEN = "metrics-token-for-tests"


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by name (`unillm_requests_total`, `..._bucket`...), with its labels."""
    found: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[sample.name].append((dict(sample.labels), float(sample.value)))
    return found


def total(found: dict[str, list[tuple[dict[str, str], float]]], name: str, **match: str) -> float:
    return sum(
        value
        for labels, value in found.get(name, [])
        if all(labels.get(k) == v for k, v in match.items())
    )


async def scrape(base_url: str, token: str = TOKEN) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        response = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.text


async def ledger(hub: Hub) -> dict[str, Any]:
    """What the usage records say: requests by status, tokens by type, spend in USD."""
    async with hub.sessions() as session:
        by_status = dict(
            (
                await session.execute(
                    select(UsageRecord.status, func.count()).group_by(UsageRecord.status)
                )
            ).all()
        )
        sums = (
            await session.execute(
                select(
                    func.coalesce(func.sum(UsageRecord.prompt_tokens), 0),
                    func.coalesce(func.sum(UsageRecord.completion_tokens), 0),
                    func.coalesce(func.sum(UsageRecord.cost_micros), 0),
                )
            )
        ).one()
    return {
        "requests": {k: int(v) for k, v in by_status.items()},
        "input": int(sums[0]),
        "output": int(sums[1]),
        "spend_micros": int(sums[2]),
    }
