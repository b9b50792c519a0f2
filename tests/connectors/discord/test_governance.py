"""Team governance from Discord: /quota for hub admins, /usage with the asker's own limits,
the members-only policy, and budget notices in the team's channel."""

from __future__ import annotations

import asyncio
from typing import Any

from hub.ledger.teams import QuotaSpec
from tests.connectors.discord.helpers import (
    CHANNEL,
    GUILD,
    OTHER_USER,
    USER,
    Interactions,
    command,
    no_stop_button,
    original,
    webhook_path,
)
from tests.fakes.discord_rest import BOT_TOKEN, FakeDiscordRest
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub

TIMEOUT = 10
ALERTS = "1300000000000000099"
NO_MENTIONS = {"parse": [], "replied_user": False}


def ephemeral(content: str) -> dict[str, Any]:
    return {
        "type": 4,
        "data": {"content": content, "allowed_mentions": NO_MENTIONS, "flags": 64},
    }


async def link(running: RunningHub, name: str, user: str, *, role: str = "member") -> int:
    member = await running.hub.members.add(running.team, name, role=role)
    await running.hub.members.link(member, platform="discord", workspace=GUILD, user=user)
    return member.id


async def test_only_hub_admins_set_quotas(running: RunningHub, interactions: Interactions) -> None:
    hub = running.hub
    wanted = {"user": OTHER_USER, "limit": "5usd/month"}
    refused = await interactions.post(command("quota", wanted))
    assert refused.json() == ephemeral(
        "Only admins of team 'acme' can set quotas. An owner can make you one: "
        "hub member role NAME admin --team acme"
    )
    await link(running, "ann", USER, role="admin")
    unreadable = await interactions.post(command("quota", {**wanted, "limit": "lots"}))
    assert unreadable.json()["data"]["content"].startswith("I could not read 'lots' as a limit.")
    in_dm = await interactions.post(command("quota", wanted, guild_id=None))
    assert in_dm.json() == ephemeral("Set quotas from a server bound to the team.")
    done = await interactions.post(command("quota", wanted))
    assert done.json() == ephemeral(
        f"<@{OTHER_USER}> now has a monthly budget of $5.00 in team 'acme'."
    )
    target = await hub.members.find_by_identity(
        platform="discord", workspace=GUILD, user=OTHER_USER, team_id=running.team.id
    )
    assert target is not None and target.role == "member"
    quotas = await hub.teams.quotas_for("member", target.id)
    assert [(q.window, q.cost_limit_micros, q.token_limit) for q in quotas] == [
        ("month", 5_000_000, None)
    ]
    entries = await hub.audit.entries(team_id=running.team.id)
    assert [e.actor for e in entries if e.action == "quota.set"] == [f"discord:{USER}"]


async def test_usage_shows_the_askers_own_limits(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    member_id = await link(running, "alice", USER)
    await running.hub.teams.set_quota(
        QuotaSpec("member", member_id, "month", 5_000_000, None), team_id=running.team.id
    )
    # $1/M prompt and $2/M completion: 1,000,000 + 500,000 tokens cost $2.00.
    fake_openai.script(reply("Hi", prompt_tokens=1_000_000, completion_tokens=500_000))
    asked = command("ask", {"prompt": "Hello"})
    await interactions.post(asked)
    async with asyncio.timeout(TIMEOUT):
        await rest.wait_for("PATCH", lambda c: original(asked)(c) and no_stop_button(c.json))
    response = await interactions.post(command("usage"))
    assert response.json() == ephemeral(
        "**acme** this month: $2.00 spent, 1,500,000 tokens.\n"
        "Your share: $2.00, 1,500,000 tokens.\n"
        "Resets 2026-12-01 00:00 UTC.\n"
        "Your monthly limit: $5.00 ($3.00 left), resets 2026-12-01 00:00 UTC.\n"
        "Plan **none**: invoice estimate so far $2.00 (the draft for 2026-11)."
    )


async def test_members_only_refuses_unlinked_users_in_one_ephemeral_sentence(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    sentence = (
        "Only members of team 'acme' may ask here; ask a team admin to add you "
        "(hub member add, then hub member link)."
    )
    await running.hub.teams.set_policy(running.team, "members_only")
    asked = command("ask", {"prompt": "hi"})
    assert (await interactions.post(asked)).json() == {"type": 5}
    async with asyncio.timeout(TIMEOUT):
        told = await rest.wait_for("POST", lambda c: c.path == webhook_path(asked))
    # The public "thinking" response is removed first, so only the asker sees the sentence.
    assert rest.matching("DELETE", original(asked))
    assert told.json == {"content": sentence, "flags": 64, "allowed_mentions": NO_MENTIONS}
    assert (await interactions.post(command("usage"))).json() == ephemeral(sentence)
    assert fake_openai.requests == []


async def test_crossing_80_percent_posts_one_notice_in_the_team_channel(
    running: RunningHub,
    interactions: Interactions,
    rest: FakeDiscordRest,
    fake_openai: FakeOpenAI,
) -> None:
    hub = running.hub
    await hub.teams.set_quota(
        QuotaSpec("team", running.team.id, "month", 1_000_000, None), team_id=running.team.id
    )
    await hub.teams.set_notice_channel(running.team, platform="discord", channel=ALERTS)
    # 400,000 prompt tokens at $1/M and 200,000 completion at $2/M: $0.80 of the $1 budget.
    fake_openai.script(
        reply("spent", prompt_tokens=400_000, completion_tokens=200_000),
        reply("more", prompt_tokens=1, completion_tokens=1),
    )
    for prompt in ("spend", "more"):
        asked = command("ask", {"prompt": prompt})
        await interactions.post(asked)
        async with asyncio.timeout(TIMEOUT):
            await rest.wait_for(
                "PATCH", lambda c, a=asked: original(a)(c) and no_stop_button(c.json)
            )
        await hub.notices.drain()
    notices = rest.matching("POST", lambda c: c.path == f"/channels/{ALERTS}/messages")
    assert [(c.json, c.headers["authorization"]) for c in notices] == [
        (
            {
                "content": "The team's monthly budget ($1.0) is 80% used; it resets on 2026-12-01.",
                "allowed_mentions": NO_MENTIONS,
            },
            f"Bot {BOT_TOKEN}",
        )
    ]
    assert rest.matching("POST", lambda c: c.path == f"/channels/{CHANNEL}/messages") == []
