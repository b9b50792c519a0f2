"""Members of a team: list, add, change role, remove, link a Slack or Discord identity.

Only owners (and the operator) grant or take the admin and owner roles."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.bodies import AdminIdentityLink, AdminMemberCreate, AdminMemberUpdate
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import member_json, no_content, ok
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import Conflict
from hub.errors import NotFound

POWERFUL = ("admin", "owner")


def require_owner_for(call: Call, *roles: str) -> None:
    if any(role in POWERFUL for role in roles):
        call.principal.require("manage_admins")


async def list_members(call: Call) -> web.Response:
    rows = await call.hub.members.list(call.own_team)
    return ok({"data": [member_json(m, ids) for m, ids in rows]})


async def add_member(call: Call) -> web.Response:
    body = await call.body(AdminMemberCreate)
    name, role = body.name, body.role
    require_owner_for(call, role)
    try:
        await call.hub.members.get(call.own_team, name)
    except NotFound:
        member = await call.hub.members.add(call.own_team, name, role=role)
        return ok(member_json(member, []), status=201)
    raise Conflict(f"Team '{call.own_team.name}' already has a member '{name}'.")


async def _member_view(call: Call, member_id: int) -> web.Response:
    for member, identities in await call.hub.members.list(call.own_team):
        if member.id == member_id:
            return ok(member_json(member, identities))
    raise NotFound(f"Team '{call.own_team.name}' has no member with id {member_id}.")


async def update_member(call: Call) -> web.Response:
    member = await call.member(call.path_id("member_id"))
    role = (await call.body(AdminMemberUpdate)).role
    require_owner_for(call, member.role, role)
    await call.hub.members.set_role(member, role)
    return await _member_view(call, member.id)


async def remove_member(call: Call) -> web.Response:
    member = await call.member(call.path_id("member_id"))
    require_owner_for(call, member.role)
    await call.hub.members.remove(member)
    return no_content()


async def link_identity(call: Call) -> web.Response:
    member = await call.member(call.path_id("member_id"))
    body = await call.body(AdminIdentityLink)
    await call.hub.members.link(
        member, platform=body.platform, workspace=body.workspace or "", user=body.user
    )
    return await _member_view(call, member.id)


def endpoints() -> list[Endpoint]:
    item = "/teams/{team_id}/members/{member_id}"
    return [
        Endpoint(
            "GET", "/teams/{team_id}/members", list_members, "List members and their identities",
            action="manage", tag="members", response=ref("AdminMemberList"),
        ),
        Endpoint(
            "POST", "/teams/{team_id}/members", add_member, "Add a member",
            action="manage", tag="members", body=AdminMemberCreate,
            response=ref("AdminMember"), status=201, errors=(400, 401, 403, 404, 409),
            description="Adding an admin or owner needs an owner key.",
        ),
        Endpoint(
            "PATCH", item, update_member, "Change a member's role", action="manage",
            tag="members", body=AdminMemberUpdate, response=ref("AdminMember"),
            description="Granting or taking the admin or owner role needs an owner key.",
        ),
        Endpoint(
            "DELETE", item, remove_member, "Remove a member", action="manage", tag="members",
            status=204, description="Removing an admin or owner needs an owner key.",
        ),
        Endpoint(
            "POST", item + "/identities", link_identity,
            "Link a Slack or Discord account to a member", action="manage", tag="members",
            body=AdminIdentityLink, response=ref("AdminMember"),
        ),
    ]  # fmt: skip
