"""An alert fires once when the provider starts failing and resolves once when it recovers
(fake clock), in the team's Slack channel (the fake Slack API) and as signed `alert.fired` /
`alert.resolved` events (a webhook receiver); evaluated by one process per period."""

from __future__ import annotations

import pytest

from connectors.openai_api import plugin as openai_api
from connectors.slack.plugin import plugin as slack
from hub.alerts.evaluator import AlertEvaluator
from hub.clock import FakeClock
from hub.config import ConfigError
from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from hub.scheduled_once import ScheduledOnce
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.fakes.receivers import Receiver
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub

RULE = {
    "name": "up-failing",
    "kind": "provider_error_rate",
    "provider": "up",
    "window_s": 300,
    "threshold": 0.5,
    "min_requests": 3,
    "severity": "critical",
    "teams": ["acme"],
}


async def ask(running: RunningHub, times: int) -> list[int]:
    codes = []
    async with running.client() as http:
        for _ in range(times):
            response = await http.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {running.key.key}"},
                json={"model": "gpt", "messages": [{"role": "user", "content": "hi"}]},
            )
            codes.append(response.status_code)
    return codes


async def test_fires_once_and_resolves_once(fake_openai: FakeOpenAI, sqlite_url: str) -> None:
    clock = FakeClock()
    async with FakeSlack() as fake_slack, Receiver(clock=clock) as receiver:
        running = await start_hub(
            {
                "providers": {"up": openai_provider_config(fake_openai.base_url)},
                "models": {"gpt": model_config(("up", "gpt-4o-mini", 1.0, 2.0))},
                "router": {"max_retries": 0},
                "webhooks": {"allow_private_targets": True},
                "connectors": {
                    "slack": {
                        "enabled": True,
                        "signing_secret": "s" * 32,
                        "bot_token": DEFAULT_TOKEN,
                        "api_base_url": fake_slack.base_url,
                    }
                },
                "alerts": [RULE],
            },
            database_url=sqlite_url,
            clock=clock,
        )
        await running.serve([openai_api, slack])
        try:
            hub = running.hub
            await hub.teams.set_notice_channel(running.team, platform="slack", channel="C_OPS")
            created = await Subscriptions.for_hub(hub).create(
                team_id=running.team.id,
                url=receiver.url,
                events=["alert.fired", "alert.resolved"],
            )
            receiver.secret = created.secret
            evaluator = AlertEvaluator(hub)
            dispatcher = Dispatcher.for_hub(hub)

            assert await ask(running, 2) == [200, 200]
            assert await evaluator.tick() == []  # healthy
            clock.advance(30)

            fake_openai.default = error(500)
            assert await ask(running, 3) == [503, 503, 503]
            fired = await evaluator.tick()
            assert [(t.state, t.subject) for t in fired] == [("fired", "up")]
            # The same period again, from another process: the job is claimed already.
            assert await evaluator.tick() == []
            clock.advance(30)
            assert await ask(running, 1) == [503]
            assert await evaluator.tick() == []  # still failing: one incident, not two
            await dispatcher.run_once()

            clock.advance(400)  # the failures leave the window
            fake_openai.default = reply("fine again")
            assert await ask(running, 3) == [200, 200, 200]
            resolved = await evaluator.tick()
            assert [(t.state, t.subject) for t in resolved] == [("resolved", "up")]
            clock.advance(30)
            assert await evaluator.tick() == []
            await dispatcher.run_once()
            await receiver.wait_for(2)
        finally:
            await running.close()

    notices = [(c.args["channel"], c.args["text"]) for c in fake_slack.calls_to("chat.postMessage")]
    assert notices == [
        (
            "C_OPS",
            "[CRITICAL] Alert 'up-failing': 3 of 5 upstream attempts to 'up' failed in the "
            "last 5 min (60%, alert at 50%).",
        ),
        ("C_OPS", "[RESOLVED] Alert 'up-failing' (up): back to normal after 7 min."),
    ]
    events = [r.body for r in receiver.received]
    assert [e["type"] for e in events] == ["alert.fired", "alert.resolved"]
    assert events[0]["data"] == {
        "alert": "up-failing",
        "kind": "provider_error_rate",
        "severity": "critical",
        "state": "fired",
        "subject": "up",
        "summary": "3 of 5 upstream attempts to 'up' failed in the last 5 min (60%, alert at 50%).",
        "incident_id": events[1]["data"]["incident_id"],
        "fired_at": "2026-11-15T12:00:30+00:00",
    }
    assert events[1]["data"]["state"] == "resolved"


async def test_two_evaluators_fire_an_incident_once(sqlite_url: str) -> None:
    running = await start_hub(
        {"alerts": [{**RULE, "kind": "outbox_backlog", "threshold": 0}]}, database_url=sqlite_url
    )
    try:
        hub = running.hub
        one, other = AlertEvaluator(hub), AlertEvaluator(hub)
        first = await one.evaluate()  # `hub alert check` skips the claim...
        second = await other.evaluate()  # ...and the open incident still fires once
        assert [(t.state, t.subject) for t in first] == [("fired", "outbox")]
        assert second == []
        # Scheduled: one process claims each period.
        jobs = ScheduledOnce(hub.sessions, hub.clock, claimant="elsewhere")
        assert await jobs.claim("alerts-evaluate", period="x")
    finally:
        await running.close()


def test_rules_are_checked_when_the_config_is_read(sqlite_url: str) -> None:
    from tests.support.hubs import settings_from

    with pytest.raises(ConfigError, match="name the team"):
        settings_from({"alerts": [{"name": "a", "kind": "latency_p95"}]}, database_url=sqlite_url)
    with pytest.raises(ConfigError, match="alerts\\[0\\].kind must be"):
        settings_from({"alerts": [{"name": "a", "kind": "nope"}]}, database_url=sqlite_url)
    with pytest.raises(ConfigError, match="two \\[\\[alerts\\]\\] are named 'a'"):
        settings_from(
            {"alerts": [{"name": "a", "kind": "budget"}, {"name": "a", "kind": "budget"}]},
            database_url=sqlite_url,
        )


def test_otel_comes_from_the_environment_only(sqlite_url: str) -> None:
    from tests.support.hubs import settings_from

    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported"):
        settings_from(
            {},
            database_url=sqlite_url,
            env={
                "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            },
        )
    with pytest.raises(ConfigError, match="set the OTEL_"):
        settings_from({"otel": {"traces_endpoint": "http://c"}}, database_url=sqlite_url)
    on = settings_from(
        {}, database_url=sqlite_url, env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}
    )
    assert on.otel.traces_endpoint == "http://c:4318/v1/traces"
    assert on.otel.metrics_endpoint == "http://c:4318/v1/metrics"
    assert settings_from({}, database_url=sqlite_url).otel.enabled is False
