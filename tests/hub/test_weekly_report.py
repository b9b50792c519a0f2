"""The weekly report: two hubs on one database (two processes' schedulers) fire the job at the
same moment, and each team's report arrives once, at the fake Slack (acme) and the fake
Discord (globex) and as one signed `report.weekly` event, with the numbers the dashboard
shows for that week (the explorer's JSON export, the suggestions page)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

from nacl.encoding import HexEncoder
from nacl.signing import SigningKey
from sqlalchemy import select

from connectors.dashboard import plugin as dashboard
from connectors.discord import plugin as discord
from connectors.openai_api import plugin as openai_api
from connectors.slack.plugin import plugin as slack
from hub.clock import FakeClock
from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from hub.ledger.latency_bins import format_ms
from hub.ledger.money import format_usd, micros_to_usd
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.scheduler import build_scheduler
from hub.service import Hub
from hub.store.event_tables import OutboxEvent
from hub.weekly_report import JOB, RETRY, WeeklyReports, last_week
from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest
from tests.fakes.receivers import Receiver
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.support.hubs import SECRET_KEY, RunningHub, settings_from, start_hub

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday, 08:00 UTC: the job's time
OPERATOR_KEY = "operator-key-for-weekly-report-tests-0123456789"
ALERTS = "1300000000000000099"
OPENAI = {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test"}


def config(fake_slack: FakeSlack, rest: FakeDiscordRest) -> dict[str, Any]:
    return {
        "providers": {"openai": OPENAI},
        "models": {
            "gpt-4o": {"deployments": [{"provider": "openai", "model": "gpt-4o",
                                        "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10}]},
            "gpt-4o-mini": {"deployments": [{"provider": "openai", "model": "gpt-4o-mini",
                            "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6}]},
        },
        "security": {"operator_key": OPERATOR_KEY, "secret_key": SECRET_KEY},
        "webhooks": {"allow_private_targets": True},
        "server": {"public_url": "https://hub.example.com"},
        "connectors": {
            "slack": {"enabled": True, "signing_secret": "s" * 32, "bot_token": DEFAULT_TOKEN,
                      "api_base_url": fake_slack.base_url},
            "discord": {"enabled": True, "application_id": APP_ID, "bot_token": BOT_TOKEN,
                        "public_key": SigningKey.generate().verify_key.encode(HexEncoder).decode(),
                        "api_base_url": rest.base_url},
        },
    }  # fmt: skip


async def seed(hub: Hub, team_ids: list[int]) -> None:
    """Last week: 14 small gpt-4o requests in acme's C-support (a suggestion) and a few more;
    the week before and this Monday: requests the report must leave out."""
    rows: list[tuple[int, datetime, str, int, int, int]] = []
    start, _ = last_week(NOW)
    for n in range(14):
        rows.append((0, start + timedelta(hours=5 * n), "gpt-4o", 300, 100, 400_000))
    rows += [(0, start + timedelta(days=6, hours=23, minutes=59), "gpt-4o-mini", 900, 90, 1_234),
             (1, start + timedelta(days=2), "gpt-4o-mini", 50, 50, 77),
             (0, start - timedelta(minutes=1), "gpt-4o", 10, 10, 5_000),  # the week before
             (0, NOW - timedelta(hours=1), "gpt-4o", 10, 10, 9_000)]  # fmt: skip # this week
    async with hub.sessions.begin() as session:
        for n, (team, when, alias, p, c, cost) in enumerate(rows):
            entry = UsageEntry(
                request_id=f"week-{n}", caller=Caller(team_ids[team], "t"),
                origin=Origin("slack", user="U1", channel="C-support", workspace="T1"),
                alias=alias, deployment=f"openai/{alias}", usage=Usage(prompt_tokens=p,
                completion_tokens=c), cost_micros=cost, latency_ms=200 + 37 * n, ttft_ms=50,
                status="error" if n == 3 else "ok",
            )  # fmt: skip
            await record_usage(session, entry, now=when)


async def test_two_schedulers_send_each_teams_report_once_with_the_pages_numbers(
    database_url: str,
) -> None:
    clock = FakeClock(NOW)
    async with (
        FakeSlack() as fake_slack,
        FakeDiscordRest() as rest,
        Receiver(clock=clock) as receiver,
    ):
        cfg = config(fake_slack, rest)
        first = await start_hub(cfg, database_url=database_url, clock=clock)
        globex = await first.hub.teams.create("globex")
        second = RunningHub(Hub.open(settings_from(cfg, database_url=database_url), clock=clock),
                            clock, first.team, first.key)  # fmt: skip
        try:
            await first.serve([openai_api, slack, discord, dashboard])
            await second.serve([openai_api, slack, discord])
            hub = first.hub
            await hub.teams.set_notice_channel(first.team, platform="slack", channel="C_OPS")
            await hub.teams.set_notice_channel(globex, platform="discord", channel=ALERTS)
            created = await Subscriptions.for_hub(hub).create(
                team_id=first.team.id, url=receiver.url, events=["report.weekly"]
            )
            receiver.secret = created.secret
            await seed(hub, [first.team.id, globex.id])
            # Both processes' schedulers carry the job, Mondays at 08:00 UTC.
            job = build_scheduler(second.hub).get_job(JOB)
            assert job is not None and "day_of_week='mon'" in str(job.trigger)
            assert "hour='8'" in str(job.trigger)

            one, two = await asyncio.gather(
                WeeklyReports(hub).tick(), WeeklyReports(second.hub).tick()
            )
            assert sorted(r.team for r in [*one, *two]) == ["acme", "globex"]
            assert await WeeklyReports(second.hub).tick() == []  # claimed already
            await Dispatcher.for_hub(hub).run_once()
            (event,) = [r.body for r in await receiver.wait_for(1)]

            # The dashboard's numbers for the same week and the same suggestions.
            async with first.client(follow_redirects=False) as client:
                signed = await client.post("/login", data={"key": OPERATOR_KEY})
                assert signed.status_code == 303
                # The cookie is Secure (an https public URL): send it back over plain http.
                session = signed.headers["set-cookie"].split(";")[0]
                client.headers["Cookie"] = session
                page = await client.get("/usage.json", params={
                    "group_by": "model", "from": "2026-11-16", "to": "2026-11-22", "tz": "UTC",
                    "team": "acme"})  # fmt: skip
                advice = await client.get("/suggestions", params={"team": "acme"})
            shown = page.json()
            items = advice.text.split('<ol id="suggestions">')[1].split("</ol>")[0]
            sentences = [unescape(li.split(">", 1)[1].split("</li>")[0])
                         for li in items.split("<li")[1:]]  # fmt: skip
        finally:
            await second.close()
            await first.close()

    assert event["type"] == "report.weekly"
    data = event["data"]
    total = shown["total"]
    assert (data["team"], data["week"], data["from"], data["to"]) == (
        "acme", "2026-W47", "2026-11-16", "2026-11-22")  # fmt: skip
    assert {k: data[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost_usd")} == {
        k: total[k] for k in ("requests", "prompt_tokens", "completion_tokens", "cost_usd")
    }
    assert total["requests"] == 15 and total["cost_micros"] == 14 * 400_000 + 1_234
    assert data["models"] == [{"model": r["model"], "requests": r["requests"],
                               "cost_usd": r["cost_usd"]} for r in shown["rows"]]  # fmt: skip
    assert (data["previous_requests"], data["previous_cost_usd"]) == (1, micros_to_usd(5_000))
    assert [s["text"] for s in data["suggestions"]] == sentences and sentences
    latencies = sorted(200 + 37 * n for n in range(15))
    assert data["latency_p50_ms"] is not None
    assert format_ms(data["latency_p50_ms"]) in data["text"]
    assert abs(data["latency_p50_ms"] - latencies[7]) <= 0.045 * latencies[7]

    posted = [(c.args["channel"], c.args["text"]) for c in fake_slack.calls_to("chat.postMessage")]
    assert posted == [("C_OPS", data["text"])]
    text = data["text"]
    assert text.startswith(
        f"Weekly report for acme, 2026-11-16 to 2026-11-22 (UTC): "
        f"{format_usd(total['cost_micros'])} on 15 requests ("
    )
    assert "\n1. " + sentences[0] in text
    assert text.endswith("Details: https://hub.example.com/usage?group_by=model&from=2026-11-16"
                         "&to=2026-11-22&tz=UTC&team=acme")  # fmt: skip
    messages = rest.matching("POST", lambda c: c.path == f"/channels/{ALERTS}/messages")
    assert len(messages) == 1
    content = messages[0].json["content"]
    assert content.startswith(
        "Weekly report for globex, 2026-11-16 to 2026-11-22 (UTC): $0.000077 on 1 request ("
    )


async def test_a_report_whose_post_failed_is_posted_by_the_next_run_once(
    database_url: str,
) -> None:
    """Slack and Discord refuse the first post: the week's claim is not lost, the next run
    posts each team's report, and the run after posts nothing; the event went out once."""
    clock = FakeClock(NOW)
    async with FakeSlack() as fake_slack, FakeDiscordRest() as rest:
        cfg = config(fake_slack, rest)
        running = await start_hub(cfg, database_url=database_url, clock=clock)
        try:
            await running.serve([slack, discord])
            hub = running.hub
            globex = await hub.teams.create("globex")
            await hub.teams.set_notice_channel(running.team, platform="slack", channel="C_OPS")
            await hub.teams.set_notice_channel(globex, platform="discord", channel=ALERTS)
            await seed(hub, [running.team.id, globex.id])
            await Subscriptions.for_hub(hub).create(
                team_id=running.team.id, url="http://127.0.0.1:9/hooks", events=["report.weekly"]
            )
            assert build_scheduler(hub).get_job(RETRY) is not None  # hourly, besides the week's
            alerts = f"/channels/{ALERTS}/messages"
            fake_slack.fail("chat.postMessage", "channel_not_found")
            rest.fail_next("POST", lambda c: c.path == alerts, status=403,
                           body={"code": 50001, "message": "Missing Access"})  # fmt: skip

            assert await WeeklyReports(hub).tick() == []  # both posts failed
            again = await WeeklyReports(hub).tick()  # the next run
            assert sorted(r.team for r in again) == ["acme", "globex"]
            assert await WeeklyReports(hub).tick() == []
            assert await WeeklyReports(hub).retry() == []
            async with hub.sessions() as session:
                events = (await session.scalars(select(OutboxEvent.team_id).where(
                    OutboxEvent.type == "report.weekly"))).all()  # fmt: skip
        finally:
            await running.close()

    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # refused, then posted
    (posted,) = fake_slack.bot_messages("C_OPS")
    assert posted.text.startswith("Weekly report for acme, 2026-11-16 to 2026-11-22 (UTC)")
    answered = rest.matching("POST", lambda c: c.path == alerts)
    assert len(answered) == 2  # refused, then posted
    assert answered[1].json["content"].startswith("Weekly report for globex, 2026-11-16")
    assert events == [running.team.id]  # the subscribed team's, sent the first time only
