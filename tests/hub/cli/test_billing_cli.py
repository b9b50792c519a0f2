"""Billing's commands as a user runs them (a real `hub` process): the contract's flags and
JSON fields, checked from outside."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.hub.cli.test_cli import Cli


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    runner = Cli(tmp_path_factory.mktemp("billing-cli"))
    assert "up to date" in runner("migrate").stdout
    return runner


@pytest.mark.timeout(240)  # a dozen processes; slow when the machine is busy
def test_prices_plans_subscription_invoice_and_reconcile(cli: Cli, tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"demo-9": {"input_cost_per_token": 1e-06,
                                             "output_cost_per_token": 2e-06}}))  # fmt: skip
    imported = cli("prices", "import", str(prices), "--effective", "2026-01-01").stdout
    assert imported.startswith("Read 1 priced models from prices.json: 1 new price version(s)")
    created = cli("plan", "create", "Pro", "--monthly-fee-usd", "30", "--included-usd", "5",
                  "--markup-percent", "20", "--per-model-markup", "demo=10").stdout  # fmt: skip
    assert "Created plan 'Pro'" in created and "demo 10.0%" in created
    cli("team", "create", "acme")
    assert "is on plan 'Pro' from" in cli("team", "subscribe", "acme", "--plan", "Pro").stdout
    billing = json.loads(cli("team", "billing", "acme", "--name", "Acme Corp", "--address",
                             "1 Road\\nTown", "--tax-id", "EU1", "--stripe-customer", "cus_acme",
                             "--json").stdout)  # fmt: skip
    assert billing == {
        "team": "acme", "name": "Acme Corp", "address": "1 Road\nTown", "email": "",
        "tax_id": "EU1", "stripe_customer_id": "cus_acme", "status": "active",
        "payment_failed_at": None, "plan": "Pro",
    }  # fmt: skip
    cli("ask", "Hello", "--team", "acme")

    period = f"{datetime.now(UTC):%Y-%m}"
    generated = cli("invoice", "generate", "--period", period, "--team", "acme").stdout
    assert generated.startswith("acme: draft invoice DRAFT (id ") and period in generated
    invoice_id = generated.split("(id ")[1].split(")")[0]
    shown = json.loads(cli("invoice", "show", invoice_id, "--json").stdout)
    assert {"number", "team", "period", "lines", "total_usd"} <= set(shown)
    assert (shown["number"], shown["team"], shown["period"]) == (None, "acme", period)
    for line in shown["lines"]:
        assert {"description", "quantity", "unit_price_usd", "amount_usd"} <= set(line)
    assert shown["lines"][0]["description"].startswith("Pro plan: monthly fee")
    assert shown["total_usd"] > 0

    pdf_path = tmp_path / "invoice.pdf"
    cli("invoice", "pdf", invoice_id, "-o", str(pdf_path))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    assert f"${shown['total_usd']:,.2f}" in text and "Acme Corp" in text
    csv_path = tmp_path / "invoice.csv"
    cli("invoice", "csv", invoice_id, "-o", str(csv_path))
    assert csv_path.read_text().splitlines()[-1].endswith(f",{shown['total_usd']:.6f}")

    (row,) = json.loads(cli("billing", "reconcile", "--period", period, "--json").stdout)
    assert set(row) >= {"team", "ledger_usd", "exported_usd", "difference_usd"}
    assert row["team"] == "acme" and row["exported_usd"] == 0
    assert row["difference_usd"] == row["ledger_usd"] > 0  # nothing exported: no Stripe key
