"""The team's audit log: newest first, 50 a page, filtered by action (or its family), actor,
target and date range (UTC days); every filter lives in the URL so a view can be shared.

Pages are keyed by entry id ("older than #1234"), so entries written meanwhile do not shift
what the next page shows. Each entry shows what changed: the fields (nested ones dotted, such
as `limits.rpm`) whose value differs between the record's before and after, with their old
and new values; a creation all its fields, a removal all it had. Secrets were redacted when
the entries were written, and a secret field is masked here again whatever it holds.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from connectors.dashboard.admin_scope import Admin, AdminGuard
from hub.audit import REDACTED, SECRET_FIELDS, AuditRecord

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
    old, new = changes(e.before, e.after)
    return {
        "id": e.id, "at": e.at, "actor": actor, "actor_raw": e.actor,
        "action": e.action, "target": e.target, "before": old, "after": new,
    }  # fmt: skip


Field = tuple[str, str]  # (dotted field name, its value as shown)
_ABSENT = object()


def changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[list[Field], list[Field]]:
    """The fields that differ between `before` and `after`: their old values (fields the
    change removed or altered) and their new ones (added or altered), in field order."""
    old_fields, new_fields = _flat(before or {}), _flat(after or {})
    old: list[Field] = []
    new: list[Field] = []
    for name in sorted(old_fields.keys() | new_fields.keys()):
        was, now = old_fields.get(name, _ABSENT), new_fields.get(name, _ABSENT)
        if was == now:
            continue
        if was is not _ABSENT:
            old.append((name, _shown(name, was)))
        if now is not _ABSENT:
            new.append((name, _shown(name, now)))
    return old, new


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted fields (`limits.rpm`); lists stay whole values."""
    found: dict[str, Any] = {}
    for name, value in values.items():
        dotted = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            found.update(_flat(value, dotted + "."))
        else:
            found[dotted] = value
    return found


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if any(part.lower() in SECRET_FIELDS for part in name.split(".")):
        return REDACTED  # recorded redacted; masked again in case an old entry was not
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
