"""Billing through the admin API: plans, a team's invoices as JSON and PDF, and the
reconciliation, read with a viewer key."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from connectors.admin_api import plugin as admin_api
from hub.clock import FakeClock
from tests.connectors.admin_api.support import API, admin_config, admin_hub
from tests.hub.billing.support import record, three_models


async def test_plans_invoices_pdf_and_reconciliation(sqlite_url: str) -> None:
    config = admin_config(**three_models())
    async with admin_hub(sqlite_url, plugins=(admin_api,), config=config) as h:
        hub, team = h.running.hub, h.a.team
        clock = h.running.clock
        assert isinstance(clock, FakeClock)
        await hub.billing.plans.create("Pro", monthly_fee_micros=30_000_000)
        await hub.billing.subscribe(team, "Pro", start=clock.now().date())
        await hub.billing.accounts.update(team, stripe_customer_id="cus_a")
        await record(h.running, at=clock.now(), alias="gpt", prompt_tokens=1_000,
                     completion_tokens=100)  # fmt: skip
        clock.advance((datetime(2026, 12, 1, 1, tzinfo=UTC) - clock.now()).total_seconds())
        ((_, issued),) = await hub.billing.invoices.generate("2026-11", teams=[team])
        assert issued is not None
        async with h.client(h.a.viewer.key) as c:
            plans = (await c.get(f"{API}/plans")).json()
            listed = (await c.get(f"{API}/teams/{team.id}/invoices")).json()
            one = await c.get(f"{API}/teams/{team.id}/invoices/{issued.id}")
            pdf = await c.get(f"{API}/teams/{team.id}/invoices/{issued.id}/pdf")
            rec = (await c.get(f"{API}/teams/{team.id}/reconciliation",
                               params={"period": "2026-11"})).json()  # fmt: skip
            bad = await c.get(f"{API}/teams/{team.id}/reconciliation", params={"period": "11"})
        assert [p["name"] for p in plans["data"]] == ["Pro"]
        assert listed == {"data": [{"id": issued.id, "number": "INV-000001", "team": "acme",
                                    "period": "2026-11", "status": "issued",
                                    "total_usd": issued.total_micros / 1e6}]}  # fmt: skip
        assert one.json() == issued.as_json()
        assert pdf.headers["Content-Type"] == "application/pdf"
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "INV-000001" in text and f"${issued.total_micros / 1e6:,.2f}" in text
        (row,) = rec["data"]
        assert row["team"] == "acme" and row["difference_usd"] == row["ledger_usd"] > 0
        assert bad.status_code == 400


async def test_billing_standing_is_read_by_the_team_and_lifted_by_the_operator(
    sqlite_url: str,
) -> None:
    config = admin_config(billing={"suspend_after_days": 3})
    async with admin_hub(sqlite_url, plugins=(admin_api,), config=config) as h:
        hub, team = h.running.hub, h.a.team
        await hub.billing.plans.create("Pro", monthly_fee_micros=30_000_000)
        await hub.billing.subscribe(team, "Pro", start=h.running.clock.now().date())
        await hub.billing.accounts.update(team, name="Acme Corp", stripe_customer_id="cus_a")
        await hub.billing.accounts.apply_payment_event(
            event_id="evt_1", kind="payment_failed", customer_id="cus_a",
            occurred_at=datetime(2026, 11, 10, tzinfo=UTC),  # the clock is at Nov 15 12:00
        )  # fmt: skip
        standing = f"{API}/teams/{team.id}/billing"
        async with h.client(h.a.viewer.key) as viewer:
            seen = await viewer.get(standing)
            refused = await viewer.post(f"{standing}/lift")
        async with h.client(h.a.admin.key) as admin:
            not_admins = await admin.post(f"{standing}/lift")
        async with h.client(h.b.admin.key) as other:
            elsewhere = await other.get(standing)
        async with h.operator() as operator:
            lifted = await operator.post(f"{standing}/lift")
        expected = {
            "team": "acme", "name": "Acme Corp", "address": "", "email": "", "tax_id": "",
            "stripe_customer_id": "cus_a", "status": "suspended",
            "payment_failed_at": "2026-11-10T00:00:00+00:00", "plan": "Pro",
        }  # fmt: skip
        assert (seen.status_code, seen.json()) == (200, expected)
        assert refused.status_code == not_admins.status_code == 403
        assert elsewhere.status_code == 404  # another team's key: no such team for it
        assert (lifted.status_code, lifted.json()) == (200, expected | {"status": "past_due"})
        # Lifted: the team may ask again, and the audit log says who lifted it.
        await hub.billing.accounts.check(team.id, team.name)  # raises while suspended
        [entry] = [e for e in await hub.audit.entries(team_id=team.id)
                   if e.action == "team.billing.lift"]  # fmt: skip
        assert entry.actor == "operator:config"
