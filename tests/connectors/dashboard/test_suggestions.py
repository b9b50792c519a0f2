"""Cost suggestions from seeded usage, their numbers computed here by hand from the stated
prices: a cheaper model for a Slack channel's small requests, repeated requests a cache would
have served (by prompt hash), a deployment that fails over often; only the viewer's team."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from connectors.dashboard.i18n import Numbers
from hub.ledger.money import format_usd
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from tests.connectors.dashboard.support import NOW, OPERATOR_KEY, DashboardHub, dashboard_hub

OPENAI = {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-test"}
CONFIG: dict[str, Any] = {
    "providers": {"demo": {"type": "demo"}, "openai": OPENAI},
    "models": {
        "demo": {"deployments": [{"provider": "demo", "model": "demo-1", "input_usd_per_mtok": 0.5,
                                  "output_usd_per_mtok": 1.5}]},
        "gpt-4o": {"deployments": [
            {"provider": "openai", "model": "gpt-4o", "input_usd_per_mtok": 2.5,
             "output_usd_per_mtok": 10}]},
        "gpt-4o-mini": {"deployments": [
            {"provider": "openai", "model": "gpt-4o-mini", "input_usd_per_mtok": 0.15,
             "output_usd_per_mtok": 0.6}]},
    },
}  # fmt: skip
# (alias, deployment, first deployment, channel, prompt, completion, cost, prompt hash) × n
SEEDED = [
    (13, "gpt-4o", "openai/gpt-4o", None, "C-support", 300, 100, 250_000, None),  # small
    (7, "gpt-4o", "openai/gpt-4o", None, "C-support", 2000, 800, 900_000, None),
    (3, "gpt-4o", "openai/gpt-4o-mini", "openai/gpt-4o", "C-other", 5000, 900, 20_000, None),
    (12, "gpt-4o-mini", "openai/gpt-4o-mini", None, "C-bot", 900, 300, 10_000, "same"),
    (1, "gpt-4o-mini", "openai/gpt-4o-mini", None, "C-bot", 900, 300, 10_000, "other"),
]


@pytest.fixture
async def dash(sqlite_url: str) -> AsyncIterator[DashboardHub]:
    async with dashboard_hub(sqlite_url, **CONFIG) as hub:
        team = hub.running.team
        async with hub.running.hub.sessions.begin() as session:
            n = 0
            for count, alias, deployment, first, channel, p, c, cost, digest in SEEDED:
                for _ in range(count):
                    n += 1
                    entry = UsageEntry(
                        request_id=f"advice-{n}", caller=Caller(team.id, team.name),
                        origin=Origin("slack", user="U9", channel=channel, workspace="T1"),
                        alias=alias, deployment=deployment, first_deployment=first,
                        usage=Usage(prompt_tokens=p, completion_tokens=c), cost_micros=cost,
                        latency_ms=500, ttft_ms=100, status="ok", prompt_hash=digest,
                    )  # fmt: skip
                    await record_usage(session, entry, now=NOW - timedelta(days=2, minutes=n))
        yield hub


def expected_sentences() -> list[tuple[str, int]]:
    # 13 small requests of 20 in C-support: 300/100 tokens each at gpt-4o-mini's prices,
    # rounded up once: 3,900 × $0.15/M + 1,300 × $0.60/M.
    repriced = -(-(3900 * 150_000 + 1300 * 600_000) // 1_000_000)
    assert repriced == 1365
    actual = 13 * 250_000
    cheaper = (
        f"65% of Slack channel C-support's requests on `gpt-4o` have prompts under 512 tokens "
        f"and answers under 256; on `gpt-4o-mini` they would have cost "
        f"{format_usd(actual - repriced)} less in the last 30 days ({format_usd(repriced)} "
        f"instead of {format_usd(actual)})."
    )
    cache = (
        "11 of `gpt-4o-mini`'s 13 requests (85%) repeated an identical earlier request in the "
        "last 30 days; with the response cache on (cache_ttl_s) they would have cost "
        f"{format_usd(11 * 10_000)} less."
    )
    failover = (  # first sent to openai/gpt-4o: the 20 it answered and the 3 it did not
        "`openai/gpt-4o` failed over on 13.0% of the requests first sent to it (3 of 23) in "
        "the last 30 days: check its provider's health and limits, or put a steadier "
        "deployment first."
    )
    return [(cheaper, actual - repriced), (cache, 11 * 10_000), (failover, 0)]


async def test_the_suggestions_state_the_money_of_the_teams_real_usage(
    dash: DashboardHub,
) -> None:
    report = await dash.running.hub.suggestions.for_team(dash.running.team.id)
    assert [(s.text, s.saving_micros) for s in report.suggestions] == expected_sentences()
    async with dash.signed_in(dash.viewer.key) as client:
        page = await client.get("/suggestions")
    assert page.status_code == 200
    items = page.text.split('<ol id="suggestions">')[1].split("</ol>")[0]
    shown = [unescape(li.split(">", 1)[1].split("</li>")[0]) for li in items.split("<li")[1:]]
    assert shown == [text for text, _ in expected_sentences()]
    total = format_usd(sum(saving for _, saving in expected_sentences()))
    assert f"Together these would have saved {total}." in page.text


async def test_another_teams_suggestions_are_not_found(dash: DashboardHub) -> None:
    async with dash.signed_in(dash.other.key) as client:
        assert (await client.get("/suggestions", params={"team": "acme"})).status_code == 404
        own = await client.get("/suggestions")
        assert own.status_code == 200 and "C-support" not in own.text
    async with dash.signed_in(OPERATOR_KEY) as client:
        page = await client.get("/suggestions", params={"team": "acme"})
        assert "C-support" in page.text and 'name="team"' in page.text


async def test_a_request_keeps_a_hash_of_what_shapes_its_answer_never_the_text(
    dash: DashboardHub,
) -> None:
    body = {"model": "demo", "messages": [{"role": "user", "content": "same words, secret"}]}
    auth = {"Authorization": f"Bearer {dash.member.key}"}
    async with dash.running.client() as api:
        for _ in range(2):
            answer = await api.post("/v1/chat/completions", json=body, headers=auth)
            assert answer.status_code == 200, answer.text
    rows = [r for r in await dash.records() if r.alias == "demo"]
    assert len(rows) == 2 and rows[0].prompt_hash == rows[1].prompt_hash
    assert rows[0].prompt_hash is not None and len(rows[0].prompt_hash) == 32
    assert rows[0].first_deployment == rows[0].deployment == "demo/demo-1"
    assert all("secret" not in str(value) for value in vars(rows[0]).values())


async def test_the_suggestions_page_in_german(dash: DashboardHub) -> None:
    """The hub's sentences translated, their figures written again in German."""
    de = Numbers("de")
    repriced, actual = 1365, 13 * 250_000
    async with dash.signed_in(dash.viewer.key) as client:
        client.cookies.set("hub_lang", "de")
        page = await client.get("/suggestions")
    items = page.text.split('<ol id="suggestions">')[1].split("</ol>")[0]
    shown = [unescape(li.split(">", 1)[1].split("</li>")[0]) for li in items.split("<li")[1:]]
    assert shown == [
        f"65\xa0% der Anfragen von Slack-Kanal C-support an `gpt-4o` haben Prompts unter 512 "
        f"Tokens und Antworten unter 256; mit `gpt-4o-mini` hätten sie in den letzten 30 Tagen "
        f"{de.usd(actual - repriced)} weniger gekostet ({de.usd(repriced)} statt "
        f"{de.usd(actual)}).",
        "11 der 13 Anfragen an `gpt-4o-mini` (85\xa0%) wiederholten in den letzten 30 Tagen "
        "eine identische frühere Anfrage; mit eingeschaltetem Antwort-Cache (cache_ttl_s) "
        f"hätten sie {de.usd(110_000)} weniger gekostet.",
        "Bei `openai/gpt-4o` musste in den letzten 30 Tagen für 13,0\xa0% der zuerst dorthin "
        "gesendeten Anfragen (3 von 23) auf ein anderes Deployment ausgewichen werden: Prüfen "
        "Sie Zustand und Limits seines Anbieters, oder stellen Sie ein zuverlässigeres "
        "Deployment an die erste Stelle.",
    ]
    assert de.usd(actual - repriced) == "3,25\xa0$"
