"""Quotas (cost and tokens per day and month) and rate limits (requests and tokens per minute)
on a team, its members and its keys. Money is US dollars in JSON, micro-dollars inside."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.bodies import AdminQuotaSet, AdminRateLimitSet
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.fields import micros
from connectors.admin_api.render import ok, quota_json, rate_limit_json
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import InvalidField
from hub.ledger.teams import QuotaSpec


async def _scope(call: Call, body: AdminQuotaSet | AdminRateLimitSet) -> tuple[str, int]:
    """The scope named by the body, checked to be this team's own."""
    scope, scope_id = body.scope, body.scope_id
    team = call.own_team
    if scope == "team":
        if scope_id not in (None, team.id):
            raise InvalidField("scope_id", "For scope 'team', scope_id is the team's own id.")
        return scope, team.id
    if scope_id is None:
        raise InvalidField("scope_id", f"'scope_id' is required: the {scope}'s id.")
    if scope == "member":
        await call.member(scope_id)
    else:
        await call.key(scope_id)
    return scope, scope_id


async def list_quotas(call: Call) -> web.Response:
    rows = await call.hub.teams.quotas_of(call.own_team.id)
    return ok({"data": [quota_json(row) for row in rows]})


async def set_quota(call: Call) -> web.Response:
    body = await call.body(AdminQuotaSet)
    scope, scope_id = await _scope(call, body)
    spec = QuotaSpec(
        scope=scope,
        scope_id=scope_id,
        window=body.window,
        cost_limit_micros=micros(body.cost_usd),
        token_limit=body.tokens,
    )
    await call.hub.teams.set_quota(spec, team_id=call.own_team.id)
    for row in await call.hub.teams.quotas_for(scope, scope_id):
        if row.window == spec.window:
            return ok(quota_json(row))
    raise AssertionError("the quota just set is missing")


async def list_rate_limits(call: Call) -> web.Response:
    rows = await call.hub.rate_limits.of_team(call.own_team.id)
    return ok({"data": [rate_limit_json(row) for row in rows]})


async def set_rate_limit(call: Call) -> web.Response:
    body = await call.body(AdminRateLimitSet)
    scope, scope_id = await _scope(call, body)
    rpm, tpm = body.rpm, body.tpm
    await call.hub.rate_limits.set(
        scope=scope, scope_id=scope_id, team_id=call.own_team.id, rpm=rpm, tpm=tpm
    )
    return ok({"scope": scope, "scope_id": scope_id, "rpm": rpm, "tpm": tpm})


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/teams/{team_id}/quotas", list_quotas,
            "List quotas of the team, its members and its keys",
            action="manage", tag="quotas", response=ref("AdminQuotaList"),
        ),
        Endpoint(
            "PUT", "/teams/{team_id}/quotas", set_quota,
            "Set the cost budget and token quota of a team, member or key for a day or month",
            action="manage", tag="quotas", body=AdminQuotaSet,
            response=ref("AdminQuota"),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/rate-limits", list_rate_limits,
            "List rate limits of the team, its members and its keys (configured defaults "
            "apply where none is set)",
            action="manage", tag="rate limits", response=ref("AdminRateLimitList"),
        ),
        Endpoint(
            "PUT", "/teams/{team_id}/rate-limits", set_rate_limit,
            "Set requests and tokens per minute for a team, member or key",
            action="manage", tag="rate limits", body=AdminRateLimitSet,
            response=ref("AdminRateLimit"),
        ),
    ]  # fmt: skip
