"""Outbound events: fan-out, signed delivery, retries on a fake clock, restart, 410, Retry-After."""

from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy import make_url, select

from hub.clock import FakeClock
from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from hub.service import Hub
from hub.store.event_tables import EventDelivery, Subscription
from tests.fakes.receivers import Answer, Receiver
from tests.hub.events.support import PRIVATE_OK, ask_openai, served_hub
from tests.support.hubs import start_hub


async def test_completion_reaches_each_subscribed_target_once(database_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=database_url)
    subs = Subscriptions.for_hub(running.hub)
    try:
        async with (
            Receiver(clock=running.clock) as first,
            Receiver(clock=running.clock) as second,
            Receiver(clock=running.clock) as keys_only,
        ):
            for rx, events in (
                (first, ["completion.created"]),
                (second, ["completion.created", "key.revoked"]),
                (keys_only, ["key.created"]),
            ):
                rx.secret = (
                    await subs.create(team_id=running.team.id, url=rx.url, events=events)
                ).secret
            reply = await ask_openai(running, "What is 2+2?")
            # Nothing is sent on the chat's path: only the background job delivers.
            assert first.hits == second.hits == 0
            dispatcher = Dispatcher.for_hub(running.hub)
            report = await dispatcher.run_once()
            assert (report.attempted, report.delivered) == (2, 2)
            assert (await dispatcher.run_once()).attempted == 0
            for rx in (first, second):
                [got] = rx.received
                event = got.body
                assert got.headers["webhook-id"] == event["id"]
                assert event["type"] == "completion.created"
                data = event["data"]
                assert data["id"] == reply["id"]
                assert data["connector"] == "openai_api"
                assert data["team"] == "acme"
                assert data["prompt"] == "What is 2+2?"
                assert data["output"] == reply["choices"][0]["message"]["content"]
                assert data["usage"]["completion_tokens"] == reply["usage"]["completion_tokens"]
            assert first.received[0].body["id"] == second.received[0].body["id"]
            assert keys_only.hits == 0
    finally:
        await running.close()


async def test_failing_target_gets_it_on_third_try_across_a_restart(database_url: str) -> None:
    clock = FakeClock()
    running = await served_hub(PRIVATE_OK, database_url=database_url, clock=clock)
    async with Receiver(clock=clock) as rx:
        created = await Subscriptions.for_hub(running.hub).create(
            team_id=running.team.id, url=rx.url, events=["completion.created"]
        )
        rx.secret = created.secret
        rx.script(500, 503)
        try:
            await ask_openai(running)
            dispatcher = Dispatcher.for_hub(running.hub)
            assert (await dispatcher.run_once()).attempted == 1
            clock.advance(4)
            assert (await dispatcher.run_once()).attempted == 0  # backoff: 5 s
            clock.advance(1)
            assert (await dispatcher.run_once()).attempted == 1
        finally:
            await running.close()
        # A new process on the same database: everything it needs is stored.
        hub = Hub.open(running.hub.settings, clock=clock)
        try:
            dispatcher = Dispatcher.for_hub(hub)
            clock.advance(299)
            assert (await dispatcher.run_once()).attempted == 0  # backoff: 5 min
            clock.advance(1)
            report = await dispatcher.run_once()
            assert (report.attempted, report.delivered) == (1, 1)
            assert rx.hits == 3
            [got] = rx.received
            assert got.body["type"] == "completion.created"
            log = await Subscriptions.for_hub(hub).attempts(created.id)
            assert [(a.status_code, a.delivery_status) for a in log] == [
                (200, "delivered"),
                (503, "delivered"),
                (500, "delivered"),
            ]
            assert [a.error for a in log] == [None, "HTTP 503", "HTTP 500"]
        finally:
            await hub.close()


