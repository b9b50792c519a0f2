"""Quotas set from chat: the limit syntax, who may set them, and the audit trail."""

from __future__ import annotations

import pytest

from hub.chat_admin import ChatQuota, parse_quota, set_member_quota
from hub.errors import BadRequest
from hub.model import Caller
from tests.support.hubs import start_hub


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5usd/month", ChatQuota("month", 5_000_000, None)),
        ("$2.50 per day", ChatQuota("day", 2_500_000, None)),
        ("100k tokens/month", ChatQuota("month", None, 100_000)),
        ("20000 tokens a day", ChatQuota("day", None, 20_000)),
        ("1.5m tok/month", ChatQuota("month", None, 1_500_000)),
    ],
)
def test_parse_quota(text: str, expected: ChatQuota) -> None:
    assert parse_quota(text) == expected


def test_unreadable_quota_says_how_to_write_it() -> None:
    with pytest.raises(BadRequest, match="Write the limit as 5usd/month"):
        parse_quota("lots")


async def test_only_admins_set_quotas_and_targets_are_enrolled(sqlite_url: str) -> None:
    running = await start_hub({}, database_url=sqlite_url)
    try:
        hub = running.hub
        caller = Caller(team_id=running.team.id, team_name=running.team.name)
        args = dict(platform="slack", workspace="T1", target="U_BOB", target_label="<@U_BOB>")
        refused = await set_member_quota(hub, caller, asker="U_EVE", text="5usd/month", **args)
        assert refused.startswith("Only admins of team 'acme' can set quotas.")
        admin = await hub.members.add(running.team, "ann", role="admin")
        await hub.members.link(admin, platform="slack", workspace="T1", user="U_ANN")
        done = await set_member_quota(hub, caller, asker="U_ANN", text="5usd/month", **args)
        assert done == "<@U_BOB> now has a monthly budget of $5.00 in team 'acme'."
        bob = await hub.members.find_by_identity(
            platform="slack", workspace="T1", user="U_BOB", team_id=running.team.id
        )
        assert bob is not None and bob.role == "member"
        quotas = await hub.teams.quotas_for("member", bob.id)
        assert [(q.window, q.cost_limit_micros, q.token_limit) for q in quotas] == [
            ("month", 5_000_000, None)
        ]
        actions = [(e.actor, e.action) for e in await hub.audit.entries(team_id=running.team.id)]
        assert actions[-3:] == [
            ("slack:U_ANN", "member.add"),
            ("slack:U_ANN", "member.link"),
            ("slack:U_ANN", "quota.set"),
        ]
    finally:
        await running.close()
