"""Where the money went (usage, filtered and grouped) and who changed what (the audit log).
Viewer keys may read both for their own team."""

from __future__ import annotations

from typing import cast, get_args

from aiohttp import web

from connectors.admin_api.endpoint import Call, Endpoint, QueryParam
from connectors.admin_api.render import audit_json, ok, totals_json
from connectors.admin_api.schemas import ID, TIME, ref
from hub.ledger.reports import GroupBy

GROUPS: tuple[GroupBy, ...] = get_args(GroupBy)
_TEXT = {"type": "string", "minLength": 1, "maxLength": 100}


async def usage(call: Call) -> web.Response:
    query = call.query()
    member_id = query.id("member_id")
    if member_id is not None:
        await call.member(member_id)
    team_id, since, until = call.own_team.id, query.moment("since"), query.moment("until")
    alias, connector = query.text("model", max_len=100), query.text("connector", max_len=100)
    group_by = cast(GroupBy | None, query.choice("group_by", GROUPS))
    totals = await call.hub.usage.totals(
        team_id=team_id, since=since, until=until, member_id=member_id, alias=alias,
        connector=connector,
    )  # fmt: skip
    groups = []
    if group_by is not None:
        rows = await call.hub.usage.grouped(
            group_by, team_id=team_id, since=since, until=until, member_id=member_id,
            alias=alias, connector=connector,
        )  # fmt: skip
        groups = [{"key": key} | totals_json(t) for key, t in rows]
    return ok({"totals": totals_json(totals), "group_by": group_by, "groups": groups})


async def audit_log(call: Call) -> web.Response:
    query = call.query()
    entries = await call.hub.audit.entries(
        team_id=call.own_team.id,
        since=query.moment("since"),
        limit=query.integer("limit", low=1, high=1000, default=100),
    )
    return ok({"data": [audit_json(e) for e in entries]})


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/teams/{team_id}/usage", usage,
            "Usage and cost, filtered, optionally grouped by day, model, user or connector",
            action="read_usage", tag="usage", response=ref("AdminUsage"),
            query=(
                QueryParam("since", TIME, "From this time (inclusive, UTC if no zone)."),
                QueryParam("until", TIME, "Up to this time (exclusive)."),
                QueryParam("member_id", ID, "Only this member's requests."),
                QueryParam("model", _TEXT, "Only this model alias."),
                QueryParam("connector", _TEXT, "Only this connector (slack, openai_api...)."),
                QueryParam("group_by", {"type": "string", "enum": list(GROUPS)}),
            ),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/audit", audit_log,
            "The team's audit log, oldest first: who changed what, before and after "
            "(secrets redacted)",
            action="read_usage", tag="audit", response=ref("AdminAuditList"),
            query=(
                QueryParam("since", TIME, "Entries from this time on."),
                QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
        ),
    ]  # fmt: skip
