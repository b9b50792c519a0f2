"""Only requests Slack signed, within five minutes, reach Bolt; the rest get 401 and no effect."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from connectors.slack.verify import SignatureError, sign, verify_request
from hub.store.platform_tables import Delivery
from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import SIGNING_SECRET, SlackHarness

BODY = b'{"type":"event_callback"}'


def test_sign_matches_slacks_documented_example() -> None:
    # From https://api.slack.com/authentication/verifying-requests-from-slack
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    assert sign("8f742231b10e8888abcd99yyyzzz85a5", "1531420618", body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing signature headers"),
        ({"X-Slack-Request-Timestamp": "1000"}, "missing signature headers"),
        ({"X-Slack-Request-Timestamp": "x", "X-Slack-Signature": "v0=1"}, "malformed timestamp"),
        ({"X-Slack-Request-Timestamp": "600", "X-Slack-Signature": "v0=1"}, "stale timestamp"),
        ({"X-Slack-Request-Timestamp": "1000", "X-Slack-Signature": "v0=1"}, "bad signature"),
    ],
)
def test_verify_refuses(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_request(secret="s", headers=headers, body=BODY, now=1000.0)


def test_verify_accepts_within_the_window() -> None:
    headers = {"X-Slack-Request-Timestamp": "1000", "X-Slack-Signature": sign("s", "1000", BODY)}
    verify_request(secret="s", headers=headers, body=BODY, now=1000.0 + 299)


async def _no_side_effect(h: SlackHarness) -> None:
    await h.connector.drain()
    async with h.running.hub.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert h.slack.calls == []
    assert h.llm.requests == []


async def test_unsigned_stale_and_forged_requests_get_401(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        event = {
            "type": "app_mention",
            "user": "U1",
            "text": "<@UBOT> hi",
            "ts": "1.1",
            "channel": "C1",
        }
        body = h.event_body(event)
        cases = {
            "bad signature": h.headers(body, secret="not-the-secret"),
            "stale": h.headers(body, age=301),
            "missing": {},
            "body changed": h.headers(body + b" "),
        }
        for name, headers in cases.items():
            response = await h.post(body, "application/json", headers=headers)
            assert response.status_code == 401, name
            assert response.json() == {"error": "invalid_signature"}
        await _no_side_effect(h)


async def test_url_verification_challenge(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        body = json.dumps(
            {
                "token": "t",
                "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                "type": "url_verification",
            }
        ).encode()
        response = await h.post(body, "application/json")
        assert response.status_code == 200
        assert response.json() == {
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
        }
        unsigned = await h.post(body, "application/json", headers={})
        assert unsigned.status_code == 401


async def test_signed_request_from_another_app_secret_is_refused(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        body = b"command=%2Fask&text=hi"
        response = await h.post(
            body,
            "application/x-www-form-urlencoded",
            headers=h.headers(body, secret=SIGNING_SECRET[::-1]),
        )
        assert response.status_code == 401
        await _no_side_effect(h)
