"""Which Slack workspaces and Discord guilds a team pays for, and the team's own provider keys.

A team admin binds only to its own team, and cannot take a workspace another team holds:
that needs the operator (or that team) to unbind it first."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.bodies import AdminProviderKeySet
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import no_content, ok
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import Conflict, InvalidField
from hub.errors import BadRequest, NotFound
from hub.members import PLATFORMS

BINDING = "/teams/{team_id}/bindings/{platform}/{external_id}"
PROVIDER_KEY = "/teams/{team_id}/provider-keys/{provider}"


def _target(call: Call) -> tuple[str, str]:
    platform = call.path_text("platform")
    if platform not in PLATFORMS:
        raise InvalidField("platform", f"'platform' must be one of: {', '.join(PLATFORMS)}.")
    return platform, call.path_text("external_id")


async def list_bindings(call: Call) -> web.Response:
    team = call.own_team
    rows = await call.hub.bindings.list()
    return ok(
        {
            "data": [
                {"platform": p, "external_id": e, "team_id": team.id}
                for p, e, name in rows
                if name == team.name
            ]
        }
    )


async def set_binding(call: Call) -> web.Response:
    platform, external_id = _target(call)
    team = call.own_team
    current = await call.hub.bindings.caller_for(platform, external_id)
    if current is not None and current.team_id != team.id and not call.principal.is_operator:
        raise Conflict(
            f"This {platform} workspace is bound to another team; the operator must unbind it "
            "first."
        )
    if current is None or current.team_id != team.id:
        await call.hub.bindings.bind(platform, external_id, team)
    return ok({"platform": platform, "external_id": external_id, "team_id": team.id})


async def delete_binding(call: Call) -> web.Response:
    platform, external_id = _target(call)
    current = await call.hub.bindings.caller_for(platform, external_id)
    if current is None or current.team_id != call.own_team.id:
        raise NotFound(f"This team has no binding for {platform} {external_id}.")
    await call.hub.bindings.unbind(platform, external_id)
    return no_content()


async def list_provider_keys(call: Call) -> web.Response:
    names = await call.hub.provider_keys.providers_with_keys(call.own_team)
    return ok({"data": [{"provider": name} for name in names]})


async def set_provider_key(call: Call) -> web.Response:
    provider = call.path_text("provider")
    secret = (await call.body(AdminProviderKeySet)).api_key
    try:
        await call.hub.provider_keys.set(call.own_team, provider, secret)
    except BadRequest as exc:
        field = "api_key" if "empty" in exc.user_message else "provider"
        raise InvalidField(field, exc.user_message) from exc
    return ok({"provider": provider})


async def delete_provider_key(call: Call) -> web.Response:
    await call.hub.provider_keys.delete(call.own_team, call.path_text("provider"))
    return no_content()


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/teams/{team_id}/bindings", list_bindings,
            "List the Slack workspaces and Discord guilds bound to the team",
            action="manage", tag="bindings", response=ref("AdminBindingList"),
        ),
        Endpoint(
            "PUT", BINDING, set_binding, "Bind a Slack workspace or Discord guild to the team",
            action="manage", tag="bindings", response=ref("AdminBinding"),
            errors=(400, 401, 403, 404, 409),
        ),
        Endpoint(
            "DELETE", BINDING, delete_binding, "Unbind a workspace or guild from the team",
            action="manage", tag="bindings", status=204,
        ),
        Endpoint(
            "GET", "/teams/{team_id}/provider-keys", list_provider_keys,
            "List the providers for which the team has its own key (names only)",
            action="manage", tag="provider keys", response=ref("AdminProviderKeyList"),
        ),
        Endpoint(
            "PUT", PROVIDER_KEY, set_provider_key,
            "Store the team's own key for a provider (encrypted; never shown again)",
            action="manage", tag="provider keys", body=AdminProviderKeySet,
            response=ref("AdminProviderKey"),
        ),
        Endpoint(
            "DELETE", PROVIDER_KEY, delete_provider_key,
            "Delete the team's own key for a provider (the hub's default is used again)",
            action="manage", tag="provider keys", status=204,
        ),
    ]  # fmt: skip
