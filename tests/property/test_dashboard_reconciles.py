"""#16 point 3: the dashboard's numbers reconcile. Random usage (month and day boundaries, a
DST change, zones with 30- and 45-minute offsets, many keys, models and places) and random
explorer queries: every chart series, table row and total, the CSV and the JSON export equal
`SUM` over `usage_records` for the same filters to the micro-dollar, and so do the admin API
and `hub usage` (a real `hub` process) for the same UTC days."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from connectors.admin_api import plugin as admin_api
from connectors.dashboard import plugin as dashboard
from connectors.dashboard.explorer import GROUPS, METRICS
from connectors.openai_api import plugin as openai_api
from hub.clock import FakeClock
from hub.ledger.keys import IssuedKey
from hub.ledger.money import format_usd
from hub.ledger.reports import STATUSES
from hub.ledger.summary_plan import local_days
from hub.ledger.usage_entry import UsageEntry
from hub.ledger.usage_writer import record_usage
from hub.model import Caller, Origin, Usage
from hub.store.ledger_tables import UsageRecord
from hub.store.rollup_tables import UsageRollup
from tests.support.forked_cli import run_all
from tests.support.hubs import SECRET_KEY, start_hub

OPERATOR_KEY = "operator-key-for-reconciliation-0123456789"
API = "/admin/api/v1"
NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)
ANCHORS = (  # a month's end, the US DST change, a year's end
    datetime(2026, 10, 31, 23, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 22, 0, tzinfo=UTC),
)
ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu")
PLACES = (("slack", "W1", "C1"), ("slack", "W2", "C2"), ("discord", "G1", "D1"),
          ("openai_api", None, None))  # fmt: skip
MODELS = ("gpt-4o", "gpt-4o-mini", "claude")
FILTERS = {"model": MODELS, "connector": ("slack", "discord", "openai_api"),
           "slack_channel": ("C1", "C2"), "discord_guild": ("G1",), "status": STATUSES}  # fmt: skip
SUMS = ("requests", "prompt_tokens", "completion_tokens", "cost_micros")
SEEDED = settings(
    max_examples=6, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip

records = st.lists(
    st.fixed_dictionaries({
        "team": st.integers(0, 1),
        "key": st.integers(0, 2),
        "member": st.booleans(),
        "when": st.builds(lambda a, m: a + timedelta(minutes=m), st.sampled_from(ANCHORS),
                          st.integers(-3 * 24 * 60, 3 * 24 * 60)),
        "place": st.sampled_from(PLACES),
        "model": st.sampled_from(MODELS),
        "status": st.sampled_from(STATUSES),
        "prompt": st.integers(0, 100_000),
        "completion": st.integers(0, 20_000),
        "cost": st.integers(0, 3_000_000_000),
    }),
    min_size=1, max_size=40,
)  # fmt: skip
queries = st.lists(
    st.fixed_dictionaries({
        "zone": st.sampled_from(ZONES),
        "anchor": st.sampled_from(ANCHORS),
        "start": st.integers(-3, 2),
        "length": st.integers(0, 4),
        "group_by": st.lists(st.sampled_from(GROUPS), min_size=1, max_size=2, unique=True),
        "metric": st.sampled_from(sorted(METRICS)),
        "team": st.sampled_from((None, "acme", "globex")),
        "filter": st.one_of(st.none(), st.sampled_from(sorted(FILTERS)).flatmap(
            lambda name: st.tuples(st.just(name), st.sampled_from(FILTERS[name])))),
    }),
    min_size=1, max_size=3,
)  # fmt: skip


@dataclass
class Served:
    client: httpx.AsyncClient
    api: httpx.AsyncClient
    hub: Any
    teams: list[Any]
    keys: list[list[IssuedKey]]
    members: list[int]
    config: Path


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    db = tmp_path / "hub.db"
    config = {"security": {"operator_key": OPERATOR_KEY, "secret_key": SECRET_KEY}}
    running = await start_hub(config, database_url=f"sqlite+aiosqlite:///{db}",
                              clock=FakeClock(NOW))  # fmt: skip
    hub = running.hub
    globex = await hub.teams.create("globex")
    teams = [running.team, globex]
    keys = [[running.key, *[await hub.keys.create(t, name=f"k{n}") for n in (1, 2)]]
            if t is running.team else
            [await hub.keys.create(t, name=f"g{n}") for n in range(3)] for t in teams]  # fmt: skip
    members = [(await hub.members.add(t, "ann")).id for t in teams]
    await running.serve([dashboard, openai_api, admin_api])
    toml = tmp_path / "hub.toml"
    toml.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[providers.demo]\ntype = "demo"\n'
        '[models.demo]\ndeployments = [{ provider = "demo", model = "demo-1", '
        "input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 }]\n"
    )
    async with (
        running.client(follow_redirects=False) as client,
        running.client(headers={"Authorization": f"Bearer {OPERATOR_KEY}"}) as api,
    ):
        assert (await client.post("/login", data={"key": OPERATOR_KEY})).status_code == 303
        try:
            yield Served(client, api, hub, teams, keys, members, toml)
        finally:
            await running.close()


def label(served: Served, row: UsageRecord, dimension: str, zone: ZoneInfo) -> str | None:
    """A record's group label as the explorer names it (the definition the pages meet)."""
    local = row.created_at.astimezone(zone)
    placed = {"slack_workspace": ("slack", row.workspace), "slack_channel": ("slack", row.channel),
              "discord_guild": ("discord", row.workspace),
              "discord_channel": ("discord", row.channel)}  # fmt: skip
    if dimension in placed:
        connector, value = placed[dimension]
        return value if row.connector == connector else None
    if dimension == "team":
        return next(t.name for t in served.teams if t.id == row.team_id)
    if dimension == "key":
        key = next(k for ks in served.keys for k in ks if k.id == row.key_id)
        return f"{key.name or 'key'} ({key.prefix}…) #{key.id}"
    if dimension == "member":
        return None if row.member_id is None else "ann"
    return {
        "model": row.alias, "deployment": row.deployment, "connector": row.connector,
        "status": row.status, "day": local.date().isoformat(),
        "hour": local.replace(minute=0, second=0, microsecond=0).isoformat(),
    }[dimension]  # fmt: skip


