"""Team API keys: shown once, stored as a SHA-256 hash with a visible prefix.

A key can expire, be revoked, be rotated with a grace period (same id, so limits and budgets
carry over; the previous secret keeps working until the grace ends) and be limited to a list
of client networks.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.errors import (
    AuthError,
    BadRequest,
    Forbidden,
    InvalidField,
    KeyExpired,
    KeyRevoked,
    NotFound,
)
from hub.events.outbox import EventSink
from hub.ledger.key_cache import CHANNEL, CachedKey, KeyCache, KeyUsage
from hub.ledger.teams import require_active
from hub.model import Caller
from hub.roles import ROLES
from hub.signals import Signals, Subscription
from hub.store.ledger_tables import ApiKey, Team

log = logging.getLogger("hub.keys")
KEY_PREFIX = "uh-"
LAST_USED_INTERVAL_S = 60.0  # `last_used_at` is written at most this often per key
JOIN_RETRY_S = 30.0  # after Redis refused the subscription
MAX_SECRET_LENGTH = 200  # ours are 55 characters; longer is not one of ours


def hash_secret(secret: str) -> str:
    # surrogatepass: header bytes that are not UTF-8 arrive as lone surrogates; hashing must
    # not raise on them (such a secret matches nothing anyway).
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret(public: str | None = None) -> tuple[str, str]:
    """A fresh key and its visible prefix: `uh-<8 id chars>_<43 secret chars>`."""
    public = public or secrets.token_hex(4)
    secret = f"{KEY_PREFIX}{public}_{secrets.token_urlsafe(32)}"
    return secret, f"{KEY_PREFIX}{public}"


def parse_networks(cidrs: builtins.list[str]) -> builtins.list[str]:
    try:
        return [str(ipaddress.ip_network(c.strip(), strict=False)) for c in cidrs if c.strip()]
    except ValueError as exc:
        raise BadRequest(f"Not a network address: {exc}.") from exc


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: int
    team: str
    name: str
    prefix: str
    key: str  # the only time the secret exists outside the caller's hands
    role: str = "member"
    expires_at: datetime | None = None
    previous_valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    caller: Caller
    key: ApiKey


def key_view(row: ApiKey) -> dict[str, object]:
    """What may be shown of a key: never its hash."""
    return {
        "id": row.id,
        "team_id": row.team_id,
        "member_id": row.member_id,
        "name": row.name,
        "role": row.role,
        "prefix": row.prefix,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "last_used_at": row.last_used_at,
        "previous_valid_until": row.previous_valid_until,
        "ip_allowlist": json.loads(row.ip_allowlist) if row.ip_allowlist else [],
    }


class Keys:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        events: EventSink,
        *,
        signals: Signals | None = None,
        cache_ttl_s: float = 5.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._events = events
        self._signals = signals
        self._subscription: Subscription | None = None
        self._join_retry_at = 0.0
        self._reading: dict[str, tuple[int, asyncio.Future[tuple[ApiKey, str] | None]]] = {}
        self.cache = KeyCache(clock, ttl_s=cache_ttl_s)
        self.usage = KeyUsage(sessions, clock, interval_s=LAST_USED_INTERVAL_S)

    async def start(self) -> None:
        """Hear other processes' revocations (hub.signals); idempotent. Redis down: the
        cache's TTL bounds what another process's change takes to show, and authentication
        tries to join again every JOIN_RETRY_S."""
        if self._signals is None or self._subscription is not None:
            return
        if self._clock.monotonic() < self._join_retry_at:
            return
        try:
            self._subscription = await self._signals.subscribe(CHANNEL, self.cache.on_signal)
        except Exception as exc:  # noqa: BLE001 - Redis down must not stop the hub serving
            self._join_retry_at = self._clock.monotonic() + JOIN_RETRY_S
            log.warning("key revocations from other processes not heard (%s)", exc)
            return
        self._signals.on_reconnect(self.cache.on_reconnect)
        self.cache.forget()  # whatever was cached while deaf may be stale

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        await self.usage.close()

    async def forget(self, key_id: int | None = None) -> None:
        """A key changed (None: keys changed): drop it from every process's cache now."""
        self.cache.forget(key_id)
        if self._signals is not None and self._signals.shared:
            await self._signals.publish(CHANNEL, "*" if key_id is None else str(key_id))

    async def create(
        self,
        team: Team,
        *,
        name: str = "",
        role: str = "member",
        member_id: int | None = None,
        expires_at: datetime | None = None,
        ip_allowlist: builtins.list[str] | None = None,
    ) -> IssuedKey:
        if role not in ROLES:
            raise BadRequest(f"A key's role is one of: {', '.join(ROLES)}.")
        require_active(team)
        now = self._clock.now()
        if expires_at is not None and expires_at <= now:
            raise InvalidField("expires_at", _past_expiry(expires_at))
        networks = parse_networks(ip_allowlist or [])
        secret, prefix = new_secret()
        async with self._sessions.begin() as session:
            row = ApiKey(
                team_id=team.id,
                member_id=member_id,
                name=name,
                role=role,
                prefix=prefix,
                secret_hash=hash_secret(secret),
                created_at=now,
                expires_at=expires_at,
                ip_allowlist=json.dumps(networks) if networks else None,
            )
            session.add(row)
            await session.flush()
            await audit.record(
                session,
                now=now,
                action="key.create",
                team_id=team.id,
                target=f"key:{row.id}",
                after=key_view(row),
            )
            await self._events.emit(
                session, team_id=team.id, type="key.created", data=_key_event(row, team.name)
            )
        return IssuedKey(
            id=row.id,
            team=team.name,
            name=name,
            prefix=prefix,
            key=secret,
            role=role,
            expires_at=expires_at,
        )

    async def get(self, key_id: int) -> ApiKey:
        async with self._sessions() as session:
            row = await session.get(ApiKey, key_id)
        if row is None:
            raise NotFound(f"No key with id {key_id}.")
        return row

    async def list(self, team: Team | None = None) -> builtins.list[tuple[ApiKey, str]]:
        async with self._sessions() as session:
            query = select(ApiKey, Team.name).join(Team, Team.id == ApiKey.team_id)
            if team is not None:
                query = query.where(ApiKey.team_id == team.id)
            rows = await session.execute(query.order_by(ApiKey.id))
            return [(key, team_name) for key, team_name in rows]

    async def revoke(self, key_id: int) -> ApiKey:
        async with self._sessions.begin() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"No key with id {key_id}.")
            if row.revoked_at is None:
                before = key_view(row)
                row.revoked_at = self._clock.now()
                team = await session.get(Team, row.team_id)
                assert team is not None
                await audit.record(
                    session,
                    now=self._clock.now(),
                    action="key.revoke",
                    team_id=row.team_id,
                    target=f"key:{row.id}",
                    before=before,
                    after=key_view(row),
                )
                await self._events.emit(
                    session,
                    team_id=row.team_id,
                    type="key.revoked",
                    data=_key_event(row, team.name),
                )
        await self.forget(row.id)
        return row

    async def rotate(self, key_id: int, *, grace: timedelta) -> IssuedKey:
        """A new secret now; the old one stays valid until the grace period ends."""
        if grace < timedelta(0):
            raise BadRequest("The grace period cannot be negative.")
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"No key with id {key_id}.")
            if row.revoked_at is not None:
                raise BadRequest(f"Key {key_id} is revoked; create a new one instead.")
            team = await session.get(Team, row.team_id)
            assert team is not None
            before = key_view(row)
            secret, _ = new_secret(row.prefix[len(KEY_PREFIX) :])
            row.previous_hash = row.secret_hash if grace else None
            row.previous_valid_until = now + grace if grace else None
            row.secret_hash = hash_secret(secret)
            await audit.record(
                session,
                now=now,
                action="key.rotate",
                team_id=row.team_id,
                target=f"key:{row.id}",
                before=before,
                after=key_view(row),
            )
        await self.forget(row.id)
        return IssuedKey(
            id=row.id,
            team=team.name,
            name=row.name,
            prefix=row.prefix,
            key=secret,
            role=row.role,
            expires_at=row.expires_at,
            previous_valid_until=row.previous_valid_until,
        )

    async def update(
        self,
        key_id: int,
        *,
        ip_allowlist: builtins.list[str] | None = None,
        expires_at: datetime | None = None,
        clear_expiry: bool = False,
    ) -> ApiKey:
        async with self._sessions.begin() as session:
            row = await session.get(ApiKey, key_id)
            if row is None:
                raise NotFound(f"No key with id {key_id}.")
            before = key_view(row)
            if ip_allowlist is not None:
                networks = parse_networks(ip_allowlist)
                row.ip_allowlist = json.dumps(networks) if networks else None
            if expires_at is not None or clear_expiry:
                row.expires_at = expires_at
            await audit.record(
                session,
                now=self._clock.now(),
                action="key.update",
                team_id=row.team_id,
                target=f"key:{row.id}",
                before=before,
                after=key_view(row),
            )
        await self.forget(row.id)
        return row

    async def authenticate(self, secret: str, *, client_ip: str | None = None) -> AuthenticatedKey:
        """Resolve a presented secret to its team; refuses unknown, revoked, expired keys and
        clients outside the key's allowed networks."""
        if (
            not secret.startswith(KEY_PREFIX)
            or len(secret) > MAX_SECRET_LENGTH
            or not secret.isascii()
        ):
            raise AuthError("Invalid API key.")
        digest = hash_secret(secret)
        now = self._clock.now()
        if self._subscription is None and self._signals is not None and self._signals.shared:
            await self.start()  # a hub that never started, or Redis was down at start-up
        cached = self.cache.get(digest)
        if cached is None:
            generation = self.cache.generation
            # One read per secret at a time: when a busy key's entry lapses, the requests
            # arriving meanwhile share it instead of queueing one read each.
            reading = self._reading.get(digest)
            if reading is None or reading[0] != generation:
                reading = (generation, asyncio.ensure_future(self._read(digest)))
                self._reading[digest] = reading
                reading[1].add_done_callback(lambda _: self._read_done(digest, reading))
            found = await asyncio.shield(reading[1])
            if found is None:
                raise AuthError("Invalid API key.")
            cached = self.cache.put(digest, found[0], found[1], generation=generation)
        _check_validity(cached, digest, now)
        _check_network(cached, client_ip)
        self.usage.note(cached.id, cached.last_used_at, now)
        return AuthenticatedKey(caller=cached.caller, key=cached.row)

    async def _read(self, digest: str) -> tuple[ApiKey, str] | None:
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(ApiKey, Team.name)
                    .join(Team, Team.id == ApiKey.team_id)
                    .where(or_(ApiKey.secret_hash == digest, ApiKey.previous_hash == digest))
                )
            ).first()
        return None if found is None else (found[0], found[1])

    def _read_done(
        self, digest: str, reading: tuple[int, asyncio.Future[tuple[ApiKey, str] | None]]
    ) -> None:
        if self._reading.get(digest) is reading:
            del self._reading[digest]


