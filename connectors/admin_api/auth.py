"""Who is calling the admin API: the operator (config key, every team) or a team key (its
own team, with its role)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import web

from hub.audit import Actor
from hub.errors import AuthError, Forbidden, NotFound
from hub.roles import allows, rank
from hub.service import Hub
from hub.web import client_ip

OPERATOR = "operator"  # the action only the operator may take (creating and listing teams)


@dataclass(frozen=True, slots=True)
class Principal:
    actor: Actor
    role: str  # the operator acts as an owner of every team
    team_id: int | None = None  # None: the operator
    key_id: int | None = None

    @property
    def is_operator(self) -> bool:
        return self.team_id is None

    def may(self, action: str) -> bool:
        if action == OPERATOR:
            return self.is_operator
        return allows(self.role, action)

    def require(self, action: str) -> None:
        if not self.may(action):
            raise Forbidden(_refusal(self, action))

    def require_team(self, team_id: int) -> None:
        """Another team's things are reported exactly like missing ones: 404, not 403."""
        if not self.is_operator and team_id != self.team_id:
            raise NotFound(f"No team with id {team_id}.")


def _refusal(principal: Principal, action: str) -> str:
    if action == OPERATOR:
        return "Only the operator key may do this."
    needed = {"read_usage": "viewer", "manage": "admin", "manage_admins": "owner"}[action]
    return f"This key's role ({principal.role}) may not do this; it needs the {needed} role."


async def authenticate(hub: Hub, request: web.Request) -> Principal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("Missing credentials: send 'Authorization: Bearer <admin key>'.")
    if not token.isascii():
        raise AuthError("Invalid API key.")  # no key of ours has other characters
    operator_key = hub.settings.security.operator_key
    if operator_key and hmac.compare_digest(token.encode(), operator_key.encode()):
        return Principal(actor=Actor("operator", "config"), role="owner")
    found = await hub.keys.authenticate(token, client_ip=client_ip(request))
    role = found.key.role
    if found.key.member_id is not None:
        # A key never acts above the member who holds it.
        holder = await hub.members.get_by_id(found.key.member_id)
        role = min(role, holder.role, key=rank)
    return Principal(
        actor=Actor("key", str(found.key.id)),
        role=role,
        team_id=found.caller.team_id,
        key_id=found.key.id,
    )
