"""The admin API's JSON: views of the hub's rows (never a secret or hash), and errors."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from aiohttp import web

from hub.audit import AuditRecord
from hub.errors import HubError, LimitError
from hub.ledger.keys import key_view
from hub.ledger.money import micros_to_usd
from hub.ledger.reports import UsageTotals
from hub.store.event_tables import Subscription
from hub.store.governance_tables import RateLimit
from hub.store.ledger_tables import ApiKey, Member, Quota, Team


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def ok(data: Any, *, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda v: json.dumps(v, default=_default))


def no_content() -> web.Response:
    return web.Response(status=204)


def error_response(error: HubError) -> web.Response:
    """The one place where the hub's errors become HTTP answers."""
    body: dict[str, Any] = {"error": {"message": error.user_message, "code": error.code}}
    field = getattr(error, "field", None)
    if field:
        body["error"]["field"] = field
    headers = {}
    if isinstance(error, LimitError) and error.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after)))
    status = 400 if error.status == 499 else error.status
    return web.json_response(body, status=status, headers=headers)


def team_json(team: Team) -> dict[str, Any]:
    notice = None
    if team.notify_platform and team.notify_channel:
        notice = {"platform": team.notify_platform, "channel": team.notify_channel}
    return {
        "id": team.id,
        "name": team.name,
        "member_policy": team.member_policy,
        "notice_channel": notice,
        "created_at": team.created_at,
    }


def member_json(member: Member, identities: list[str]) -> dict[str, Any]:
    return {
        "id": member.id,
        "team_id": member.team_id,
        "name": member.name,
        "role": member.role,
        "identities": identities,
        "created_at": member.created_at,
    }


def key_json(row: ApiKey) -> dict[str, Any]:
    return key_view(row)


def quota_json(row: Quota) -> dict[str, Any]:
    return {
        "scope": row.scope,
        "scope_id": row.scope_id,
        "window": row.window,
        "cost_usd": None if row.cost_limit_micros is None else micros_to_usd(row.cost_limit_micros),
        "tokens": row.token_limit,
    }


def rate_limit_json(row: RateLimit) -> dict[str, Any]:
    return {"scope": row.scope, "scope_id": row.scope_id, "rpm": row.rpm, "tpm": row.tpm}


def subscription_json(row: Subscription) -> dict[str, Any]:
    return {
        "id": row.id,
        "team_id": row.team_id,
        "url": row.url,
        "events": row.events.split(","),
        "source": row.source,
        "active": row.active,
        "disabled_reason": row.disabled_reason,
        "created_at": row.created_at,
    }


def totals_json(totals: UsageTotals) -> dict[str, Any]:
    return totals.as_json()


def audit_json(entry: AuditRecord) -> dict[str, Any]:
    return entry.as_json()
