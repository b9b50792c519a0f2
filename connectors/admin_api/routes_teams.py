"""Who am I, and teams: the operator lists and creates them; a team's admins read and set its
member policy and budget-notice channel."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.auth import OPERATOR
from connectors.admin_api.bodies import AdminTeamCreate, AdminTeamUpdate
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.fields import micros
from connectors.admin_api.render import ok, team_json
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import Conflict
from hub.errors import NotFound


async def me(call: Call) -> web.Response:
    p = call.principal
    return ok(
        {
            "kind": "operator" if p.is_operator else "key",
            "role": p.role,
            "team_id": p.team_id,
            "key_id": p.key_id,
        }
    )


async def list_teams(call: Call) -> web.Response:
    if call.principal.is_operator:
        teams = await call.hub.teams.list()
    else:
        assert call.principal.team_id is not None
        teams = [await call.hub.teams.get_by_id(call.principal.team_id)]
    return ok({"data": [team_json(t) for t in teams]})


async def create_team(call: Call) -> web.Response:
    body = await call.body(AdminTeamCreate)
    name = body.name
    if await _exists(call, name.strip()):
        raise Conflict(f"A team named '{name.strip()}' already exists.")
    team = await call.hub.teams.create(
        name,
        monthly_budget_micros=micros(body.monthly_budget_usd),
        monthly_token_quota=body.monthly_tokens,
    )
    return ok(team_json(team), status=201)


async def _exists(call: Call, name: str) -> bool:
    try:
        await call.hub.teams.get(name)
    except NotFound:
        return False
    return True


async def get_team(call: Call) -> web.Response:
    return ok(team_json(call.own_team))


async def update_team(call: Call) -> web.Response:
    body = await call.body(AdminTeamUpdate)
    team = call.own_team
    if body.member_policy is not None:
        await call.hub.teams.set_policy(team, body.member_policy)
    if "notice_channel" in body.model_fields_set:
        channel = body.notice_channel
        await call.hub.teams.set_notice_channel(
            team,
            platform=None if channel is None else channel.platform,
            channel=None if channel is None else channel.channel,
        )
    return ok(team_json(await call.hub.teams.get_by_id(team.id)))


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/me", me, "Who this key is: operator or a team key, its role and team",
            action="read_usage", tag="teams", response=ref("AdminMe"), errors=(401, 403),
        ),
        Endpoint(
            "GET", "/teams", list_teams, "List teams (a team key sees only its own team)",
            action="read_usage", tag="teams", response=ref("AdminTeamList"), errors=(401, 403),
        ),
        Endpoint(
            "POST", "/teams", create_team, "Create a team", action=OPERATOR, tag="teams",
            body=AdminTeamCreate, response=ref("AdminTeam"), status=201,
            errors=(400, 401, 403, 409),
        ),
        Endpoint(
            "GET", "/teams/{team_id}", get_team, "Get a team", action="read_usage",
            tag="teams", response=ref("AdminTeam"), errors=(400, 401, 403, 404),
        ),
        Endpoint(
            "PATCH", "/teams/{team_id}", update_team,
            "Set the member policy and the channel for budget notices", action="manage",
            tag="teams", body=AdminTeamUpdate, response=ref("AdminTeam"),
        ),
    ]  # fmt: skip