async def test_gone_disables_the_subscription(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            subs = Subscriptions.for_hub(running.hub)
            created = await subs.create(
                team_id=running.team.id, url=rx.url, events=["completion.created"]
            )
            rx.secret = created.secret
            rx.script(410)
            await ask_openai(running)
            dispatcher = Dispatcher.for_hub(running.hub)
            assert (await dispatcher.run_once()).delivered == 0
            row = await subs.get(created.id)
            assert row.active is False
            assert "410" in (row.disabled_reason or "")
            await ask_openai(running)
            running.clock.advance(3600)
            assert (await dispatcher.run_once()).attempted == 0
            assert rx.hits == 1
    finally:
        await running.close()


async def test_retry_after_is_honoured(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            rx.secret = (
                await Subscriptions.for_hub(running.hub).create(
                    team_id=running.team.id, url=rx.url, events=["completion.created"]
                )
            ).secret
            rx.script(Answer(429, {"Retry-After": "120"}))
            await ask_openai(running)
            dispatcher = Dispatcher.for_hub(running.hub)
            await dispatcher.run_once()
            running.clock.advance(119)
            assert (await dispatcher.run_once()).attempted == 0
            running.clock.advance(1)
            assert (await dispatcher.run_once()).delivered == 1
    finally:
        await running.close()


async def test_gives_up_after_the_horizon(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            rx.secret = (
                await Subscriptions.for_hub(running.hub).create(
                    team_id=running.team.id, url=rx.url, events=["completion.created"]
                )
            ).secret
            rx.script(*([500] * 50))
            await ask_openai(running)
            dispatcher = Dispatcher.for_hub(running.hub)
            for _ in range(30):
                await dispatcher.run_once()
                running.clock.advance(3600)
            assert 5 <= rx.hits <= 9
            async with running.hub.sessions() as session:
                [status] = await session.scalars(select(EventDelivery.status))
            assert status == "failed"
    finally:
        await running.close()


async def test_key_events_are_delivered(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            rx.secret = (
                await Subscriptions.for_hub(running.hub).create(
                    team_id=running.team.id, url=rx.url, events=["key.created", "key.revoked"]
                )
            ).secret
            issued = await running.hub.keys.create(running.team, name="ci")
            await running.hub.keys.revoke(issued.id)
            await Dispatcher.for_hub(running.hub).run_once()
            got = await rx.wait_for(2)
            assert sorted(r.body["type"] for r in got) == ["key.created", "key.revoked"]
            assert {r.body["data"]["prefix"] for r in got} == {issued.prefix}
            assert all(issued.key not in str(r.body) for r in got)
    finally:
        await running.close()


async def test_deleted_subscription_cancels_pending_deliveries(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            subs = Subscriptions.for_hub(running.hub)
            created = await subs.create(
                team_id=running.team.id, url=rx.url, events=["completion.created"]
            )
            rx.secret = created.secret
            rx.script(500)
            await ask_openai(running)
            dispatcher = Dispatcher.for_hub(running.hub)
            await dispatcher.run_once()
            await subs.delete(created.id)
            running.clock.advance(60)
            assert (await dispatcher.run_once()).attempted == 0
            assert rx.hits == 1
            async with running.hub.sessions() as session:
                assert await session.get(Subscription, created.id) is None
    finally:
        await running.close()


async def test_a_tick_with_nothing_to_do_takes_no_write_lock(sqlite_url: str) -> None:
    """The dispatcher asks a read connection whether anything waits or is due: with SQLite's
    write lock held elsewhere (another process, or the ledger writer), a tick that finds
    nothing does not queue for it (it used to BEGIN IMMEDIATE twice per tick)."""
    running = await start_hub(PRIVATE_OK, database_url=sqlite_url)
    path = make_url(sqlite_url).database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        dispatcher = Dispatcher.for_hub(running.hub)
        # A hang guard only: waiting for the lock would take the busy timeout (30 s).
        report = await asyncio.wait_for(dispatcher.run_once(), timeout=10)
        assert (report.fanned_out, report.attempted) == (0, 0)
        other.execute("COMMIT")
    finally:
        other.close()
        await running.close()
