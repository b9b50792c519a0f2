"""Circuit breakers in memory, on the fake clock: opening, cooldowns, probes, Retry-After."""

from __future__ import annotations

from hub.clock import FakeClock
from hub.routing.circuits import CircuitPolicy, Circuits
from hub.routing.health import HealthBoard

LABEL = "up/model-a"


def circuits(clock: FakeClock, **policy: float) -> Circuits:
    health = HealthBoard(clock)
    return Circuits(clock, CircuitPolicy(**policy), health)  # type: ignore[arg-type]


async def fail(board: Circuits, times: int = 1, **options: object) -> None:
    for _ in range(times):
        await board.failed(LABEL, **options)  # type: ignore[arg-type]


async def test_five_consecutive_failures_open_for_the_cooldown_then_a_probe_closes() -> None:
    clock = FakeClock()
    board = circuits(clock)
    await fail(board, 4)
    assert board.admits(LABEL) and board.view(LABEL).consecutive_failures == 4
    await fail(board)
    view = board.view(LABEL)
    assert (view.state, view.opens, view.reason) == ("open", 1, "5 failures in a row")
    assert view.until is not None and (view.until - clock.now()).total_seconds() == 30
    assert not board.admits(LABEL) and not await board.acquire(LABEL)
    clock.advance(29.9)
    assert not board.admits(LABEL)
    clock.advance(0.2)
    assert board.view(LABEL).state == "half_open"
    assert await board.acquire(LABEL)  # the one probe
    assert not board.admits(LABEL) and not await board.acquire(LABEL)  # nobody else meanwhile
    await board.succeeded(LABEL)
    assert board.view(LABEL).state == "closed" and board.admits(LABEL)


async def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    board = circuits(FakeClock())
    await fail(board, 4)
    await board.succeeded(LABEL)
    await fail(board, 4)
    assert board.view(LABEL).state == "closed"


async def test_a_failed_probe_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    clock = FakeClock()
    board = circuits(clock, cooldown_s=30.0, cooldown_max_s=100.0)
    await fail(board, 5)
    waits = []
    for _ in range(3):
        until = board.view(LABEL).until
        assert until is not None
        waits.append((until - clock.now()).total_seconds())
        clock.advance(waits[-1])
        assert await board.acquire(LABEL)
        await fail(board)
    assert waits == [30.0, 60.0, 100.0]


async def test_repeated_opens_are_forgotten_after_staying_closed_long_enough() -> None:
    clock = FakeClock()
    board = circuits(clock, cooldown_s=30.0, cooldown_max_s=100.0)
    await fail(board, 5)
    clock.advance(30)
    assert await board.acquire(LABEL)
    await board.succeeded(LABEL)
    clock.advance(101)
    await fail(board, 5)
    assert board.view(LABEL).opens == 1


async def test_retry_after_is_honoured_and_a_429_with_it_pauses_at_once() -> None:
    clock = FakeClock()
    board = circuits(clock)
    await fail(board, rate_limited=True, retry_after=12.0)
    view = board.view(LABEL)
    assert view.state == "open" and view.until is not None
    assert (view.until - clock.now()).total_seconds() == 12
    assert view.opens == 0  # a rate limit is not a failure that grows the cooldown
    clock.advance(12)
    assert await board.acquire(LABEL)
    await board.succeeded(LABEL)
    # A 5xx Retry-After longer than the cooldown wins over it.
    await fail(board, 4)
    await fail(board, retry_after=90.0)
    until = board.view(LABEL).until
    assert until is not None and (until - clock.now()).total_seconds() == 90


async def test_an_error_rate_over_the_window_opens_the_circuit() -> None:
    clock = FakeClock()
    health = HealthBoard(clock, window_s=60.0)
    board = Circuits(clock, CircuitPolicy(error_rate=0.5, min_requests=10), health)
    for n in range(12):
        attempt = health.start(LABEL)
        if n % 2:
            attempt.failed("provider_unavailable")
            await board.failed(LABEL)
        else:
            attempt.succeeded()
            await board.succeeded(LABEL)
    # Open at the tenth (5 of 10 failed); the two that ended while it was open change nothing.
    view = board.view(LABEL)
    assert view.state == "open" and view.reason == "50% of 10 requests failed"


async def test_failures_of_attempts_started_before_the_open_do_not_extend_it() -> None:
    clock = FakeClock()
    board = circuits(clock)
    await fail(board, 5)
    first = board.view(LABEL).until
    await fail(board, 3)
    assert board.view(LABEL).until == first and board.view(LABEL).opens == 1
    assert board.retry_after([LABEL]) == 30.0