def matches(served: Served, row: UsageRecord, query: dict[str, Any]) -> bool:
    if query["team"] is not None:
        wanted = next(t.id for t in served.teams if t.name == query["team"])
        if row.team_id != wanted:
            return False
    if query["filter"] is None:
        return True
    name, value = query["filter"]
    if name == "model":
        return row.alias == value
    if name in ("connector", "status"):
        return bool(getattr(row, name) == value)
    connector = "slack" if name.startswith("slack") else "discord"
    column = row.channel if name.endswith("channel") else row.workspace
    return row.connector == connector and column == value


def metric_text(sums: dict[str, int], metric: str, errors: int) -> str:
    if metric == "cost":
        return format_usd(sums["cost_micros"])
    value = {"requests": sums["requests"], "errors": errors,
             "tokens": sums["prompt_tokens"] + sums["completion_tokens"]}[metric]  # fmt: skip
    return f"{value:,}"


def micros(text: str) -> int:
    exact = Decimal(text) * 1_000_000
    assert exact == exact.to_integral_value(), text
    return int(exact)


async def replace_usage(served: Served, drawn: list[dict[str, Any]]) -> None:
    async with served.hub.sessions.begin() as session:
        await session.execute(delete(UsageRollup))
        await session.execute(delete(UsageRecord))
        for n, r in enumerate(drawn):
            team = served.teams[r["team"]]
            connector, workspace, channel = r["place"]
            entry = UsageEntry(
                request_id=f"r{n}",
                caller=Caller(team.id, team.name, key_id=served.keys[r["team"]][r["key"]].id,
                              member_id=served.members[r["team"]] if r["member"] else None),
                origin=Origin(connector, user="U1", channel=channel, workspace=workspace),
                alias=r["model"], deployment=f"p/{r['model']}",
                usage=Usage(prompt_tokens=r["prompt"], completion_tokens=r["completion"]),
                cost_micros=r["cost"], latency_ms=100, ttft_ms=None, status=r["status"],
            )  # fmt: skip
            await record_usage(session, entry, now=r["when"])


