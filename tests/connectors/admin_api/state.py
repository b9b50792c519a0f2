"""Everything a team owns, read through the hub's services: two snapshots compare equal only
if nothing of the team changed in between."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from hub.events.subscriptions import Subscriptions
from hub.ledger.keys import key_view
from hub.service import Hub
from hub.store.governance_tables import RateLimit
from hub.store.ledger_tables import Team


async def team_state(hub: Hub, team: Team) -> dict[str, Any]:
    row = await hub.teams.get_by_id(team.id)
    members = await hub.members.list(team)
    await hub.keys.usage.flush()  # last_used_at is written in batches: what is pending too
    keys = [key_view(k) for k, _ in await hub.keys.list(team)]
    key_ids = [k.id for k, _ in await hub.keys.list(team)]
    quotas = []
    for scope, ids in (
        ("team", [team.id]),
        ("member", [m.id for m, _ in members]),
        ("key", key_ids),
    ):
        for scope_id in ids:
            quotas += [
                (q.scope, q.scope_id, q.window, q.cost_limit_micros, q.token_limit)
                for q in await hub.teams.quotas_for(scope, scope_id)
            ]
    async with hub.sessions() as session:
        limits = sorted(
            (r.scope, r.scope_id, r.rpm, r.tpm)
            for r in await session.scalars(
                select(RateLimit).where(
                    or_(
                        (RateLimit.scope == "team") & (RateLimit.scope_id == team.id),
                        (RateLimit.scope == "member")
                        & RateLimit.scope_id.in_([m.id for m, _ in members]),
                        (RateLimit.scope == "key") & RateLimit.scope_id.in_(key_ids),
                    )
                )
            )
        )
    subscriptions = await Subscriptions.for_hub(hub).list(team_id=team.id)
    return {
        "team": (row.name, row.member_policy, row.notify_platform, row.notify_channel),
        "members": [(m.id, m.name, m.role, ids) for m, ids in members],
        "keys": keys,
        "quotas": sorted(quotas, key=repr),
        "rate_limits": limits,
        "bindings": [b for b in await hub.bindings.list() if b[2] == team.name],
        "subscriptions": [(s.id, s.url, s.events, s.active) for s in subscriptions],
        "provider_keys": await hub.provider_keys.for_team(team.id),
        "usage": (await hub.usage.totals(team_id=team.id)).as_json(),
        "audit": len(await hub.audit.entries(team_id=team.id)),
    }
