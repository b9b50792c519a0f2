"""Signing in with a key: the operator key or a team key whose role may read usage (the
same rule as the admin API), with a lockout after repeated failures from one address.

Failures are counted per client address in a moving window (the `limits` library, in this
process's memory); when the window fills, the address is refused for the rest of it, and the
lockout is written to the audit log once.
"""

from __future__ import annotations

import hmac

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from hub.audit import Actor, acting_as
from hub.errors import HubError
from hub.roles import allows, rank
from hub.service import Hub


class SignInRefused(Exception):
    """A sign-in that did not succeed; `str()` is the sentence shown on the form."""


class SignIn:
    def __init__(self, hub: Hub, *, failures: int, minutes: int) -> None:
        self._hub = hub
        self._limit = RateLimitItemPerMinute(failures, minutes)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._minutes = minutes

    async def locked(self, address: str) -> bool:
        return not await self._limiter.test(self._limit, "dashboard-signin", address)

    async def check(self, secret: str, *, address: str) -> int | None:
        """The signing-in key's id (None: the operator); refuses with the reason."""
        if await self.locked(address):
            raise SignInRefused(
                f"Too many failed sign-ins from your address; try again in {self._minutes} minutes."
            )
        try:
            return await self._resolve(secret.strip(), address)
        except SignInRefused:
            await self._limiter.hit(self._limit, "dashboard-signin", address)
            if await self.locked(address):
                await self._audit_lockout(address)
            raise

    async def _resolve(self, secret: str, address: str) -> int | None:
        operator = self._hub.settings.security.operator_key
        if operator and hmac.compare_digest(secret.encode(), operator.encode()):
            return None
        try:
            found = await self._hub.keys.authenticate(secret, client_ip=address)
        except HubError:
            raise SignInRefused("That key was not accepted.") from None
        role = found.key.role
        if found.key.member_id is not None:
            role = min(
                role, (await self._hub.members.get_by_id(found.key.member_id)).role, key=rank
            )
        if not allows(role, "read_usage"):
            raise SignInRefused("That key was not accepted.")
        return found.key.id

    async def _audit_lockout(self, address: str) -> None:
        with acting_as(Actor("dashboard", address)):
            await self._hub.audit.note(
                action="dashboard.lockout",
                target=address,
                after={"failures": self._limit.amount, "minutes": self._minutes},
            )
