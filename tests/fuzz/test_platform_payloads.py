"""Hypothesis-driven fuzzing of the platform routes (issue #13): payloads shaped like Slack's
events, slash commands and interactions and Discord's interactions, with fields of the wrong
type, missing or strange, sent signed (as the platform signs) and unsigned. Signed: never a
5xx; unsigned: always 401; and nothing logs a traceback, in the handlers or in the answers
they start. Runs on SQLite and PostgreSQL, derandomized, bounded (`make fuzz` runs more)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.slack.connector import SlackConnector
from connectors.slack.verify import sign
from hub.web import CONNECTORS_KEY
from tests.fakes.discord_rest import APP_ID
from tests.fuzz.support import (
    DISCORD_GUILD,
    DISCORD_KEY,
    SLACK_SECRET,
    SLACK_TEAM,
    FuzzedHub,
    examples,
    fuzzed_hub,
    time_limit,
)
from tests.support.logs import LogCapture

TEXT = st.text(max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually the right kind of value, sometimes anything at all."""
    return st.one_of(value, value, JSON)


SLACK_EVENT = st.fixed_dictionaries(
    {
        "type": maybe(st.sampled_from(["event_callback", "url_verification", "app_rate_limited"])),
        "team_id": maybe(st.just(SLACK_TEAM)),
        "event_id": maybe(TEXT),
        "challenge": maybe(TEXT),
        "event": maybe(
            st.fixed_dictionaries(
                {
                    "type": maybe(st.sampled_from(["app_mention", "message"])),
                    "text": maybe(TEXT),
                    "user": maybe(st.just("U1")),
                    "channel": maybe(st.just("C1")),
                    "ts": maybe(st.just("1.000100")),
                    "thread_ts": maybe(TEXT),
                    "channel_type": maybe(st.sampled_from(["im", "channel"])),
                }
            )
        ),
    }
)
SLACK_COMMAND = st.fixed_dictionaries(
    {
        "command": st.sampled_from(["/ask", "/unknown"]),
        "text": TEXT,
        "team_id": st.sampled_from([SLACK_TEAM, "T-other", ""]),
        "user_id": st.sampled_from(["U1", ""]),
        "channel_id": st.sampled_from(["C1", ""]),
        "trigger_id": TEXT,
        "response_url": st.sampled_from(["", "http://127.0.0.1:9/x"]),
    }
)
SLACK_ACTION = st.fixed_dictionaries(
    {
        "type": maybe(st.sampled_from(["block_actions", "view_submission", "shortcut"])),
        "team": maybe(st.fixed_dictionaries({"id": maybe(st.just(SLACK_TEAM))})),
        "user": maybe(st.fixed_dictionaries({"id": maybe(st.just("U1"))})),
        "actions": maybe(st.lists(st.dictionaries(TEXT, JSON, max_size=3), max_size=2)),
        "channel": maybe(st.fixed_dictionaries({"id": maybe(st.just("C1"))})),
        "message": maybe(st.fixed_dictionaries({"ts": maybe(TEXT)})),
    }
)
DISCORD = st.fixed_dictionaries(
    {
        "id": maybe(st.integers(1, 10**18).map(str)),
        "type": maybe(st.sampled_from([1, 2, 3, 4, 5])),
        "application_id": maybe(st.just(APP_ID)),
        "token": maybe(TEXT),
        "guild_id": maybe(st.just(DISCORD_GUILD)),
        "channel_id": maybe(st.just("800000000000000001")),
        "member": maybe(
            st.fixed_dictionaries(
                {"user": maybe(st.fixed_dictionaries({"id": maybe(st.just("700000000000000001"))}))}
            )
        ),
        "data": maybe(
            st.fixed_dictionaries(
                {
                    "name": maybe(st.sampled_from(["ask", "usage", "model", "quota"])),
                    "custom_id": maybe(TEXT),
                    "options": maybe(
                        st.lists(
                            st.fixed_dictionaries(
                                {"name": maybe(st.sampled_from(["prompt", "model"])), "value": JSON}
                            ),
                            max_size=2,
                        )
                    ),
                }
            )
        ),
    }
)
BODIES = st.one_of(
    SLACK_EVENT.map(lambda p: ("slack", json.dumps(p).encode(), "application/json")),
    SLACK_COMMAND.map(
        lambda p: ("slack", urlencode(p).encode(), "application/x-www-form-urlencoded")
    ),
    SLACK_ACTION.map(
        lambda p: (
            "slack",
            urlencode({"payload": json.dumps(p)}).encode(),
            "application/x-www-form-urlencoded",
        )
    ),
    DISCORD.map(lambda p: ("discord", json.dumps(p).encode(), "application/json")),
)


def signed(platform: str, body: bytes, now: float) -> dict[str, str]:
    stamp = str(int(now))
    if platform == "slack":
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SLACK_SECRET, stamp, body),
        }
    signature = DISCORD_KEY.sign(stamp.encode() + body).signature.hex()
    return {"X-Signature-Timestamp": stamp, "X-Signature-Ed25519": signature}


def fuzz(fh: FuzzedHub, *, count: int) -> int:
    sent = 0
    paths = {"slack": "/slack/events", "discord": "/discord/interactions"}
    with httpx.Client(base_url=fh.running.base_url, timeout=30) as http:

        @settings(
            max_examples=count,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=BODIES)
        def run(case: tuple[str, bytes, str]) -> None:
            nonlocal sent
            platform, body, content_type = case
            now = fh.running.clock.now().timestamp()
            headers = {"Content-Type": content_type}
            answer = http.post(
                paths[platform], content=body, headers={**headers, **signed(platform, body, now)}
            )
            assert answer.status_code < 500, (platform, body[:300], answer.status_code, answer.text)
            stranger = http.post(paths[platform], content=body, headers=headers)
            assert stranger.status_code == 401, (platform, stranger.text)
            sent += 2

        run()
    return sent


@pytest.mark.timeout(time_limit())
# The hub runs on the event loop's thread while hypothesis draws on this one: slack_sdk's retry
# jitter (a response_url that cannot be reached) moves the global `random` state mid-draw,
# which hypothesis reports as a strategy using `random`. Not the strategies: ignored.
@pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
async def test_signed_and_unsigned_platform_payloads(database_url: str, logs: LogCapture) -> None:
    started = time.monotonic()
    async with fuzzed_hub(database_url) as fh:
        sent = await asyncio.to_thread(fuzz, fh, count=examples(60))
        assert fh.running.runner is not None
        for connector in fh.running.runner.app[CONNECTORS_KEY]:
            if isinstance(connector, SlackConnector):
                await connector.drain()  # the answers the fuzzed requests started
    assert sent >= 100
    tracebacks = [r.getMessage() for r in logs.records if r.levelname == "ERROR" or r.exc_info]
    assert tracebacks == [], tracebacks[:5]
    print(f"{sent} requests in {time.monotonic() - started:.1f} s")
