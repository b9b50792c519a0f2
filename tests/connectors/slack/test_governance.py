"""Team governance from Slack: quotas set by hub admins, usage with the asker's own limits,
the members-only policy, and budget notices in the team's channel."""

from __future__ import annotations

import pytest

from connectors.slack.adapter import AskCommand, parse_ask
from connectors.slack.messages import QUOTA_HELP
from hub.ledger.teams import QuotaSpec
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import CHANNEL, TEAM, USER, SlackHarness
from tests.fakes.openai_server import reply
from tests.fakes.slack_api import DEFAULT_TOKEN

ADMIN = "U0ANN"
REFUSED = (
    "Only admins of team 'acme' can set quotas. An owner can make you one: "
    "hub member role NAME admin --team acme"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quota <@U123|bob> 5usd/month", AskCommand("quota", target="U123", limit="5usd/month")),
        ("quota <@W9> $2 per day", AskCommand("quota", target="W9", limit="$2 per day")),
        ("quota @bob 5usd/month", AskCommand("quota")),
        ("quota limits explained?", AskCommand("ask", question="quota limits explained?")),
    ],
)
def test_parse_quota_command(text: str, expected: AskCommand) -> None:
    assert parse_ask(text) == expected


async def link(h: SlackHarness, name: str, user: str, *, role: str = "member") -> int:
    member = await h.running.hub.members.add(h.running.team, name, role=role)
    await h.running.hub.members.link(member, platform="slack", workspace=TEAM, user=user)
    return member.id


async def test_only_hub_admins_set_quotas_from_slack(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        hub = h.running.hub
        refused = await h.command("quota <@U0BOB|bob> 5usd/month")
        assert refused.json() == {"response_type": "ephemeral", "text": REFUSED}
        await link(h, "ann", ADMIN, role="admin")
        unescaped = await h.command("quota @bob 5usd/month", user=ADMIN)
        assert unescaped.json()["text"] == QUOTA_HELP
        unreadable = await h.command("quota <@U0BOB|bob> lots", user=ADMIN)
        assert unreadable.json()["text"].startswith("I could not read 'lots' as a limit.")
        done = await h.command("quota <@U0BOB|bob> 5usd/month", user=ADMIN)
        assert done.json() == {
            "response_type": "ephemeral",
            "text": "<@U0BOB> now has a monthly budget of $5.00 in team 'acme'.",
        }
        bob = await hub.members.find_by_identity(
            platform="slack", workspace=TEAM, user="U0BOB", team_id=h.running.team.id
        )
        assert bob is not None and bob.role == "member"
        quotas = await hub.teams.quotas_for("member", bob.id)
        assert [(q.window, q.cost_limit_micros, q.token_limit) for q in quotas] == [
            ("month", 5_000_000, None)
        ]
        entries = await hub.audit.entries(team_id=h.running.team.id)
        assert [(e.actor, e.action) for e in entries if e.action == "quota.set"] == [
            (f"slack:{ADMIN}", "quota.set")
        ]


async def test_usage_shows_the_askers_own_limits(slack_hub: HarnessFactory) -> None:
    async with slack_hub(monthly_budget_micros=50_000_000) as h:
        hub = h.running.hub
        member_id = await link(h, "alice", USER)
        for spec in (
            QuotaSpec("member", member_id, "month", 5_000_000, 10_000_000),
            QuotaSpec("member", member_id, "day", None, 2_000_000),
        ):
            await hub.teams.set_quota(spec, team_id=h.running.team.id)
        # $1/M prompt and $2/M completion: 1,000,000 + 500,000 tokens cost $2.00.
        h.llm.script(reply("done", prompt_tokens=1_000_000, completion_tokens=500_000))
        await h.command("count")
        await h.slack.wait_for("chat.update", lambda c: "done" in str(c.args.get("blocks")))
        await h.connector.drain()
        response = await h.command("usage")
        assert response.json() == {
            "response_type": "ephemeral",
            "text": "*Usage this month* (resets 2026-12-01 00:00 UTC)\n"
            "Team *acme*: $2.00 of $50.00 budget, 1,500,000 tokens\n"
            "You: $2.00, 1,500,000 tokens\n"
            "Your daily limit: 2,000,000 tokens (500,000 left), resets 2026-11-16 00:00 UTC.\n"
            "Your monthly limit: $5.00 ($3.00 left) and 10,000,000 tokens (8,500,000 left), "
            "resets 2026-12-01 00:00 UTC.\n"
            "Plan *none*: invoice estimate so far $2.00 (the draft for 2026-11)",
        }


async def test_members_only_refuses_unlinked_users_in_one_ephemeral_sentence(
    slack_hub: HarnessFactory,
) -> None:
    sentence = (
        "Only members of team 'acme' may ask here; ask a team admin to add you "
        "(hub member add, then hub member link)."
    )
    async with slack_hub() as h:
        await h.running.hub.teams.set_policy(h.running.team, "members_only")
        await h.command("hello?")
        told = await h.slack.wait_for("response_url")
        await h.connector.drain()
        assert told.args == {"text": sentence, "response_type": "ephemeral"}
        assert (await h.command("usage")).json() == {"response_type": "ephemeral", "text": sentence}
        assert h.llm.requests == []
        assert h.slack.calls_to("chat.postMessage") == []  # nothing public in the channel
        await link(h, "alice", USER)
        h.llm.script(reply("welcome"))
        await h.command("hello again")
        await h.slack.wait_for("chat.update", lambda c: "welcome" in str(c.args.get("blocks")))


async def test_crossing_80_percent_posts_one_notice_in_the_team_channel(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub(monthly_budget_micros=1_000_000) as h:
        hub = h.running.hub
        await hub.teams.set_notice_channel(h.running.team, platform="slack", channel="C_ALERTS")
        # 400,000 prompt tokens at $1/M and 200,000 completion at $2/M: $0.80 of the $1 budget.
        h.llm.script(
            reply("spent", prompt_tokens=400_000, completion_tokens=200_000),
            reply("more", prompt_tokens=1, completion_tokens=1),
        )
        for question in ("spend", "more"):
            await h.command(question)
            await h.connector.drain()
            await hub.notices.drain()
        assert len(h.llm.requests) == 2
        notices = [c for c in h.slack.calls_to("chat.postMessage") if c.args["channel"] != CHANNEL]
        assert [(c.args["channel"], c.args["text"], c.token) for c in notices] == [
            (
                "C_ALERTS",
                "The team's monthly budget ($1.0) is 80% used; it resets on 2026-12-01.",
                DEFAULT_TOKEN,
            )
        ]
