"""`hub usage --by key`, `--month` and `--until`, read back by real processes; money by hand."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet

from hub.config import load_settings
from hub.ledger.keys import IssuedKey
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.service import Hub
from hub.store.migrate import upgrade
from tests.support.forked_cli import run_all

KEY = Fernet.generate_key().decode()
CONFIG = """
[database]
url = "sqlite:///hub.db"
[providers.demo]
type = "demo"
[models.demo]
deployments = [
  { provider = "demo", model = "demo-1", input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 },
]
"""


async def seed(config: Path) -> tuple[IssuedKey, IssuedKey]:
    hub = Hub.open(load_settings(config, env={"HUB_SECRET_KEY": KEY}))
    try:
        await upgrade(hub.engine)
        team = await hub.teams.create("t")
        first = await hub.keys.create(team, name="ci")
        second = await hub.keys.create(team, name="bot")
        records = [  # (key, when, prompt, completion, cost micro-USD)
            (first.id, datetime(2026, 10, 31, 23, 59, tzinfo=UTC), 100, 10, 65),
            (first.id, datetime(2026, 11, 1, 0, 0, tzinfo=UTC), 1_000, 200, 800),
            (second.id, datetime(2026, 11, 15, tzinfo=UTC), 2_000, 0, 1_000),
            (second.id, datetime(2026, 12, 1, tzinfo=UTC), 10, 10, 20),
        ]
        async with hub.sessions.begin() as session:
            for i, (key_id, when, prompt, completion, cost) in enumerate(records):
                entry = UsageEntry(
                    request_id=f"r{i}",
                    caller=Caller(team.id, "t", key_id=key_id),
                    origin=Origin("openai_api"),
                    alias="demo",
                    deployment="demo/demo-1",
                    usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
                    cost_micros=cost,
                    latency_ms=1,
                    ttft_ms=1,
                    status="ok",
                )
                await record_usage(session, entry, now=when)
        return first, second
    finally:
        await hub.close()


async def test_usage_by_key_for_a_month_and_until(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text(CONFIG)
    first, second = await seed(config)
    env = {"HUB_SECRET_KEY": KEY, "HUB_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    by_key, month, until, both = await asyncio.to_thread(
        run_all,
        [
            ("usage", "--team", "t", "--month", "2026-11", "--by", "key", "--json"),
            ("usage", "--team", "t", "--month", "2026-10", "--json"),
            ("usage", "--team", "t", "--since", "2026-10-01", "--until", "2026-11-02", "--json"),
            ("usage", "--month", "2026-11", "--since", "2026-11-02"),
        ],
        cwd=tmp_path,
        env=env,
    )
    assert by_key.returncode == 0, by_key.stderr
    november = json.loads(by_key.stdout)
    assert (november["since"], november["until"], november["month"]) == (
        "2026-11-01",
        "2026-12-01",
        "2026-11",
    )
    assert (november["requests"], november["cost_usd"]) == (2, 0.0018)  # 800 + 1,000 micro-USD
    assert [(g["key"], g["requests"], g["cost_usd"]) for g in november["groups"]] == [
        (f"{first.id} (ci, {first.prefix}…)", 1, 0.0008),
        (f"{second.id} (bot, {second.prefix}…)", 1, 0.001),
    ]
    october = json.loads(month.stdout)
    assert (october["requests"], october["prompt_tokens"], october["cost_usd"]) == (1, 100, 6.5e-05)
    window = json.loads(until.stdout)
    assert (window["requests"], window["cost_usd"]) == (2, 0.000865)  # 65 + 800, not the 15th
    assert both.returncode == 2
    assert both.stderr.startswith("error: give --month, or --since/--until, not both")
