"""With Redis, every hub process counts the same failed sign-ins: failures spread over two
processes lock the address out in both (one process's memory would let an attacker try
`lockout_failures` times per process)."""

from __future__ import annotations

import pytest

from connectors.dashboard.signin import SignIn, SignInRefused
from tests.support.hubs import start_hub
from tests.support.services import REDIS_URL, delete_redis_prefix, redis_prefix


async def test_failures_in_two_processes_count_together(sqlite_url: str) -> None:
    prefix = await redis_prefix()
    running = await start_hub(
        {"redis": {"url": REDIS_URL, "key_prefix": prefix}}, database_url=sqlite_url
    )
    first = SignIn(running.hub, failures=3, minutes=15)  # as in two processes: two
    second = SignIn(running.hub, failures=3, minutes=15)  # limiters, one Redis
    try:
        for signin in (first, second, first):
            with pytest.raises(SignInRefused, match="not accepted"):
                await signin.check("uh-wrong", address="203.0.113.7")
        with pytest.raises(SignInRefused, match="Too many failed sign-ins"):
            await second.check(running.key.key, address="203.0.113.7")
        assert await first.locked("203.0.113.7") and not await first.locked("203.0.113.8")
        lockouts = [e for e in await running.hub.audit.entries() if e.action == "dashboard.lockout"]
        assert [e.target for e in lockouts] == ["203.0.113.7"]
    finally:
        await first.close()
        await second.close()
        await running.close()
        await delete_redis_prefix(prefix)
