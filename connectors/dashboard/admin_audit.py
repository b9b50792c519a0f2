"""The team's audit log: newest first, 50 a page, filtered by action (or its family), actor,
target and date range (UTC days); every filter lives in the URL so a view can be shared.

Pages are keyed by entry id ("older than #1234"), so entries written meanwhile do not shift
what the next page shows. Secrets were redacted when the entries were written.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from connectors.dashboard.admin_scope import Admin, AdminGuard
from hub.audit import AuditRecord

PAGE = "/team/audit"
PER_PAGE = 50
FILTERS = ("action", "actor", "target", "from", "to")


class AuditPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PAGE, self._guard(self.show, section="audit"))]

    async def show(self, admin: Admin) -> web.Response:
        query = admin.request.query
        given = {name: query.get(name, "").strip()[:200] for name in FILTERS}
        problems: dict[str, str] = {}
        since = _day(given["from"], "from", problems, admin)
        last = _day(given["to"], "to", problems, admin)
        until = None if last is None else last + timedelta(days=1)
        raw_before = query.get("before", "")
        before = int(raw_before) if raw_before.isdigit() and len(raw_before) <= 19 else None
        hub = admin.kit.hub
        entries: list[AuditRecord] = []
        if not problems:
            entries = await hub.audit.page(
                team_id=admin.team.id, before_id=before, action=given["action"],
                actor=given["actor"], target=given["target"], since=since, until=until,
                limit=PER_PAGE + 1,
            )  # fmt: skip
        older = entries[PER_PAGE - 1].id if len(entries) > PER_PAGE else None
        keys = {str(k.id): k.name or k.prefix for k, _ in await hub.keys.list(admin.team)}
        filters = {k: v for k, v in given.items() if v}
        return admin.page(
            "admin_audit.html", title=admin._("Audit log"), status=400 if problems else 200,
            entries=[_entry(e, keys) for e in entries[:PER_PAGE]], given=given,
            problems=problems,
            actions=_action_options(await hub.audit.actions(team_id=admin.team.id), admin),
            older=None if older is None else admin.url(PAGE, **filters, before=str(older)),
            newest=admin.url(PAGE, **filters) if before is not None else None,
        )  # fmt: skip


def _action_options(actions: list[str], admin: Admin) -> list[tuple[str, str]]:
    """Each family (`key`: every `key.*` action) before its own actions."""
    options: list[tuple[str, str]] = []
    seen: set[str] = set()
    for action in actions:
        family = action.partition(".")[0]
        if family != action and family not in seen:
            seen.add(family)
            options.append((family, admin._("%(family)s (all)") % {"family": family}))
        if action not in seen:
            seen.add(action)
            options.append((action, "\u2003" + action if family != action else action))
    return options


def _day(raw: str, name: str, problems: dict[str, str], admin: Admin) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        problems[name] = admin._("Enter a date such as 2026-11-30.")
        return None
    return datetime.combine(day, time(), tzinfo=UTC)


def _entry(e: AuditRecord, keys: dict[str, str]) -> dict[str, Any]:
    kind, _, who = e.actor.partition(":")
    actor = e.actor
    if kind == "key" and who in keys:
        actor = f"{e.actor} ({keys[who]})"
    return {
        "id": e.id, "at": f"{e.at:%Y-%m-%d %H:%M:%S}", "actor": actor, "actor_raw": e.actor,
        "action": e.action, "target": e.target, "before": _compact(e.before),
        "after": _compact(e.after),
    }  # fmt: skip


def _compact(values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    return json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
