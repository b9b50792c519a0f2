"""How fast Slack and Discord get their ack while the provider takes 30 seconds to answer.

Slack wants an answer to a slash command within 3 s, Discord to an interaction within 3 s;
the hub must ack first and do the LLM work after. This serves a hub with both connectors
(signed requests as the platforms sign them, their APIs faked on 127.0.0.1) in front of an
upstream that answers each request after `--provider-s` seconds, sends `--requests` Slack
`/ask` commands and as many Discord `/ask` interactions, paced over that time so each lands
while earlier answers are still pending, and prints each platform's ack p50/p99/max.

    .venv/bin/python bench/ack.py [--requests 60] [--provider-s 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer
from nacl.encoding import HexEncoder
from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.discord import plugin as discord_plugin  # noqa: E402
from connectors.slack import plugin as slack_plugin  # noqa: E402
from connectors.slack.verify import sign  # noqa: E402
from hub.clock import SystemClock  # noqa: E402
from tests.connectors.discord.helpers import GUILD, command  # noqa: E402
from tests.fakes.discord_rest import APP_ID, BOT_TOKEN, FakeDiscordRest  # noqa: E402
from tests.fakes.slack_api import DEFAULT_TOKEN, FakeSlack  # noqa: E402
from tests.support.hubs import model_config, openai_provider_config, start_hub  # noqa: E402

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TEAM = "T1"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def slow_upstream(seconds: float) -> TestServer:
    """An OpenAI-compatible upstream that answers every request after `seconds`."""

    async def answer(request: web.Request) -> web.StreamResponse:
        await request.read()
        await asyncio.sleep(seconds)
        chunk = {"choices": [{"index": 0, "delta": {"content": "late"}, "finish_reason": None}]}
        usage = {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 1}}
        body = (
            b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in (chunk, usage))
            + b"data: [DONE]\n\n"
        )
        return web.Response(body=body, content_type="text/event-stream")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def main(requests: int, provider_s: float) -> None:
    upstream = await slow_upstream(provider_s)
    key = SigningKey.generate()
    async with FakeSlack() as slack, FakeDiscordRest() as rest:
        with tempfile.TemporaryDirectory() as tmp:
            running = await start_hub(
                {
                    "providers": {
                        "up": openai_provider_config(f"http://127.0.0.1:{upstream.port}/v1")
                    },
                    "models": {"default": model_config(("up", "m", 1.0, 2.0))},
                    "router": {"max_retries": 0},
                    "logging": {"level": "WARNING"},
                    "connectors": {
                        "slack": {
                            "enabled": True,
                            "signing_secret": SLACK_SECRET,
                            "api_base_url": slack.base_url,
                            "bot_token": DEFAULT_TOKEN,  # a bot the fake knows: auth.test passes
                        },
                        "discord": {
                            "enabled": True,
                            "application_id": APP_ID,
                            "public_key": key.verify_key.encode(HexEncoder).decode(),
                            "bot_token": BOT_TOKEN,
                            "api_base_url": rest.base_url,
                        },
                    },
                },
                database_url=f"sqlite+aiosqlite:///{tmp}/ack.db",
                clock=SystemClock(),
            )
            await running.hub.bindings.bind("slack", SLACK_TEAM, running.team)
            await running.hub.bindings.bind("discord", GUILD, running.team)
            await running.serve(plugins=[slack_plugin, discord_plugin])
            slack_acks: list[float] = []
            discord_acks: list[float] = []
            async with httpx.AsyncClient(base_url=running.base_url, timeout=30) as http:

                async def ask_slack(n: int) -> None:
                    form = {
                        "team_id": SLACK_TEAM,
                        "channel_id": "C1",
                        "user_id": "U1",
                        "command": "/ask",
                        "text": f"question {n}",
                        "response_url": slack.response_url(f"cmd{n}"),
                        "trigger_id": f"1337.{n}.abc",
                    }
                    body = urlencode(form).encode()
                    stamp = str(int(time.time()))
                    headers = {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Slack-Request-Timestamp": stamp,
                        "X-Slack-Signature": sign(SLACK_SECRET, stamp, body),
                    }
                    began = time.perf_counter()
                    response = await http.post("/slack/events", content=body, headers=headers)
                    slack_acks.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()

                async def ask_discord(n: int) -> None:
                    body = json.dumps(command("ask", {"prompt": f"question {n}"})).encode()
                    stamp = str(int(time.time()))
                    headers = {
                        "Content-Type": "application/json",
                        "X-Signature-Ed25519": key.sign(stamp.encode() + body).signature.hex(),
                        "X-Signature-Timestamp": stamp,
                    }
                    began = time.perf_counter()
                    response = await http.post(
                        "/discord/interactions", content=body, headers=headers
                    )
                    discord_acks.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()

                # A first request per platform warms the process (slack_bolt's auth.test,
                # first compiled statements, lazy imports); its ack is printed on its own.
                await asyncio.gather(ask_slack(-1), ask_discord(-1))
                first_slack, first_discord = slack_acks.pop(), discord_acks.pop()
                pace = provider_s * 0.8 / requests  # all sent while the first is still pending
                tasks = []
                for n in range(requests):
                    tasks += [
                        asyncio.ensure_future(ask_slack(n)),
                        asyncio.ensure_future(ask_discord(n)),
                    ]
                    await asyncio.sleep(pace)
                await asyncio.gather(*tasks)
            print(f"# UniLLM Hub ack latency while the provider takes {provider_s:g} s per answer")
            print(
                f"# python {platform.python_version()}, {os.cpu_count()} cores, SQLite; "
                f"{requests} Slack /ask and {requests} Discord /ask sent over "
                f"{provider_s * 0.8:g} s; hub, client and fakes share one event loop"
            )
            print(f"{'platform':<10}{'p50':>9}{'p99':>9}{'max':>9}   (target: p99 <= 100 ms)")
            for name, acks, first in (
                ("Slack", slack_acks, first_slack),
                ("Discord", discord_acks, first_discord),
            ):
                print(
                    f"{name:<10}{pct(acks, 0.5):>7.1f}ms{pct(acks, 0.99):>7.1f}ms"
                    f"{max(acks):>7.1f}ms   (the warm-up request: {first:.1f} ms)"
                )
            await running.close()  # waits for the pending answers
    await upstream.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--provider-s", type=float, default=30.0)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.provider_s))
