"""The world the node conformance suites run against: the fake OpenAI and Anthropic upstreams,
a hub in front of them (temp SQLite, the conformance config), and a small control API for
the tests (script a fake, read what it received, read the last usage record). Prints one
JSON line (the URLs and the team key), then serves until killed. Run with the hub's venv
python (HUB_PYTHON; `make test` does)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import tempfile
from typing import Any

from aiohttp import web

from tests.conformance.harness import hub_config, replay
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.llm_script import FakeLLMServer
from tests.fakes.openai_server import FakeOpenAI
from tests.support.hubs import RunningHub, start_hub
from tests.support.records import usage_rows


def control_app(running: RunningHub, fakes: dict[str, FakeLLMServer]) -> web.Application:
    async def script(request: web.Request) -> web.Response:
        body = await request.json()
        fake = fakes[body["target"]]
        fake.script(*(replay(u) for u in body["upstreams"]))
        return web.json_response({"ok": True})

    async def received(request: web.Request) -> web.Response:
        fake = fakes[request.query["target"]]
        return web.json_response([r.json for r in fake.requests])

    async def last_usage(request: web.Request) -> web.Response:
        rows = await usage_rows(running.hub)
        if not rows:
            return web.json_response({"count": 0})
        row = rows[-1]
        fields = (
            "prompt_tokens",
            "completion_tokens",
            "cached_tokens",
            "cache_write_tokens",
            "reasoning_tokens",
            "cost_micros",
            "status",
            "alias",
        )
        return web.json_response({"count": len(rows), **{f: getattr(row, f) for f in fields}})

    async def advance(request: web.Request) -> web.Response:
        """Move the hub's fake clock past any circuit cooldown a failing case opened."""
        clock: Any = running.clock
        clock.advance(float(request.query.get("seconds", "601")))
        return web.json_response({"ok": True})

    app = web.Application()
    app.add_routes(
        [
            web.post("/advance", advance),
            web.post("/script", script),
            web.get("/received", received),
            web.get("/usage/last", last_usage),
        ]
    )
    return app


async def main() -> None:
    workdir = tempfile.mkdtemp(prefix="conformance-hub-")
    async with FakeOpenAI() as oa, FakeAnthropic() as claude:
        running = await start_hub(
            hub_config(oa.base_url, claude.origin),
            database_url=f"sqlite+aiosqlite:///{workdir}/hub.db",
        )
        await running.serve()
        runner = web.AppRunner(control_app(running, {"openai": oa, "anthropic": claude}))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        info: dict[str, Any] = {
            "hub": running.base_url + "/v1",
            "key": running.key.key,
            "openai": oa.base_url,
            "control": f"http://127.0.0.1:{port}",
        }
        print(json.dumps(info), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await runner.cleanup()
            await running.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