@SEEDED
@given(drawn=records, asked=queries)
async def test_every_chart_table_and_export_equals_the_ledger(
    served: Served, drawn: list[dict[str, Any]], asked: list[dict[str, Any]]
) -> None:
    await replace_usage(served, drawn)
    async with served.hub.sessions() as session:
        rows = list((await session.scalars(select(UsageRecord))).all())
    for query in asked:
        zone = ZoneInfo(query["zone"])
        first = query["anchor"].astimezone(zone).date() + timedelta(days=query["start"])
        last = first + timedelta(days=query["length"])
        since, until = local_days(first, last, zone)
        params = {"group_by": ",".join(query["group_by"]), "from": first.isoformat(),
                  "to": last.isoformat(), "tz": query["zone"],
                  "metric": query["metric"]}  # fmt: skip
        if query["team"]:
            params["team"] = query["team"]
        if query["filter"]:
            params[query["filter"][0]] = query["filter"][1]
        expected: dict[tuple[str | None, ...], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(SUMS, 0)
        )
        errors: dict[tuple[str | None, ...], int] = defaultdict(int)
        for row in rows:
            if since <= row.created_at < until and matches(served, row, query):
                key = tuple(label(served, row, d, zone) for d in query["group_by"])
                sums = expected[key]
                sums["requests"] += 1
                sums["prompt_tokens"] += row.prompt_tokens
                sums["completion_tokens"] += row.completion_tokens
                sums["cost_micros"] += row.cost_micros
                errors[key] += row.status in ("error", "partial", "interrupted")
        total = {name: sum(s[name] for s in expected.values()) for name in SUMS}
        await check_json(served, params, query, expected, total)
        await check_csv(served, params, query, expected, total)
        await check_page(served, params, query, expected, total, errors)
    await check_admin_api_and_cli(served, rows)


Expected = dict[Any, dict[str, int]]


async def check_json(
    served: Served, params: dict[str, str], query: dict[str, Any], expected: Expected,
    total: dict[str, int],
) -> None:  # fmt: skip
    found = (await served.client.get("/usage.json", params=params)).json()
    got = {tuple(r[d] for d in query["group_by"]): {n: r[n] for n in SUMS} for r in found["rows"]}
    assert got == expected, params
    assert {n: found["total"][n] for n in SUMS} == total
    for r in found["rows"]:
        assert micros(str(r["cost_usd"])) == r["cost_micros"]


async def check_csv(
    served: Served, params: dict[str, str], query: dict[str, Any], expected: Expected,
    total: dict[str, int],
) -> None:  # fmt: skip
    text = (await served.client.get("/usage.csv", params=params)).text
    header, *body, last = list(csv.reader(io.StringIO(text)))
    width = len(query["group_by"])
    assert header == [*query["group_by"], "requests", "prompt_tokens", "completion_tokens",
                      "cost_usd", "errors"]  # fmt: skip
    got = {}
    for cells in body:
        labels = tuple(c.removeprefix("'") or None for c in cells[:width])
        got[labels] = {"requests": int(cells[width]), "prompt_tokens": int(cells[width + 1]),
                       "completion_tokens": int(cells[width + 2]),
                       "cost_micros": micros(cells[width + 3])}  # fmt: skip
    assert got == expected, params
    assert [int(last[width]), micros(last[width + 3])] == [total["requests"], total["cost_micros"]]


