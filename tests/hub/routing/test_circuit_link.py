"""Circuits shared through real Redis by two boards (as two processes would share them)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from hub.clock import FakeClock
from hub.routing.circuit_link import RedisCircuitLink
from hub.routing.circuits import CircuitPolicy, Circuits
from hub.routing.health import HealthBoard
from hub.signals import Signals
from tests.support.services import REDIS_URL, delete_redis_prefix, redis_prefix

LABEL = "up/primary"
pytestmark = pytest.mark.redis


class Process:
    """One process's view: its own signals, link and memory."""

    def __init__(self, clock: FakeClock, prefix: str) -> None:
        self.signals = Signals(clock, redis_url=REDIS_URL, key_prefix=prefix)
        policy = CircuitPolicy()
        link = RedisCircuitLink(
            redis_url=REDIS_URL,
            key_prefix=prefix,
            signals=self.signals,
            policy=policy,
            window_s=60,
        )
        self.circuits = Circuits(clock, policy, HealthBoard(clock), link=link)

    async def close(self) -> None:
        await self.circuits.close()
        await self.signals.close()


@pytest.fixture
async def processes() -> AsyncIterator[tuple[FakeClock, Process, Process]]:
    prefix = await redis_prefix()
    clock = FakeClock()
    one, two = Process(clock, prefix), Process(clock, prefix)
    await one.circuits.start()
    await two.circuits.start()
    try:
        yield clock, one, two
    finally:
        await one.close()
        await two.close()
        await delete_redis_prefix(prefix)


async def until(process: Process, label: str, state: str) -> None:
    """Wait (bounded) for the process to learn, through pub/sub, that the circuit changed."""
    reached = asyncio.Event()
    process.circuits.watch(lambda view: reached.set() if view.state == state else None)
    if process.circuits.view(label).state != state:
        async with asyncio.timeout(2):
            await reached.wait()


async def test_failures_counted_across_processes_open_everywhere(
    processes: tuple[FakeClock, Process, Process],
) -> None:
    clock, one, two = processes
    for board in (one, two, one, two):
        await board.circuits.failed(LABEL)
    assert one.circuits.admits(LABEL)
    await two.circuits.failed(LABEL)  # the fifth consecutive failure, counted in Redis
    await until(one, LABEL, "open")
    view = one.circuits.view(LABEL)
    assert (view.state, view.opens, view.reason) == ("open", 1, "5 failures in a row")
    # Half-open: exactly one process gets the probe.
    clock.advance(30)
    claims = [await one.circuits.acquire(LABEL), await two.circuits.acquire(LABEL)]
    assert sorted(claims) == [False, True]
    prober = one if claims[0] else two
    await prober.circuits.succeeded(LABEL)
    other = two if prober is one else one
    await until(other, LABEL, "closed")


async def test_a_process_starting_later_reads_open_circuits(
    processes: tuple[FakeClock, Process, Process],
) -> None:
    clock, one, _ = processes
    await one.circuits.failed(LABEL, rate_limited=True, retry_after=20)
    late = Process(clock, one.signals._prefix.removesuffix(":signals:"))
    try:
        await late.circuits.start()
        view = late.circuits.view(LABEL)
        assert view.state == "open" and view.reason == "rate limited (Retry-After 20 s)"
    finally:
        await late.close()
