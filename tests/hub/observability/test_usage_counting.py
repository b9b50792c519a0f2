"""Counted once per usage record, whoever writes it, and only once its transaction commits;
bounded label sets however many keys there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert

from hub.clock import FakeClock
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Status, Usage
from hub.observability.health import (
    DEGRADED,
    DOWN,
    HEALTHY,
    combined_state,
    deployment_health,
)
from hub.store.ledger_tables import ApiKey
from tests.hub.observability.support import TOKEN, samples, scrape, total
from tests.support.hubs import start_hub


def entry(request_id: str, *, team_id: int, key_id: int | None = None, **kw: object) -> UsageEntry:
    values: dict[str, object] = dict(
        request_id=request_id,
        caller=Caller(team_id=team_id, team_name="acme", key_id=key_id),
        origin=Origin(connector="openai_api"),
        alias="demo",
        deployment="demo/demo-1",
        usage=Usage(
            prompt_tokens=100,
            completion_tokens=40,
            cached_tokens=30,
            cache_write_tokens=20,
            reasoning_tokens=10,
        ),
        cost_micros=123,
        latency_ms=900,
        ttft_ms=None,
        status=Status.INTERRUPTED.value,
    )
    values.update(kw)
    return UsageEntry(**values)  # type: ignore[arg-type]


async def test_records_count_after_commit_and_never_after_rollback(sqlite_url: str) -> None:
    running = await start_hub({"metrics": {"bearer_token": TOKEN}}, database_url=sqlite_url)
    await running.serve()
    try:
        hub, team = running.hub, running.team.id
        # As the lease sweeper writes an `interrupted` record: through the one writer.
        async with hub.sessions.begin() as session:
            await record_usage(session, entry("r1", team_id=team), now=hub.clock.now())
            metrics = hub.observability.metrics
            assert total(_collected(metrics), "unillm_requests_total") == 0  # not yet committed
        with pytest.raises(RuntimeError):
            async with hub.sessions.begin() as session:
                await record_usage(session, entry("r2", team_id=team), now=hub.clock.now())
                raise RuntimeError("rolled back")
        found = samples(await scrape(running.base_url))
        assert total(found, "unillm_requests_total") == 1
        assert total(found, "unillm_requests_total", status="interrupted", team="acme") == 1
        by_type = {
            t: total(found, "unillm_tokens_total", type=t)
            for t in ("input", "cached_input", "cache_write", "output", "reasoning")
        }
        assert by_type == {
            "input": 100,
            "cached_input": 30,
            "cache_write": 20,
            "output": 40,
            "reasoning": 10,
        }
        assert total(found, "unillm_spend_usd_total") == pytest.approx(0.000123)
        assert all("key" not in labels for labels, _ in found["unillm_requests_total"])
    finally:
        await running.close()


def _collected(metrics: object) -> dict[str, list[tuple[dict[str, str], float]]]:
    from prometheus_client import generate_latest

    return samples(generate_latest(metrics.registry).decode())  # type: ignore[attr-defined]


async def test_per_key_labels_only_when_asked(sqlite_url: str) -> None:
    running = await start_hub(
        {"metrics": {"bearer_token": TOKEN, "per_key": True}}, database_url=sqlite_url
    )
    await running.serve()
    try:
        hub = running.hub
        async with hub.sessions.begin() as session:
            await record_usage(
                session,
                entry("r1", team_id=running.team.id, key_id=running.key.id),
                now=hub.clock.now(),
            )
        found = samples(await scrape(running.base_url))
        assert total(found, "unillm_requests_total", key=str(running.key.id)) == 1
    finally:
        await running.close()


async def test_ten_thousand_keys_keep_metrics_under_a_megabyte(sqlite_url: str) -> None:
    running = await start_hub({"metrics": {"bearer_token": TOKEN}}, database_url=sqlite_url)
    await running.serve()
    try:
        hub, now = running.hub, running.hub.clock.now()
        team = running.team.id
        async with hub.sessions.begin() as session:
            await session.execute(
                insert(ApiKey),
                [
                    dict(
                        team_id=team,
                        name=f"k{i}",
                        role="member",
                        prefix=f"uh-{i:06d}",
                        secret_hash=f"{i:064d}",
                        created_at=now,
                    )
                    for i in range(10_000)
                ],
            )
        # Every key has spent: one committed usage record each, as the seam reports it.
        for i in range(10_000):
            hub.observer.usage_recorded(entry(f"req-{i}", team_id=team, key_id=i + 2))
        text = await scrape(running.base_url)
        assert len(text.encode()) < 1_000_000
        found = samples(text)
        assert total(found, "unillm_requests_total") == 10_000
        assert len(found["unillm_requests_total"]) == 1  # one series, not one per key
    finally:
        await running.close()


async def test_deployment_state_from_attempts_of_every_process(sqlite_url: str) -> None:
    clock = FakeClock()
    running = await start_hub({}, database_url=sqlite_url, clock=clock)
    try:
        hub = running.hub
        log = hub.observability.attempts
        now = clock.now()
        for failed in (False, False, False, False, True):
            log.record("up/a", failed=failed, now=now)
        for _ in range(3):
            log.record("up/b", failed=True, now=now)
        await hub.observability.flush_health()
        async with hub.sessions() as session:
            states = {
                h.deployment: h.state
                for h in await deployment_health(session, deployments=["up/c"], now=now)
            }
        assert states == {"up/a": DEGRADED, "up/b": DOWN, "up/c": HEALTHY}
        log.record("up/b", failed=False, now=now + timedelta(seconds=61))
        await hub.observability.flush_health()
        async with hub.sessions() as session:
            later = await deployment_health(
                session, deployments=[], now=now + timedelta(seconds=61)
            )
        assert {h.deployment: h.state for h in later}["up/b"] == DEGRADED
    finally:
        await running.close()


def test_the_routers_circuit_counts_in_the_state() -> None:
    assert combined_state(HEALTHY, "open") == DOWN
    assert combined_state(HEALTHY, "half_open") == DEGRADED
    assert combined_state(DOWN, "half_open") == DOWN
    assert combined_state(DEGRADED, "closed") == DEGRADED
