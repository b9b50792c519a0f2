"""The team's audit log page: newest first, 50 a page keyed by entry id (entries written
meanwhile do not shift the next page), filtered by action or family, actor, target and UTC
dates; only the team's own entries; admins only."""

from __future__ import annotations

import json
import re

import pytest
import pytest_asyncio
from sqlalchemy import insert

from hub.audit import Actor, acting_as, record
from hub.clock import FakeClock
from hub.store.governance_tables import AuditEntry
from tests.connectors.dashboard.admin_support import AdminHub
from tests.connectors.dashboard.support import OPERATOR_KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")
ROW = re.compile(
    r'<tr data-audit-id="(\d+)"><td><time datetime="[^"]+">[^<]*</time></td>'
    r"<td>([^<]*)</td><td>([^<]*)</td>"
)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def h(h: AdminHub) -> AdminHub:
    """conftest.py's hub, seeded."""
    await seed(h)
    return h


async def seed(h: AdminHub) -> None:
    """60 entries for acme over three days (NOW, NOW+1d, NOW+2d), and one for globex."""
    hub, team = h.hub, h.dash.running.team
    clock = h.dash.running.clock
    assert isinstance(clock, FakeClock)
    for n in range(60):
        if n in (20, 40):
            clock.advance(86400)
        actor = Actor("key", str(h.owner.id)) if n % 2 else Actor("cli", "ops")
        with acting_as(actor):
            await hub.audit.note(action=f"probe.{'odd' if n % 2 else 'even'}",
                                 target=f"probe:{n}", team_id=team.id)  # fmt: skip
    with acting_as(Actor("cli", "ops")):
        await hub.audit.note(action="probe.odd", target="probe:globex",
                             team_id=h.dash.other_team.id)  # fmt: skip


def rows(html: str) -> list[tuple[int, str, str]]:
    return [(int(i), actor, action) for i, actor, action in ROW.findall(html)]


async def test_pages_of_fifty_newest_first_keyed_by_id(h: AdminHub) -> None:
    mine = [e for e in await h.hub.audit.entries(team_id=h.dash.running.team.id)]
    newest_first = sorted((e.id for e in mine), reverse=True)
    async with h.dash.signed_in(h.dash.admin.key) as client:
        first = await client.get("/team/audit")
        assert first.status_code == 200
        shown = [i for i, _, _ in rows(first.text)]
        assert shown == newest_first[:50]
        older = re.search(r'<a href="([^"]+)" rel="next">', first.text)
        assert older is not None
        link = older.group(1).replace("&amp;", "&")
        assert link == f"/team/audit?before={shown[-1]}"
        with acting_as(Actor("cli", "ops")):  # written meanwhile: the next page does not shift
            await h.hub.audit.note(action="probe.late", target="probe:late",
                                   team_id=h.dash.running.team.id)  # fmt: skip
        second = await client.get(link)
        assert [i for i, _, _ in rows(second.text)] == newest_first[50:]
        assert 'rel="next"' not in second.text and ">Newest</a>" in second.text
        assert "probe:globex" not in first.text + second.text


async def test_filters_by_action_family_actor_target_and_dates(h: AdminHub) -> None:
    owner = f"key:{h.owner.id}"
    async with h.dash.signed_in(h.dash.admin.key) as client:
        odd = rows((await client.get("/team/audit", params={"action": "probe.odd"})).text)
        assert len(odd) == 30 and {a for _, _, a in odd} == {"probe.odd"}
        assert {actor for _, actor, _ in odd} == {f"{owner} (owner)"}  # named after the key
        family = await client.get("/team/audit", params={"action": "probe", "before": ""})
        assert {a for _, _, a in rows(family.text)} >= {"probe.odd", "probe.even"}
        assert '<option value="probe" selected>probe (all)</option>' in family.text
        by_actor = rows((await client.get("/team/audit", params={"actor": "cli:ops"})).text)
        assert by_actor and {a for _, a, _ in by_actor} == {"cli:ops"}
        target = await client.get("/team/audit", params={"target": "probe:7"})
        assert len(rows(target.text)) == 1
        day = await client.get("/team/audit", params={"from": "2026-11-21", "to": "2026-11-21",
                                                        "action": "probe"})  # fmt: skip
        assert len(rows(day.text)) == 20
        bad = await client.get("/team/audit", params={"from": "yesterday"})
        assert bad.status_code == 400 and "Enter a date" in bad.text and rows(bad.text) == []
        assert 'value="yesterday"' in bad.text  # what was typed stays


async def test_only_admins_of_the_team_read_it(h: AdminHub) -> None:
    async with h.dash.signed_in(h.dash.viewer.key) as viewer:
        assert (await viewer.get("/team/audit")).status_code == 403
    async with h.dash.signed_in(h.dash.admin.key) as admin:
        assert (await admin.get("/team/audit", params={"team": "globex"})).status_code == 404
    async with h.dash.signed_in(OPERATOR_KEY) as operator:
        theirs = await operator.get("/team/audit", params={"team": "globex"})
        assert theirs.status_code == 200 and "probe:globex" in theirs.text
        assert "probe:7<" not in theirs.text


async def test_an_entry_shows_the_fields_that_changed_with_secrets_masked(h: AdminHub) -> None:
    """Only the fields whose value differs, nested ones dotted, old values under Before and
    new ones under After; a secret field never shows its value, even one recorded unredacted
    (both sides of a changed secret were redacted when written: it does not show as changed)."""
    hub, team = h.hub, h.dash.running.team
    with acting_as(Actor("cli", "ops")):
        async with hub.sessions.begin() as session:
            await record(
                session, now=hub.clock.now(), action="probe.change", target="probe:diff",
                team_id=team.id,
                before={"name": "ci", "role": "viewer", "limits": {"rpm": 60, "tpm": None},
                        "secret_hash": "h-old", "networks": ["10.0.0.0/8"]},
                after={"name": "ci", "role": "admin", "limits": {"rpm": 120, "tpm": None},
                       "secret_hash": "h-new", "networks": ["10.0.0.0/8"], "expires": "2027-01-01"},
            )  # fmt: skip
        async with hub.sessions.begin() as session:  # an old entry written before redaction
            await session.execute(insert(AuditEntry).values(
                at=hub.clock.now(), actor="cli:ops", team_id=team.id, action="probe.change",
                target="probe:raw", after=json.dumps({"api_key": "sk-raw-123"})))  # fmt: skip
    async with h.dash.signed_in(h.dash.admin.key) as client:
        page = (await client.get("/team/audit", params={"target": "probe:diff"})).text
        raw = (await client.get("/team/audit", params={"target": "probe:raw"})).text
    row = page.split('<tr data-audit-id="')[1].split("</tr>")[0]
    before, after = [cell.split("</td>")[0] for cell in row.split('<td class="change">')[1:]]
    assert before == (
        '<ul class="fields"><li><code>limits.rpm</code>: 60</li>'
        "<li><code>role</code>: viewer</li></ul>"
    )
    assert after == (
        '<ul class="fields"><li><code>expires</code>: 2027-01-01</li>'
        "<li><code>limits.rpm</code>: 120</li><li><code>role</code>: admin</li></ul>"
    )
    assert "h-old" not in page and "h-new" not in page
    assert "networks" not in row and "secret_hash" not in row and "<code>name</code>" not in row
    assert "sk-raw-123" not in raw and "<code>api_key</code>: [redacted]" in raw
