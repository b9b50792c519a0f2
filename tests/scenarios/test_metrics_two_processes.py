"""Counters equal the ledger after a mixed run (plain, streamed, errors, fallbacks,
cancellations) across two real `hub serve` processes sharing a database and a
PROMETHEUS_MULTIPROC_DIR: either process's /metrics counts what both did. Both export their
spans to an OTLP/HTTP collector named only by the standard environment variables."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hub.config import load_settings
from hub.service import Hub
from hub.store.ledger_tables import UsageRecord
from hub.store.migrate import upgrade
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.fakes.otlp_collector import FakeCollector
from tests.hub.observability.support import TOKEN, ledger, samples, scrape, total
from tests.support.hubs import free_port

HUB = str(Path(sys.executable).with_name("hub"))


def write_config(folder: Path, upstream: str) -> Path:
    path = folder / "hub.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{folder}/hub.db"\n'
        f'[metrics]\nbearer_token = "{TOKEN}"\n'
        "[router]\nmax_retries = 0\n"
        f'[providers.up]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-x"\n'
        f'[providers.spare]\ntype = "openai"\nbase_url = "{upstream}"\napi_key = "sk-y"\n'
        '[models.gpt]\ndeployments = [{ provider = "up", model = "gpt-4o-mini", '
        "input_usd_per_mtok = 1000, output_usd_per_mtok = 2000 }]\n"
        "[models.pair]\ndeployments = ["
        '{ provider = "up", model = "gpt-4o", input_usd_per_mtok = 1000, '
        "output_usd_per_mtok = 1000 }, "
        '{ provider = "spare", model = "gpt-4o-mini", input_usd_per_mtok = 500, '
        "output_usd_per_mtok = 500 }]\n"
    )
    return path


class Serving:
    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config, self.env = config, env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            HUB, "--config", str(self.config), "serve", "--port", str(self.port),
            env=self.env, cwd=self.config.parent,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def ready(self) -> None:
        """`hub serve` prints its listening line once it accepts connections."""
        assert self.process is not None and self.process.stdout is not None
        async with asyncio.timeout(90):
            while True:
                line = (await self.process.stdout.readline()).decode()
                assert line, "hub serve exited before it listened"
                if line.startswith("UniLLM Hub listening on "):
                    break
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as http:
            assert (await http.get("/healthz")).status_code == 200

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()  # a stop that hangs must not hang the suite
                await self.process.wait()


@pytest.fixture
async def collector() -> AsyncIterator[FakeCollector]:
    async with FakeCollector() as fake:
        yield fake


@pytest.fixture
async def two_hubs(
    tmp_path: Path, fake_openai: FakeOpenAI, collector: FakeCollector
) -> AsyncIterator[tuple[Hub, str, list[Serving]]]:
    config = write_config(tmp_path, fake_openai.base_url)
    (tmp_path / "prometheus").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env["HUB_SECRET_KEY"] = Fernet.generate_key().decode()
    env["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path / "prometheus")
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.origin
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    env["OTEL_BSP_SCHEDULE_DELAY"] = "100"  # the SDK's own variable: export every 0.1 s
    # The test's own view of the shared database (no multi-process metrics here).
    hub = Hub.open(load_settings(config, env={"HUB_SECRET_KEY": env["HUB_SECRET_KEY"]}))
    await upgrade(hub.engine)
    team = await hub.teams.create("acme", monthly_budget_micros=100_000_000)
    key = (await hub.keys.create(team, name="t")).key
    servers = [Serving(config, env), Serving(config, env)]
    try:
        for server in servers:
            await server.start()
        for server in servers:
            await server.ready()
        yield hub, key, servers
    finally:
        for server in servers:
            await server.stop()
        await hub.close()


async def ask(url: str, key: str, model: str, *, stream: bool = False) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "model": model,
                "stream": stream,
                "messages": [{"role": "user", "content": "hi"}],
            },
        )
        await response.aread()
        return response.status_code


async def hang_up(url: str, key: str) -> None:
    """Stream, read the first chunk, and leave."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        async with http.stream(
            "POST",
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "gpt", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        ) as response:
            async for line in response.aiter_lines():
                if "one" in line:
                    break


@pytest.mark.timeout(180)  # two real processes start on a machine that may be busy
async def test_counters_equal_the_ledger_across_two_processes(
    two_hubs: tuple[Hub, str, list[Serving]], fake_openai: FakeOpenAI, collector: FakeCollector
) -> None:
    hub, key, (first, second) = two_hubs
    fake_openai.script(
        reply("a b c", prompt_tokens=10, completion_tokens=3),  # 1: plain, first
        reply("d e", prompt_tokens=8, completion_tokens=2),  # 2: streamed, second
        error(500),  # 3: error, first
        error(500),  # 4: pair falls back: up fails...
        reply("f", prompt_tokens=6, completion_tokens=1),  # ...spare answers, second
        reply("g h i", prompt_tokens=9, completion_tokens=3),  # 5: streamed, first
        error(400),  # 6: error, second
        reply("one two three four", gate_after=1),  # 7: cancelled, first
        reply("one two three four", gate_after=1),  # 8: cancelled, second
    )
    assert await ask(first.url, key, "gpt") == 200
    assert await ask(second.url, key, "gpt", stream=True) == 200
    assert await ask(first.url, key, "gpt") == 503
    assert await ask(second.url, key, "pair") == 200
    assert await ask(first.url, key, "gpt", stream=True) == 200
    assert await ask(second.url, key, "gpt") == 400
    await hang_up(first.url, key)
    await hang_up(second.url, key)
    fake_openai.gate.set()
    async with asyncio.timeout(30):  # each process settles the hang-ups after the client left
        while True:
            async with hub.sessions() as session:
                if await session.scalar(select(func.count(UsageRecord.id))) == 8:
                    break
            await asyncio.sleep(0.05)

    books = await ledger(hub)
    assert books["requests"] == {"ok": 4, "error": 2, "cancelled": 2}
    for server in (first, second):  # either process answers for both
        found = samples(await scrape(server.url))
        for status, count in books["requests"].items():
            assert total(found, "unillm_requests_total", status=status) == count
        assert total(found, "unillm_tokens_total", type="input") == books["input"]
        assert total(found, "unillm_tokens_total", type="output") == books["output"]
        assert total(found, "unillm_spend_usd_total") == pytest.approx(books["spend_micros"] / 1e6)
        assert total(found, "unillm_upstream_attempts_total") == 9
        assert total(found, "unillm_fallbacks_total", alias="pair") == 1
        assert total(found, "unillm_request_duration_seconds_count") == 8
    # One `chat {model}` CLIENT span per upstream attempt reached the collector.
    async with asyncio.timeout(30):
        await collector.wait_spans(lambda got: sum(x.name.startswith("chat ") for x in got) >= 9)
    chats = [x for x in collector.spans if x.name.startswith("chat ")]
    assert sorted(x.name for x in chats) == ["chat gpt-4o"] + ["chat gpt-4o-mini"] * 8
    assert {x.kind for x in chats} == {"CLIENT"}
    assert {x.attributes["gen_ai.provider.name"] for x in chats} == {"openai"}
    servers = [x for x in collector.spans if x.name == "POST /v1/chat/completions"]
    assert len(servers) == 8 and len({x.trace_id for x in servers}) == 8
