"""hub/providers/transport.py's InFlight: at most `limit` holders, a bounded wait for a turn.

On looptime's loop clock: a wait of seconds takes no real time, and each test checks when,
on the loop's clock, a turn came or the wait gave up."""

from __future__ import annotations

import asyncio

import pytest
from looptime import LoopTimeProxy

from hub.providers.transport import InFlight

pytestmark = pytest.mark.looptime


async def test_a_free_slot_is_taken_at_once_up_to_the_limit() -> None:
    slots = InFlight(2, 5.0)
    assert await slots.acquire()
    assert await slots.acquire()
    assert slots.held == 2
    slots.release()
    slots.release()
    assert slots.held == 0


async def test_a_full_limit_without_a_wait_refuses_at_once(looptime: LoopTimeProxy) -> None:
    slots = InFlight(1, 0.0)
    assert await slots.acquire()
    assert not await slots.acquire()
    assert looptime == 0
    assert slots.held == 1


async def test_a_waiter_gets_the_slot_given_up_before_a_newcomer(looptime: LoopTimeProxy) -> None:
    slots = InFlight(1, 10.0)
    assert await slots.acquire()
    waiting = asyncio.create_task(slots.acquire())
    await asyncio.sleep(3)
    slots.release()  # handed to the waiter, still held
    newcomer = asyncio.create_task(slots.acquire())
    assert slots.held == 1
    assert await waiting
    assert looptime == 3
    await asyncio.sleep(2)
    assert not newcomer.done()  # the waiter's turn came first: the newcomer waits its own
    slots.release()
    assert await newcomer
    assert looptime == 5
    slots.release()
    assert slots.held == 0


async def test_a_wait_past_wait_s_gives_up_and_holds_nothing(looptime: LoopTimeProxy) -> None:
    slots = InFlight(1, 4.0)
    assert await slots.acquire()
    assert not await slots.acquire()
    assert looptime == 4
    slots.release()
    assert slots.held == 0
    assert await slots.acquire()  # no waiter left behind to hand it to


async def test_a_waiter_cancelled_after_it_was_handed_the_slot_passes_it_on() -> None:
    slots = InFlight(1, 10.0)
    assert await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    second = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # to `first`, which is cancelled before it runs on
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second
    assert slots.held == 1
    slots.release()
    assert slots.held == 0


async def test_a_waiter_cancelled_while_waiting_leaves_the_queue() -> None:
    slots = InFlight(1, 10.0)
    assert await slots.acquire()
    waiting = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    slots.release()
    assert slots.held == 0
    assert await slots.acquire()


async def test_a_slot_handed_over_as_the_wait_times_out_is_not_lost(
    looptime: LoopTimeProxy,
) -> None:
    """The release and the first waiter's timeout fall on the same instant of the loop's
    clock: whichever runs first, the slot ends with someone (the waiter, or the next one in
    line), never with no one, and the count comes back to zero."""
    slots = InFlight(1, 4.0)
    assert await slots.acquire()
    first = asyncio.create_task(slots.acquire())
    await asyncio.sleep(1)
    second = asyncio.create_task(slots.acquire())  # gives up at 5 unless handed the slot
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    loop.call_at(loop.time() + 3, slots.release)  # at 4: the first waiter's timeout
    got_first = await first
    assert looptime == 4
    if got_first:
        assert slots.held == 1
        slots.release()
    assert await second  # the slot the first did not keep went to it, at 4
    assert looptime == 4
    assert slots.held == 1
    slots.release()
    assert slots.held == 0
    assert await slots.acquire()  # and the limiter still lends it
