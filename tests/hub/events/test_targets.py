"""Private, loopback and link-local targets are refused unless the operator allows them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from hub.events.targets import TargetRefused, check_target
from hub.store.event_tables import EventDelivery
from tests.fakes.receivers import Receiver
from tests.hub.events.support import PRIVATE_OK, ask_openai, served_hub

REFUSED = [
    "http://127.0.0.1:9/hook",
    "http://localhost/hook",
    "http://10.1.2.3/x",
    "http://192.168.0.10/x",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://0.0.0.0/x",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_private_addresses_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="private or loopback"):
        await check_target(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http://u:p@example.com/"])
async def test_malformed_targets_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=True)


async def test_public_address_and_allowed_private_pass() -> None:
    await check_target("https://93.184.216.34/hook", allow_private=False)
    await check_target("http://127.0.0.1:9/hook", allow_private=True)


async def test_refused_at_creation_and_at_delivery(sqlite_url: str) -> None:
    running = await served_hub({}, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            strict = Subscriptions.for_hub(running.hub)
            with pytest.raises(TargetRefused):
                await strict.create(
                    team_id=running.team.id, url=rx.url, events=["completion.created"]
                )
            assert await strict.list() == []
            # Created while allowed (say, before the operator changed the setting) ...
            lax = Subscriptions(
                running.hub.sessions,
                clock=running.clock,
                secrets_box=running.hub.secrets,
                allow_private=True,
            )
            rx.secret = (
                await lax.create(team_id=running.team.id, url=rx.url, events=["completion.created"])
            ).secret
            await ask_openai(running)
            # ... and refused when delivering under the strict setting.
            await Dispatcher.for_hub(running.hub).run_once()
            assert rx.hits == 0
            async with running.hub.sessions() as session:
                [status] = await session.scalars(select(EventDelivery.status))
            assert status == "refused"
    finally:
        await running.close()


async def test_unknown_event_type_named(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        with pytest.raises(Exception, match="Unknown event type 'completion.done'"):
            await Subscriptions.for_hub(running.hub).create(
                team_id=running.team.id, url="http://127.0.0.1/x", events=["completion.done"]
            )
    finally:
        await running.close()
