"""Who am I, and teams: the operator lists and creates them; a team's admins read and set its
member policy and budget-notice channel."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.auth import OPERATOR
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import ok, team_json
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import MAX_TOKENS, Conflict
from hub.errors import NotFound
from hub.members import PLATFORMS

POLICIES = ["open", "members_only"]


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
    body = await call.body("name", "monthly_budget_usd", "monthly_tokens")
    name = body.text("name", required=True, max_len=100)
    assert name is not None
    budget = body.usd_micros("monthly_budget_usd")
    tokens = body.integer("monthly_tokens", low=0, high=MAX_TOKENS)
    if await _exists(call, name.strip()):
        raise Conflict(f"A team named '{name.strip()}' already exists.")
    team = await call.hub.teams.create(
        name, monthly_budget_micros=budget, monthly_token_quota=tokens
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
    body = await call.body("member_policy", "notice_channel")
    team = call.own_team
    if body.has("member_policy"):
        await call.hub.teams.set_policy(team, body.choice("member_policy", POLICIES))
    if body.has("notice_channel"):
        channel = body.object("notice_channel", known=("platform", "channel"))
        platform = name = None
        if channel is not None:
            platform = channel.choice("platform", PLATFORMS)
            name = channel.text("channel", required=True, max_len=100)
        await call.hub.teams.set_notice_channel(team, platform=platform, channel=name)
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
            request=ref("AdminTeamCreate"), response=ref("AdminTeam"), status=201,
            errors=(400, 401, 403, 409),
        ),
        Endpoint(
            "GET", "/teams/{team_id}", get_team, "Get a team", action="read_usage",
            tag="teams", response=ref("AdminTeam"), errors=(400, 401, 403, 404),
        ),
        Endpoint(
            "PATCH", "/teams/{team_id}", update_team,
            "Set the member policy and the channel for budget notices", action="manage",
            tag="teams", request=ref("AdminTeamUpdate"), response=ref("AdminTeam"),
        ),
    ]  # fmt: skip