def _past_expiry(moment: datetime) -> str:
    return (
        f"The expiry {moment:%Y-%m-%d %H:%M} UTC is already past; give a later date "
        "(2027-01-31) or a duration from now (90d)."
    )


def _check_validity(row: CachedKey, digest: str, now: datetime) -> None:
    if row.revoked_at is not None:
        raise KeyRevoked(f"This API key ({row.prefix}) was revoked.")
    if row.expires_at is not None and row.expires_at <= now:
        raise KeyExpired(
            f"This API key ({row.prefix}) expired on {row.expires_at:%Y-%m-%d %H:%M} UTC."
        )
    current = hmac.compare_digest(row.secret_hash, digest)
    if not current and (row.previous_valid_until is None or row.previous_valid_until <= now):
        raise KeyExpired(
            f"This API key ({row.prefix}) was rotated; its old secret is no longer valid."
        )


def _check_network(row: CachedKey, client_ip: str | None) -> None:
    if not row.ip_allowlist:
        return
    networks = _networks(row.ip_allowlist)
    try:
        address = ipaddress.ip_address(client_ip or "")
    except ValueError:
        address = None
    if address is not None and isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address is None or not any(address in n for n in networks):
        raise Forbidden(
            f"This API key ({row.prefix}) may not be used from {client_ip or 'this address'}."
        )


@functools.lru_cache(maxsize=1024)
def _networks(
    allowlist: str,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in json.loads(allowlist))


def _key_event(row: ApiKey, team_name: str) -> dict[str, object]:
    return {
        "id": row.id,
        "team": team_name,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }
