"""Requests and tokens per minute, per key, member and team, through the `limits` library.

In-process memory by default; Redis when `REDIS_URL` / `[redis] url` is set, so several hub
processes share one limit. Requests per minute use a sliding-window counter (a burst is
counted exactly: the eleventh request of a burst under 10/min is refused; across a minute's
edge the previous minute counts in proportion); tokens per minute use a fixed window that
counts what requests actually used, checked before each request and charged after it. Both
are O(1) per check, in memory and in Redis (`hub/rate_counters.py`).

If Redis is configured but unreachable, requests are refused with a clear error and
`/readyz` fails: the hub never falls back to per-process limits silently.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.config import RateLimitDefaults
from hub.errors import BadRequest, ProviderUnavailable, RateLimited
from hub.ledger.teams import team_scopes
from hub.model import Caller
from hub.rate_counters import Counters
from hub.store.governance_tables import RateLimit
from hub.ttl_cache import TTLCache

_WHO = {"key": "this API key", "member": "you", "team": "team '{team}'"}


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    scope: str
    scope_id: int
    rpm: int | None
    tpm: int | None
    key: str = field(init=False, repr=False, compare=False)  # the counters' key

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", f"{self.scope}/{self.scope_id}")


class RateLimiterUnavailable(ProviderUnavailable):
    code = "rate_limiter_unavailable"


class RateLimits:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        defaults: RateLimitDefaults,
        counters: Counters,
        shared: bool,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._defaults = defaults
        self._counters = counters
        self.shared = shared
        # A caller's limits as applied (its rows and the defaults), by (team, member, key):
        # read on every request, so the rows' read and the defaults' lookups happen once
        # per caller and TTL, not per request.
        self._rows: TTLCache[tuple[int, int | None, int | None], tuple[AppliedLimit, ...]]
        self._rows = TTLCache(clock, ttl_s=5.0)

    async def close(self) -> None:
        await self._counters.close()

    async def ready(self) -> tuple[bool, str]:
        try:
            ok = await self._counters.check()
        except Exception as exc:  # noqa: BLE001 - any failure: report it, do not crash
            return False, f"rate-limit storage unreachable: {type(exc).__name__}"
        return (True, "ok") if ok else (False, "rate-limit storage unreachable")

    async def set(
        self, *, scope: str, scope_id: int, team_id: int, rpm: int | None, tpm: int | None
    ) -> None:
        if scope not in ("team", "member", "key"):
            raise BadRequest("A rate limit applies to a team, a member or a key.")
        if any(v is not None and v < 1 for v in (rpm, tpm)):
            raise BadRequest("A rate limit is a positive number per minute.")
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(RateLimit).where(RateLimit.scope == scope, RateLimit.scope_id == scope_id)
            )
            before = None if row is None else {"rpm": row.rpm, "tpm": row.tpm}
            if row is None:
                session.add(RateLimit(scope=scope, scope_id=scope_id, rpm=rpm, tpm=tpm))
            else:
                row.rpm, row.tpm = rpm, tpm
            await audit.record(
                session,
                now=self._clock.now(),
                action="rate_limit.set",
                team_id=team_id,
                target=f"{scope}:{scope_id}",
                before=before,
                after={"rpm": rpm, "tpm": tpm},
            )
        self._rows.invalidate()

    async def get(self, *, scope: str, scope_id: int) -> RateLimit | None:
        """The scope's own limits (None: it has none, the [rate_limits] defaults apply)."""
        async with self._sessions() as session:
            found: RateLimit | None = await session.scalar(
                select(RateLimit).where(RateLimit.scope == scope, RateLimit.scope_id == scope_id)
            )
            return found

    async def of_team(self, team_id: int) -> list[RateLimit]:
        """The limits set on the team, its members and its keys (where none is set, the
        [rate_limits] defaults apply)."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(RateLimit)
                .where(team_scopes(RateLimit, team_id))
                .order_by(RateLimit.scope, RateLimit.scope_id)
            )
            return list(rows)

    async def clear(self, *, scope: str, scope_id: int, team_id: int) -> bool:
        """Remove the scope's own limits, so the defaults apply again; False if it had none."""
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(RateLimit).where(RateLimit.scope == scope, RateLimit.scope_id == scope_id)
            )
            if row is None:
                return False
            before = {"rpm": row.rpm, "tpm": row.tpm}
            await session.delete(row)
            await audit.record(
                session,
                now=self._clock.now(),
                action="rate_limit.clear",
                team_id=team_id,
                target=f"{scope}:{scope_id}",
                before=before,
                after=None,
            )
        self._rows.invalidate()
        return True

    async def applicable(self, caller: Caller) -> list[AppliedLimit]:
        who = (caller.team_id, caller.member_id, caller.key_id)
        return list(await self._rows.get(who, lambda: self._applied(who)))

    async def _applied(self, who: tuple[int, int | None, int | None]) -> tuple[AppliedLimit, ...]:
        team_id, member_id, key_id = who
        scopes = [("team", team_id)]
        if member_id is not None:
            scopes.append(("member", member_id))
        if key_id is not None:
            scopes.append(("key", key_id))
        rows = await self._load(scopes)
        applied = []
        for scope, scope_id in scopes:
            row = rows.get((scope, scope_id))
            rpm = row.rpm if row else getattr(self._defaults, f"{scope}_rpm")
            tpm = row.tpm if row else getattr(self._defaults, f"{scope}_tpm")
            if rpm or tpm:
                applied.append(AppliedLimit(scope, scope_id, rpm or None, tpm or None))
        return tuple(applied)

    async def _load(self, scopes: list[tuple[str, int]]) -> dict[tuple[str, int], RateLimit]:
        """Limits are read on every request, so cached briefly: another process's change
        shows within 5 s, this process's at once."""
        wanted = or_(*(and_(RateLimit.scope == s, RateLimit.scope_id == i) for s, i in scopes))
        async with self._sessions() as session:
            found = await session.scalars(select(RateLimit).where(wanted))
            return {(r.scope, r.scope_id): r for r in found}

    async def admit(self, caller: Caller) -> list[AppliedLimit]:
        """Count this request against every requests-per-minute limit; refuse if one is full
        or a tokens-per-minute limit has nothing left."""
        applied = await self.applicable(caller)
        counters = self._counters
        try:
            for limit in applied:
                key = limit.key
                if limit.tpm is not None and not await counters.tokens_left(key, limit.tpm):
                    wait = await counters.tokens_wait(key, limit.tpm)
                    raise self._refusal(caller, limit, "tpm", wait)
                if limit.rpm is not None and not await counters.hit_requests(key, limit.rpm):
                    wait = await counters.requests_wait(key, limit.rpm)
                    raise self._refusal(caller, limit, "rpm", wait)
        except RateLimited:
            raise
        except Exception as exc:  # noqa: BLE001 - storage down: refuse loudly, never skip
            raise RateLimiterUnavailable(
                "Rate limits cannot be checked right now (the shared limit store is "
                "unreachable); please try again shortly.",
                detail=f"{type(exc).__name__}: {exc}"[:200],
            ) from exc
        return applied

    async def charge_tokens(self, applied: list[AppliedLimit], tokens: int) -> None:
        if tokens <= 0:
            return
        for limit in applied:
            if limit.tpm is not None:
                await self._counters.charge_tokens(limit.key, limit.tpm, tokens)

    def _refusal(
        self, caller: Caller, limit: AppliedLimit, kind: str, wait_s: float
    ) -> RateLimited:
        wait = max(1, math.ceil(wait_s))
        who = _WHO[limit.scope].format(team=caller.team_name)
        figure = f"{limit.rpm} requests" if kind == "rpm" else f"{limit.tpm:,} tokens"
        return RateLimited(
            f"Rate limit reached: {who} may use {figure} per minute; try again in {wait} "
            f"second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )
