"""Driving the running hub as Slack does: signed events, slash commands and button clicks."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.slack.connector import SlackConnector
from connectors.slack.verify import sign
from hub.clock import FakeClock
from hub.web import CONNECTORS_KEY
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack_api import FakeSlack
from tests.support.hubs import RunningHub

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TEAM = "T1"
CHANNEL = "C1"
USER = "U1"
BOT_USER = "UBOT"


@dataclass
class SlackHarness:
    running: RunningHub
    slack: FakeSlack
    llm: FakeOpenAI
    http: httpx.AsyncClient
    secret: str = SIGNING_SECRET
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def clock(self) -> FakeClock:
        assert isinstance(self.running.clock, FakeClock)
        return self.running.clock

    @property
    def connector(self) -> SlackConnector:
        assert self.running.runner is not None
        found = self.running.runner.app[CONNECTORS_KEY]
        return next(c for c in found if isinstance(c, SlackConnector))

    def headers(self, body: bytes, *, age: float = 0, secret: str | None = None) -> dict[str, str]:
        timestamp = str(int(self.clock.now().timestamp() - age))
        return {
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(secret or self.secret, timestamp, body),
        }

    async def post(
        self, body: bytes, content_type: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        signed = self.headers(body) if headers is None else headers
        sent = {"Content-Type": content_type, **signed}
        return await self.http.post("/slack/events", content=body, headers=sent)

    def event_body(
        self, event: dict[str, Any], *, event_id: str | None = None, team: str = TEAM
    ) -> bytes:
        envelope = {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A1",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):04d}",
            "event_time": int(self.clock.now().timestamp()),
            "authorizations": [
                {"team_id": team, "user_id": BOT_USER, "is_bot": True, "enterprise_id": None}
            ],
        }
        return json.dumps(envelope).encode()

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        team: str = TEAM,
        retry_num: int | None = None,
    ) -> httpx.Response:
        body = self.event_body(event, event_id=event_id, team=team)
        headers = self.headers(body)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.post(body, "application/json", headers=headers)

    def new_ts(self) -> str:
        return self.slack.next_ts()

    async def mention(
        self,
        text: str,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
        team: str = TEAM,
        **extra: Any,
    ) -> tuple[httpx.Response, str]:
        ts = ts or self.slack.add_message(CHANNEL, f"<@{BOT_USER}> {text}", thread_ts=thread_ts)
        event = {
            "type": "app_mention",
            "user": USER,
            "text": f"<@{BOT_USER}> {text}",
            "ts": ts,
            "channel": CHANNEL,
            "event_ts": ts,
            **({"thread_ts": thread_ts} if thread_ts else {}),
            **extra,
        }
        return await self.event(event, team=team), ts

    async def command(
        self,
        text: str,
        *,
        command: str = "/ask",
        user: str = USER,
        channel: str = CHANNEL,
        team: str = TEAM,
        response_url: str | None = None,
    ) -> httpx.Response:
        form = {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "test",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "alice",
            "command": command,
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url or self.slack.response_url(f"cmd{next(self._ids)}"),
            "trigger_id": f"1337.{next(self._ids)}.abcdef",
        }
        body = urlencode(form).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    async def press_stop(self, value: str, *, user: str = USER, team: str = TEAM) -> httpx.Response:
        action = {"type": "button", "action_id": "stop_answer", "block_id": "answer_controls"}
        return await self.press(action | {"value": value}, user=user, team=team, path="stop")

    async def press(
        self,
        action: dict[str, Any],
        *,
        user: str = USER,
        team: str = TEAM,
        path: str = "action",
        secret: str | None = None,
    ) -> httpx.Response:
        """A `block_actions` interaction: `user` pressed `action` on an answer in CHANNEL."""
        payload = {
            "type": "block_actions",
            "team": {"id": team, "domain": "test"},
            "user": {"id": user, "username": "alice", "team_id": team},
            "api_app_id": "A1",
            "token": "legacy-verification-token",
            "trigger_id": f"1338.{next(self._ids)}.abcdef",
            "channel": {"id": CHANNEL, "name": "general"},
            "container": {"type": "message", "channel_id": CHANNEL, "is_ephemeral": False},
            "response_url": self.slack.response_url(path),
            "actions": [action | {"action_ts": "1700000001.000001"}],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        headers = self.headers(body, secret=secret)
        return await self.post(body, "application/x-www-form-urlencoded", headers=headers)


def stop_value(blocks: list[dict[str, Any]]) -> str | None:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == "stop_answer":
                return str(element["value"])
    return None
