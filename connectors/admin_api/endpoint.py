"""One admin endpoint: its route, who may call it, and what it documents; and the wrapper that
authenticates, scopes to a team, records the actor for the audit log and maps errors."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from connectors.admin_api.auth import Principal, authenticate
from connectors.admin_api.render import error_response
from connectors.admin_api.validation import InvalidField, Query, parse_id, storable
from hub.audit import acting_as
from hub.body_models import BodyModel, parse_json_object, validate_body
from hub.config import MIB
from hub.errors import HubError, NotFound
from hub.request_body import read_body
from hub.service import Hub
from hub.store.ledger_tables import ApiKey, Member, Team

PREFIX = "/admin/api/v1"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
B = TypeVar("B", bound=BodyModel)


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    schema: Mapping[str, Any]
    description: str = ""


@dataclass(slots=True)
class Call:
    """What a handler gets: the hub, the caller, its team (checked) and the request."""

    hub: Hub
    principal: Principal
    request: web.Request
    team: Team | None = None
    endpoint: Endpoint | None = None
    max_body_bytes: int = MIB

    @property
    def own_team(self) -> Team:
        assert self.team is not None, "only for endpoints under /teams/{team_id}"
        return self.team

    def path_id(self, name: str) -> int:
        return parse_id(self.request.match_info[name], name)

    def path_text(self, name: str, *, max_len: int = 100) -> str:
        value = self.request.match_info[name]
        if not 1 <= len(value) <= max_len or not storable(value):
            raise InvalidField(name, f"'{name}' must be 1 to {max_len} characters long.")
        return value

    async def body(self, model: type[B]) -> B:
        """The body, validated by the model the endpoint documents (an empty body is {})."""
        assert self.endpoint is not None and self.endpoint.body is model, "undocumented body"
        raw = await read_body(self.request, limit=self.max_body_bytes)
        return validate_body(model, parse_json_object(raw), rephrase=True)

    def query(self) -> Query:
        assert self.endpoint is not None
        return Query(self.request.query, known=[q.name for q in self.endpoint.query])

    async def member(self, member_id: int) -> Member:
        """A member of this call's team; another team's member is reported as missing."""
        try:
            member = await self.hub.members.get_by_id(member_id)
        except NotFound:
            member = None
        if member is None or member.team_id != self.own_team.id:
            raise NotFound(f"Team '{self.own_team.name}' has no member with id {member_id}.")
        return member

    async def key(self, key_id: int) -> ApiKey:
        try:
            row: ApiKey | None = await self.hub.keys.get(key_id)
        except NotFound:
            row = None
        if row is None or row.team_id != self.own_team.id:
            raise NotFound(f"Team '{self.own_team.name}' has no key with id {key_id}.")
        return row


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str  # below PREFIX
    handler: Handler
    summary: str
    action: str  # what the caller's role must allow: read_usage | manage | operator
    tag: str
    body: type[BodyModel] | None = None  # validates the body and is its schema
    response: Mapping[str, Any] | None = None  # JSON Schema of the success body (None: 204)
    status: int = 200
    query: Sequence[QueryParam] = ()
    errors: Sequence[int] = (400, 401, 403, 404)
    description: str = ""
    content_type: str = "application/json"  # of the success body

    @property
    def full_path(self) -> str:
        return PREFIX + self.path

    @property
    def placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.path)

    def route(self, hub: Hub, *, max_body_bytes: int = MIB) -> web.RouteDef:
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                principal = await authenticate(hub, request)
                with acting_as(principal.actor):
                    call = Call(
                        hub, principal, request, endpoint=self, max_body_bytes=max_body_bytes
                    )
                    if "team_id" in request.match_info:
                        team_id = parse_id(request.match_info["team_id"], "team_id")
                        principal.require_team(team_id)
                        call.team = await hub.teams.get_by_id(team_id)
                    principal.require(self.action)
                    return await self.handler(call)
            except HubError as exc:
                return error_response(exc)

        return web.route(self.method, self.full_path, run)
