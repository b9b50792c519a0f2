"""Unexpected exceptions reach a (fake) Sentry with the request id and trace id, scrubbed of
secrets and content, and are counted in /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import click
from aiohttp import web

from hub.service import Hub
from tests.fakes.otlp_collector import FakeCollector
from tests.fakes.sentry_ingest import FakeSentry
from tests.hub.observability.support import TOKEN, samples, scrape, total
from tests.support.hubs import start_hub

UPSTREAM_KEY = "sk-upstream-secret-0123456789"
PROMPT = "my confidential question about payroll"


class _Broken:
    """A connector whose route fails the way a bug would."""

    name = "broken"

    def routes(self) -> list[web.RouteDef]:
        async def explode(request: web.Request) -> web.Response:
            logging.getLogger("connectors.broken").info(
                "about to fail", extra={"fields": {"prompt": PROMPT}}
            )
            raise RuntimeError(f"upstream said no to {UPSTREAM_KEY} (Bearer uh-abcdef123456)")

        async def background(request: web.Request) -> web.Response:
            try:
                raise KeyError("missing thing")
            except KeyError:
                logging.getLogger("connectors.broken").exception("answering failed")
            return web.json_response({"ok": True})

        return [web.post("/broken", explode), web.post("/quiet", background)]

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


class BrokenPlugin:
    name = "broken"
    enabled_by_default = False

    def create(self, hub: Hub, section: Mapping[str, Any]) -> _Broken:
        return _Broken()

    def commands(self) -> Sequence[click.Command]:
        return ()


async def test_unexpected_errors_are_reported_scrubbed_and_counted(sqlite_url: str) -> None:
    async with FakeSentry() as sentry, FakeCollector() as collector:
        running = await start_hub(
            {
                "providers": {
                    "up": {
                        "type": "openai",
                        "base_url": "http://127.0.0.1:9",
                        "api_key": UPSTREAM_KEY,
                    }
                },
                "models": {
                    "m": {
                        "deployments": [
                            {
                                "provider": "up",
                                "model": "x",
                                "input_usd_per_mtok": 1,
                                "output_usd_per_mtok": 1,
                            }
                        ]
                    }
                },
                "errors": {"sentry_dsn": sentry.dsn, "environment": "test"},
                "metrics": {"bearer_token": TOKEN},
                "logging": {"log_content": True},
            },
            database_url=sqlite_url,
            env={"OTEL_EXPORTER_OTLP_ENDPOINT": collector.origin},
        )
        await running.serve([BrokenPlugin()])
        try:
            async with running.client() as http:
                failed = await http.post(
                    "/broken",
                    headers={
                        "X-Request-ID": "req-123",
                        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    },
                    content=PROMPT,
                )
                quiet = await http.post("/quiet")
            assert failed.status_code == 500 and quiet.status_code == 200
            await asyncio.to_thread(running.hub.observability.errors.flush)
            found = samples(await scrape(running.base_url))
        finally:
            await running.close()
    assert total(found, "unillm_unexpected_errors_total", component="http") == 1
    assert total(found, "unillm_unexpected_errors_total", component="connectors.broken") == 1
    assert len(sentry.events) == 2
    http_event = next(e for e in sentry.events if e["tags"]["component"] == "http")
    assert http_event["tags"]["request_id"] == "req-123"
    assert http_event["tags"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert http_event["environment"] == "test"
    (exception,) = http_event["exception"]["values"]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "upstream said no to [redacted] (Bearer [redacted])"
    everything = b"".join(sentry.raw).decode()
    assert UPSTREAM_KEY not in everything and "uh-abcdef123456" not in everything
    assert PROMPT not in everything  # neither the body nor the log line's fields
    assert "request" not in http_event and "extra" not in http_event
    logged = next(e for e in sentry.events if e["tags"]["component"] == "connectors.broken")
    assert logged["exception"]["values"][0]["type"] == "KeyError"
