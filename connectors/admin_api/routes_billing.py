"""Billing: plans, a team's billing standing, invoices (JSON and PDF) and the reconciliation
of its exported usage against the ledger, read by the team's keys (viewers too); lifting a
suspension for non-payment is the operator's."""

from __future__ import annotations

import re

from aiohttp import web

from connectors.admin_api.auth import OPERATOR
from connectors.admin_api.endpoint import Call, Endpoint, QueryParam
from connectors.admin_api.render import ok
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import InvalidField
from hub.billing.invoices import InvoiceView
from hub.errors import NotFound

PERIOD = {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"}
_PERIOD = re.compile(PERIOD["pattern"])


def _period(call: Call) -> str | None:
    value = call.query().text("period", max_len=7)
    if value is None:
        return None
    if not _PERIOD.match(value):
        raise InvalidField("period", "'period' must be a month like 2026-11.")
    return value


def _summary(view: InvoiceView) -> dict[str, object]:
    data = view.as_json()
    return {k: data[k] for k in ("id", "number", "team", "period", "status", "total_usd")}


async def plans(call: Call) -> web.Response:
    return ok({"data": [p.as_json() for p in await call.hub.billing.plans.list()]})


async def invoices(call: Call) -> web.Response:
    period = _period(call)
    views = await call.hub.billing.invoices.list(team_id=call.own_team.id, period=period)
    return ok({"data": [_summary(v) for v in views]})


async def _own_invoice(call: Call) -> InvoiceView:
    invoice_id = call.path_id("invoice_id")
    try:
        view = await call.hub.billing.invoices.get(invoice_id)
    except NotFound:
        view = None
    if view is None or view.team_id != call.own_team.id:
        raise NotFound(f"Team '{call.own_team.name}' has no invoice with id {invoice_id}.")
    return view


async def invoice(call: Call) -> web.Response:
    return ok((await _own_invoice(call)).as_json())


async def invoice_pdf(call: Call) -> web.Response:
    from hub.billing.invoice_pdf import render_pdf  # fpdf2 loads on the first PDF, not at start

    view = await _own_invoice(call)
    body = render_pdf(view, issuer=call.hub.settings.billing.issuer)
    name = f"{view.number or 'draft-' + view.period}.pdf"
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


async def standing(call: Call) -> web.Response:
    return ok(await call.hub.billing.standing(call.own_team))


async def lift(call: Call) -> web.Response:
    await call.hub.billing.accounts.lift(call.own_team)  # audited as the operator's
    return ok(await call.hub.billing.standing(call.own_team))


async def reconciliation(call: Call) -> web.Response:
    period = _period(call) or f"{call.hub.clock.now():%Y-%m}"
    rows = await call.hub.billing.reconcile(period, team_id=call.own_team.id)
    return ok({"data": [r.as_json() for r in rows]})


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/plans", plans, "Plans: fee, included allowance, markup",
            action="read_usage", tag="billing", response=ref("AdminPlanList"),
            errors=(400, 401, 403),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/billing", standing,
            "The team's billing details, plan and standing (active, past_due, suspended...)",
            action="read_usage", tag="billing", response=ref("AdminBillingStanding"),
        ),
        Endpoint(
            "POST", "/teams/{team_id}/billing/lift", lift,
            "Lift the team's suspension for non-payment (until its next failed payment)",
            action=OPERATOR, tag="billing", response=ref("AdminBillingStanding"),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/invoices", invoices, "The team's invoices, oldest first",
            action="read_usage", tag="billing",
            response=ref("AdminInvoiceList"),
            query=(QueryParam("period", PERIOD, "Only this month (YYYY-MM)."),),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/invoices/{invoice_id}", invoice,
            "One invoice with its lines (money exact to the micro-dollar; total in cents)",
            action="read_usage", tag="billing",
            response=ref("AdminInvoice"),
        ),
        Endpoint(
            "GET", "/teams/{team_id}/invoices/{invoice_id}/pdf", invoice_pdf,
            "One invoice as a PDF", action="read_usage", tag="billing",
            response={"type": "string", "format": "binary"}, content_type="application/pdf",
        ),
        Endpoint(
            "GET", "/teams/{team_id}/reconciliation", reconciliation,
            "Usage exported to Stripe against the ledger, for one month",
            action="read_usage", tag="billing",
            response=ref("AdminReconciliationList"),
            query=(QueryParam("period", PERIOD, "The month (YYYY-MM); default: this month."),),
        ),
    ]  # fmt: skip
