"""Signing in with a key: the operator key or a team key whose role may read usage (the
same rule as the admin API), with a lockout after repeated failures.

Failures are counted in a moving window (the `limits` library; in Redis when the hub has
one, so every process counts the same failures, else in this process's memory): failed keys
and failed two-factor codes per client address, and failed codes per member too, so that
guessing a member's codes from many addresses is stopped as well. When a window
fills, the address (or the member's second step) is refused for the rest of it, and the
lockout is written to the audit log once.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from connectors.dashboard.refusal import N_, Refusal
from hub.audit import Actor, acting_as
from hub.errors import HubError
from hub.roles import allows, rank
from hub.service import Hub
from hub.store.ledger_tables import Member

ADDRESSES = "dashboard-signin"
MEMBERS = "dashboard-second-factor"


class SignInRefused(Refusal):
    """A sign-in that did not succeed; `shown()` is the sentence on the form."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a first factor identified: a key (perhaps held by a member), a member, or neither
    (the operator)."""

    key_id: int | None
    member: Member | None
    via: str  # key | oidc | discord


class SignIn:
    def __init__(self, hub: Hub, *, failures: int, minutes: int) -> None:
        self._hub = hub
        self._limit = RateLimitItemPerMinute(failures, minutes)
        self._storage = _storage(hub.settings.redis_url, hub.settings.redis_key_prefix)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._minutes = minutes

    async def close(self) -> None:
        # limits has no close: its bridge holds the redis-py client.
        client = getattr(getattr(self._storage, "bridge", None), "storage", None)
        if client is not None:
            await client.aclose()

    @property
    def minutes(self) -> int:
        return self._minutes

    async def locked(self, address: str) -> bool:
        return not await self._limiter.test(self._limit, ADDRESSES, address)

    async def code_locked(self, address: str, member: Member) -> bool:
        return await self.locked(address) or not await self._limiter.test(
            self._limit, MEMBERS, str(member.id)
        )

    async def check(self, secret: str, *, address: str) -> Principal:
        """Who the key is; refuses with the reason."""
        if await self.locked(address):
            raise self.lockout()
        try:
            return await self._resolve(secret.strip(), address)
        except _TeamRule:
            raise  # the key is right; the team's rule says no
        except SignInRefused:
            await self._failed(address)
            raise

    async def code_failed(self, address: str, member: Member) -> None:
        """Count a wrong two-factor code against the address and the member."""
        await self._failed(address)
        await self._limiter.hit(self._limit, MEMBERS, str(member.id))
        if not await self._limiter.test(self._limit, MEMBERS, str(member.id)):
            await self._audit_lockout(f"member:{member.id}", team_id=member.team_id)

    def lockout(self) -> SignInRefused:
        return SignInRefused.ngettext(
            "Too many failed sign-ins; try again in %(num)s minute.",
            "Too many failed sign-ins; try again in %(num)s minutes.",
            self._minutes,
        )

    async def _failed(self, address: str) -> None:
        await self._limiter.hit(self._limit, ADDRESSES, address)
        if await self.locked(address):
            await self._audit_lockout(address)

    async def _resolve(self, secret: str, address: str) -> Principal:
        operator = self._hub.settings.security.operator_key
        if operator and hmac.compare_digest(secret.encode(), operator.encode()):
            return Principal(key_id=None, member=None, via="key")
        try:
            found = await self._hub.keys.authenticate(secret, client_ip=address)
        except HubError:
            raise SignInRefused(N_("That key was not accepted.")) from None
        role, member = found.key.role, None
        if found.key.member_id is not None:
            member = await self._hub.members.get_by_id(found.key.member_id)
            role = min(role, member.role, key=rank)
        if not allows(role, "read_usage"):
            raise SignInRefused(N_("That key was not accepted."))
        team = await self._hub.teams.get_by_id(found.key.team_id)
        if member is None and await self._hub.two_factor.required(team):
            raise _TeamRule(
                N_(
                    "Team '%(team)s' requires two-factor sign-in: sign in as a member "
                    "(single sign-on, or a key that belongs to a member)."
                ),
                team=team.name,
            )
        return Principal(key_id=found.key.id, member=member, via="key")

    async def _audit_lockout(self, target: str, *, team_id: int | None = None) -> None:
        with acting_as(Actor("dashboard", target)):
            await self._hub.audit.note(
                action="dashboard.lockout",
                target=target,
                team_id=team_id,
                after={"failures": self._limit.amount, "minutes": self._minutes},
            )


class _TeamRule(SignInRefused):
    pass


def _storage(redis_url: str, key_prefix: str) -> Storage:
    if not redis_url:
        return MemoryStorage()
    scheme, _, rest = redis_url.partition("://")
    return RedisStorage(
        f"async+{scheme}://{rest}", implementation="redispy", key_prefix=f"{key_prefix}signin"
    )
