"""Who is signed in: an encrypted session cookie, checked again on every request.

The cookie holds the key's id (or the operator's key fingerprint), a CSRF token and an
expiry, encrypted with the hub's secret key (hub.secrets, Fernet): nothing in it can be read
or forged. A revoked or expired key, or a changed operator key, ends its sessions at once,
because every request resolves the key again through `hub.keys`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from hub.errors import HubError
from hub.roles import allows, rank
from hub.service import Hub
from hub.store.ledger_tables import Team
from hub.store.secretbox import SecretBoxError

COOKIE = "hub_session"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in principal: the operator (every team) or one team's key and its role."""

    role: str
    csrf: str
    team: Team | None = None  # None: the operator
    key_id: int | None = None
    label: str = ""

    @property
    def is_operator(self) -> bool:
        return self.team is None

    @property
    def may_change(self) -> bool:
        return allows(self.role, "manage")


def operator_fingerprint(operator_key: str) -> str:
    return hashlib.sha256(b"dashboard:" + operator_key.encode()).hexdigest()[:32]


def seal(hub: Hub, *, key_id: int | None, hours: int) -> tuple[str, str]:
    """A new session cookie's value and its CSRF token."""
    csrf = secrets.token_urlsafe(24)
    operator = hub.settings.security.operator_key
    payload = {
        "key": key_id,
        "op": operator_fingerprint(operator) if key_id is None and operator else None,
        "csrf": csrf,
        "exp": (hub.clock.now() + timedelta(hours=hours)).timestamp(),
    }
    return hub.secrets.encrypt(json.dumps(payload)), csrf


async def viewer_of(hub: Hub, request: web.Request) -> Viewer | None:
    """The request's signed-in viewer, or None (no cookie, tampered, expired, key gone)."""
    raw = request.cookies.get(COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        payload = json.loads(hub.secrets.decrypt(raw))
    except (SecretBoxError, ValueError):
        return None
    if not isinstance(payload, dict) or payload.get("exp", 0) < hub.clock.now().timestamp():
        return None
    csrf = str(payload.get("csrf", ""))
    key_id = payload.get("key")
    if key_id is None:
        operator = hub.settings.security.operator_key
        fingerprint = str(payload.get("op") or "")
        if operator and hmac.compare_digest(fingerprint, operator_fingerprint(operator)):
            return Viewer(role="owner", csrf=csrf, label="operator")
        return None
    try:
        key = await hub.keys.get(int(key_id))
        team = await hub.teams.get_by_id(key.team_id)
        role = key.role
        if key.member_id is not None:  # a key never acts above the member who holds it
            role = min(role, (await hub.members.get_by_id(key.member_id)).role, key=rank)
    except HubError:
        return None
    now = hub.clock.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if not allows(role, "read_usage"):
        return None
    return Viewer(role=role, csrf=csrf, team=team, key_id=key.id, label=f"{key.name or key.prefix}")
