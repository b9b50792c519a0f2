"""The TOTP service on both backends: a code is good once even when two sign-ins race with
it, drift of one step either way is accepted and no more, recovery codes are used up, the
secret is encrypted at rest, and a member's removal takes their factor with them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import select

from hub.clock import FakeClock
from hub.errors import BadRequest
from hub.store.signin_tables import TotpFactor
from tests.support.hubs import start_hub

START = datetime(2026, 11, 20, 12, 0, 10, tzinfo=UTC)


async def test_totp_codes_work_once_within_one_step_of_drift(database_url: str) -> None:
    clock = FakeClock(START)
    running = await start_hub({}, database_url=database_url, clock=clock)
    try:
        hub = running.hub
        member = await hub.members.add(running.team, "ada", role="admin")
        enrolment = await hub.two_factor.begin(member)
        assert enrolment.uri.startswith("otpauth://totp/UniLLM%20Hub:ada?secret=")
        totp = pyotp.TOTP(enrolment.secret)
        assert not (await hub.two_factor.state(member)).enrolled  # not until confirmed
        assert not await hub.two_factor.verify(member, totp.at(clock.now()))
        codes = await hub.two_factor.confirm(member, totp.at(clock.now()))
        state = await hub.two_factor.state(member)
        assert state.enrolled and state.recovery_left == 10 and not state.required
        async with hub.sessions() as session:
            stored = await session.scalar(select(TotpFactor))
        assert stored is not None and enrolment.secret not in stored.secret_encrypted
        assert hub.secrets.decrypt(stored.secret_encrypted) == enrolment.secret
        # The confirming code is used: the same step cannot sign in.
        assert not await hub.two_factor.verify(member, totp.at(clock.now()))
        clock.advance(30)
        code = totp.at(clock.now())
        results = await asyncio.gather(*(hub.two_factor.verify(member, code) for _ in range(4)))
        assert sorted(results) == [False, False, False, True]  # one winner of the race
        # One step of drift either way; two steps is too far.
        clock.advance(60)
        assert await hub.two_factor.verify(member, totp.at(clock.now().timestamp() + 30))
        assert not await hub.two_factor.verify(member, totp.at(clock.now().timestamp() + 90))
        assert not await hub.two_factor.verify(member, totp.at(clock.now().timestamp() - 90))
        # A recovery code, in any case and spacing, once.
        assert await hub.two_factor.verify(member, codes[3].upper().replace("-", " "))
        assert not await hub.two_factor.verify(member, codes[3])
        assert (await hub.two_factor.state(member)).recovery_left == 9
        await hub.members.remove(member)
        async with hub.sessions() as session:
            assert await session.scalar(select(TotpFactor)) is None
    finally:
        await running.close()


async def test_a_begun_factor_is_replaced_and_a_confirmed_one_must_be_removed_first(
    sqlite_url: str,
) -> None:
    clock = FakeClock(START)
    running = await start_hub({}, database_url=sqlite_url, clock=clock)
    try:
        hub = running.hub
        member = await hub.members.add(running.team, "bo")
        first = await hub.two_factor.begin(member)
        second = await hub.two_factor.begin(member)
        assert first.secret != second.secret
        assert await hub.two_factor.pending(member) == second
        old = pyotp.TOTP(first.secret).at(clock.now())
        if old != pyotp.TOTP(second.secret).at(clock.now()):  # (one chance in a million)
            with pytest.raises(BadRequest):
                await hub.two_factor.confirm(member, old)
        await hub.two_factor.confirm(member, pyotp.TOTP(second.secret).at(clock.now()))
        with pytest.raises(BadRequest, match="already set up"):
            await hub.two_factor.begin(member)
        await hub.two_factor.remove(member)
        assert not (await hub.two_factor.state(member)).enrolled
        await hub.two_factor.require(running.team, True)
        assert (await hub.two_factor.state(member)).required
        entries = [e.action for e in await hub.audit.entries()]
        assert entries.count("member.two_factor") == 2 and "team.two_factor" in entries
    finally:
        await running.close()