async def check_page(
    served: Served, params: dict[str, str], query: dict[str, Any],
    expected: dict[Any, dict[str, int]], total: dict[str, int], errors: dict[Any, int],
) -> None:  # fmt: skip
    html = (await served.client.get("/usage", params=params)).text
    table = html.split('<table id="usage-table">')[1].split("</table>")[0]
    body = table.split("<tbody>")[1].split("</tbody>")[0]
    width = len(query["group_by"])
    shown: list[tuple[tuple[str | None, ...], str, str]] = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)]
        if len(cells) == 1:
            continue  # "No usage in this range."
        labels = tuple(None if c == "(none)" else machine_value(c) for c in cells[:width])
        shown.append((labels, cells[width], cells[-1]))
    assert {labels: (requests, cost) for labels, requests, cost in shown} == {
        key: (f"{s['requests']:,}", format_usd(s["cost_micros"])) for key, s in expected.items()
    }, params
    assert f'data-total="requests">{total["requests"]:,}<' in html
    assert f'data-total="cost">{format_usd(total["cost_micros"])}<' in html
    # The chart: one series value per row, in the table's order (bars: the top 25).
    svg = html.split('<svg class="chart"')[1].split("</svg>")[0]
    metric = query["metric"]
    wanted = [metric_text(expected[labels], metric, errors[labels]) for labels, _, _ in shown]
    if query["group_by"][0] in ("day", "hour"):
        titles = re.findall(r"<rect[^>]*><title>(.*?)</title>", svg)
        series = [unescape(t).rsplit(": ", 1)[1] for t in titles]
    else:
        values = re.findall(r'<text class="chart-value"[^>]*>(.*?)</text>', svg)
        series = [unescape(t) for t in values]
        wanted = wanted[:25]
    assert series == wanted, params


def machine_value(cell: str) -> str:
    """A day or hour cell shows the page's language (`<time datetime="…">Jan 3, 2027, 9:00 PM`):
    the label to compare is its machine-readable value; other cells are their text."""
    found = re.fullmatch(r'<time datetime="([^"]+)">[^<]*</time>', cell)
    return found.group(1) if found else cell


def group_sums(group: dict[str, Any]) -> dict[str, int]:
    """An admin API or `hub usage --json` group's sums, its dollars as micro-dollars."""
    found = {name: group[name] for name in SUMS if name != "cost_micros"}
    return found | {"cost_micros": micros(str(group["cost_usd"]))}


async def check_admin_api_and_cli(served: Served, rows: list[UsageRecord]) -> None:
    """The same UTC days through the admin API and `hub usage`, for each team, by model."""
    first, last = date(2026, 10, 29), date(2027, 1, 3)  # every anchor's ±3 days
    since = datetime.combine(first, datetime.min.time(), UTC)
    until = datetime.combine(last, datetime.min.time(), UTC)
    commands = []
    for team in served.teams:
        by_model: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUMS, 0))
        for row in rows:
            if row.team_id == team.id and since <= row.created_at < until:
                sums = by_model[row.alias]
                sums["requests"] += 1
                sums["prompt_tokens"] += row.prompt_tokens
                sums["completion_tokens"] += row.completion_tokens
                sums["cost_micros"] += row.cost_micros
        window = {"since": since.isoformat(), "until": until.isoformat(), "group_by": "model"}
        answer = (await served.api.get(f"{API}/teams/{team.id}/usage", params=window)).json()
        got = {g["key"]: group_sums(g) for g in answer["groups"]}
        assert got == by_model
        commands.append((team.name, by_model))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DATABASE_URL"))}
    env["HUB_SECRET_KEY"] = SECRET_KEY
    done = run_all(
        [("--config", str(served.config), "usage", "--team", name, "--since", first.isoformat(),
          "--until", last.isoformat(), "--by", "model", "--json") for name, _ in commands],
        cwd=served.config.parent, env=env,
    )  # fmt: skip
    for finished, (_, by_model) in zip(done, commands, strict=True):
        assert finished.returncode == 0, finished.stderr
        out = json.loads(finished.stdout)
        got = {g["key"]: group_sums(g) for g in out["groups"]}
        assert got == by_model
