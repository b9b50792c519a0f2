"""Who is signed in: an encrypted session cookie, checked again on every request.

The cookie holds who signed in (a key's id, a member's id, or the operator's key
fingerprint), whether a second factor was given, a CSRF token and an expiry, encrypted with
the hub's secret key (hub.secrets, Fernet): nothing in it can be read or forged. Every request
resolves the key and the member again through the hub's services, so a revoked key, a removed
member, a changed role, a changed operator key or a team that now requires two-factor sign-in
takes effect at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from hub.errors import HubError
from hub.roles import allows, rank
from hub.service import Hub
from hub.store.ledger_tables import Member, Team
from hub.store.secretbox import SecretBoxError

COOKIE = "hub_session"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in principal: the operator (every team), or one team's key or member and
    the role it acts with."""

    role: str
    csrf: str
    team: Team | None = None  # None: the operator
    key_id: int | None = None
    member: Member | None = None  # the person, when the key is theirs or they signed in as one
    label: str = ""
    via: str = "key"  # how this session signed in: key | oidc | discord
    second_factor: bool = False  # given at this sign-in
    # The team requires a second factor that this sign-in has not given: only the two-factor
    # pages are open until it is.
    needs_second_factor: bool = False

    @property
    def is_operator(self) -> bool:
        return self.team is None

    @property
    def may_change(self) -> bool:
        return allows(self.role, "manage")

    @property
    def member_id(self) -> int | None:
        return self.member.id if self.member is not None else None


def operator_fingerprint(operator_key: str) -> str:
    return hashlib.sha256(b"dashboard:" + operator_key.encode()).hexdigest()[:32]


def seal(
    hub: Hub,
    *,
    key_id: int | None,
    hours: int,
    member_id: int | None = None,
    second_factor: bool = False,
    via: str = "key",
) -> tuple[str, str]:
    """A new session cookie's value and its CSRF token. Neither a key nor a member: the
    operator."""
    csrf = secrets.token_urlsafe(24)
    operator = hub.settings.security.operator_key
    is_operator = key_id is None and member_id is None
    payload = {
        "key": key_id,
        "member": member_id,
        "op": operator_fingerprint(operator) if is_operator and operator else None,
        "mfa": second_factor,
        "via": via,
        "csrf": csrf,
        "exp": (hub.clock.now() + timedelta(hours=hours)).timestamp(),
    }
    return hub.secrets.encrypt(json.dumps(payload)), csrf


def unseal(hub: Hub, raw: str | None) -> dict[str, Any] | None:
    """A sealed cookie's payload, if it is ours, intact and not expired."""
    if not raw or len(raw) > 4096:
        return None
    try:
        payload = json.loads(hub.secrets.decrypt(raw))
    except (SecretBoxError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < hub.clock.now().timestamp():
        return None
    return payload


async def viewer_of(hub: Hub, request: web.Request) -> Viewer | None:
    """The request's signed-in viewer, or None (no cookie, tampered, expired, key or member
    gone, role no longer allowed)."""
    payload = unseal(hub, request.cookies.get(COOKIE))
    if payload is None:
        return None
    csrf = str(payload.get("csrf", ""))
    key_id, member_id = payload.get("key"), payload.get("member")
    if key_id is None and member_id is None:
        operator = hub.settings.security.operator_key
        fingerprint = str(payload.get("op") or "")
        if operator and hmac.compare_digest(fingerprint, operator_fingerprint(operator)):
            return Viewer(role="owner", csrf=csrf, label="operator")
        return None
    try:
        if key_id is not None:
            found = await _key_viewer(hub, int(key_id))
        else:
            found = await _member_viewer(hub, int(str(member_id)))
    except (HubError, ValueError, TypeError):
        return None
    if found is None:
        return None
    team, role, member, label = found
    if not allows(role, "read_usage"):
        return None
    mfa = bool(payload.get("mfa"))
    needs = False
    if not mfa:
        if member is None:  # a key of no one: it cannot give a second factor
            if await hub.two_factor.required(team):
                return None
        else:
            needs = (await hub.two_factor.state(member)).required
    return Viewer(
        role=role,
        csrf=csrf,
        team=team,
        key_id=int(key_id) if key_id is not None else None,
        member=member,
        label=label,
        via=str(payload.get("via", "key")),
        second_factor=mfa,
        needs_second_factor=needs,
    )


async def _key_viewer(hub: Hub, key_id: int) -> tuple[Team, str, Member | None, str] | None:
    key = await hub.keys.get(key_id)
    now = hub.clock.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    team = await hub.teams.get_by_id(key.team_id)
    role, member = key.role, None
    if key.member_id is not None:  # a key never acts above the member who holds it
        member = await hub.members.get_by_id(key.member_id)
        role = min(role, member.role, key=rank)
    return team, role, member, key.name or key.prefix


async def _member_viewer(hub: Hub, member_id: int) -> tuple[Team, str, Member | None, str]:
    member = await hub.members.get_by_id(member_id)
    team = await hub.teams.get_by_id(member.team_id)
    return team, member.role, member, member.name
