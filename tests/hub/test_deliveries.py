"""A platform's first delivery of an id wins and every redelivery loses, on both backends,
also when the deliveries race into one batch of the ledger writer (the claim is written there:
it sits on Slack's and Discord's ack path)."""

from __future__ import annotations

import asyncio

from tests.support.hubs import start_hub


async def test_the_first_claim_wins_and_racing_redeliveries_lose(database_url: str) -> None:
    running = await start_hub({}, database_url=database_url)
    deliveries = running.hub.deliveries
    try:
        assert await deliveries.claim("discord", "interaction:1") is True
        assert await deliveries.claim("discord", "interaction:1") is False
        assert await deliveries.claim("slack", "interaction:1") is True  # another platform's id
        batches = running.hub.ledger_writer.batches
        # Claimed in one loop iteration: one batch, one winner per id.
        won = await asyncio.gather(
            *(deliveries.claim("discord", f"race:{n % 3}") for n in range(9))
        )
        assert running.hub.ledger_writer.batches == batches + 1
        assert sorted(won) == [False] * 6 + [True] * 3
        assert won[:3] == [True, True, True]  # in the order they were asked
        state = await deliveries.get("discord", "race:0")
        assert state is not None and state.status == "pending"
    finally:
        await running.close()
