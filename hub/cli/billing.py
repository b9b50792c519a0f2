"""`hub prices`, `hub plan`, `hub invoice`, `hub billing` and the billing subcommands of
`hub team` (`subscribe`, `billing`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

from hub.billing.invoice_render import render_csv, render_text
from hub.billing.invoices import InvoiceView, check_period, previous_period
from hub.billing.litellm_prices import PriceListError
from hub.billing.plans import percent
from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.errors import BadRequest
from hub.ledger.money import format_usd, micros_to_usd
from hub.service import Hub


def _usd(value: str | None, flag: str) -> int | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise click.BadParameter(f"'{value}' is not an amount in USD", param_hint=flag) from exc
    if not amount.is_finite() or amount < 0:
        raise click.BadParameter("must be 0 or more", param_hint=flag)
    return int(amount * 1_000_000)


def _day(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"'{value}' is not a date like 2026-11-15", param_hint=flag
        ) from exc


@click.group()
def prices() -> None:
    """The price catalog (LiteLLM's model_prices_and_context_window.json format)."""


@prices.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--effective", help="In force from this UTC date (default: now).")
@pass_hub
async def prices_import(hub: Hub, file: Path, effective: str | None) -> None:
    """Add a price version for every model of FILE whose prices changed."""
    since = None
    if effective is not None:
        since = datetime.combine(_day(effective, "--effective"), datetime.min.time(), tzinfo=UTC)
    try:
        report = await hub.billing.catalog.import_file(file, effective_from=since)
    except PriceListError as exc:
        raise BadRequest(str(exc)) from exc
    when = (since or hub.clock.now()).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(
        f"Read {report.read} priced models from {file.name}: {report.added} new price "
        f"version(s) in force from {when}, {report.unchanged} unchanged."
    )


@prices.command("list")
@click.option("--model", help="Only this model's versions.")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def prices_list(hub: Hub, model: str | None, as_json: bool) -> None:
    """Price versions in the catalog (USD per million tokens)."""
    await hub.prices.ready()
    versions = await hub.billing.catalog.versions(model)
    rows: list[dict[str, object]] = [
        {
            "model": v.model,
            "effective_from": v.effective_from.isoformat(),
            "input_usd_per_mtok": micros_to_usd(v.prices.input),
            "output_usd_per_mtok": micros_to_usd(v.prices.output),
            "cached_input_usd_per_mtok": micros_to_usd(v.prices.of("cached_input")),
            "cache_write_usd_per_mtok": micros_to_usd(v.prices.of("cache_write")),
            "source": v.source,
        }
        for v in versions
    ]
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("No prices yet: `hub prices import FILE`.")
        return
    echo_table(
        ("model", "from", "input $/Mtok", "output", "cached input", "cache write", "source"),
        [
            (
                r["model"],
                str(r["effective_from"])[:10],
                r["input_usd_per_mtok"],
                r["output_usd_per_mtok"],
                r["cached_input_usd_per_mtok"],
                r["cache_write_usd_per_mtok"],
                r["source"],
            )
            for r in rows
        ],
        right=(2, 3, 4, 5),
    )


@click.group()
def plan() -> None:
    """Plans: monthly fee, included allowance, markup."""


@plan.command("create")
@click.argument("name")
@click.option("--monthly-fee-usd", help="Fee per month (prorated by days).")
@click.option("--included-usd", help="Usage included per month, in customer dollars.")
@click.option("--markup-percent", default="0", show_default=True, help="Markup on provider cost.")
@click.option(
    "--per-model-markup",
    multiple=True,
    metavar="MODEL=P",
    help="Markup for one model alias, replacing the plan's (repeatable).",
)
@click.option("--monthly-budget-usd", help="Default monthly budget for teams on this plan.")
@pass_hub
async def plan_create(
    hub: Hub,
    name: str,
    monthly_fee_usd: str | None,
    included_usd: str | None,
    markup_percent: str,
    per_model_markup: tuple[str, ...],
    monthly_budget_usd: str | None,
) -> None:
    """Create plan NAME."""
    markups = {}
    for item in per_model_markup:
        model, sep, value = item.partition("=")
        if not sep or not model.strip():
            raise click.BadParameter(f"'{item}' is not MODEL=P", param_hint="--per-model-markup")
        markups[model.strip()] = percent(value, f"--per-model-markup {model}")
    terms = await hub.billing.plans.create(
        name,
        monthly_fee_micros=_usd(monthly_fee_usd, "--monthly-fee-usd") or 0,
        included_micros=_usd(included_usd, "--included-usd") or 0,
        markup_percent=percent(markup_percent, "--markup-percent"),
        model_markups=markups,
        monthly_budget_micros=_usd(monthly_budget_usd, "--monthly-budget-usd"),
    )
    click.echo(f"Created plan '{terms.name}': {_describe(terms.as_json())}.")


def _describe(p: dict[str, object]) -> str:
    parts = [
        f"fee ${p['monthly_fee_usd']}/month",
        f"included ${p['included_usd']}",
        f"markup {p['markup_percent']}%",
    ]
    per_model = p["per_model_markup_percent"]
    assert isinstance(per_model, dict)
    parts += [f"{m} {v}%" for m, v in per_model.items()]
    if p["monthly_budget_usd"] is not None:
        parts.append(f"default budget ${p['monthly_budget_usd']}/month")
    return ", ".join(parts)


@plan.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def plan_list(hub: Hub, as_json: bool) -> None:
    """List plans."""
    plans = [p.as_json() for p in await hub.billing.plans.list()]
    if as_json:
        click.echo(json.dumps(plans))
    elif not plans:
        click.echo("No plans yet: `hub plan create NAME --monthly-fee-usd 20`.")
    else:
        echo_table(("plan", "terms"), [(p["name"], _describe(p)) for p in plans])


@click.command("subscribe")
@click.argument("team_name", metavar="TEAM")
@click.option("--plan", "plan_name", required=True, help="The plan's name.")
@click.option("--start", help="First day on the plan, UTC (default: today).")
@pass_hub
async def team_subscribe(hub: Hub, team_name: str, plan_name: str, start: str | None) -> None:
    """Put TEAM on a plan from a day of this month on (a change mid-month is prorated)."""
    today = hub.clock.now().date()
    first = _day(start, "--start") if start else today
    if first < today.replace(day=1):
        raise click.BadParameter(
            "a subscription starts in the current month or later", param_hint="--start"
        )
    team = await hub.teams.get(team_name)
    terms, customer = await hub.billing.subscribe(team, plan_name, start=first)
    tail = f"; Stripe customer {customer}" if customer else ""
    click.echo(f"Team '{team.name}' is on plan '{terms.name}' from {first.isoformat()}{tail}.")


@click.command("billing")
@click.argument("team_name", metavar="TEAM")
@click.option("--name", help="Name on invoices.")
@click.option("--address", help="Postal address (use \\n for new lines).")
@click.option("--email", help="Billing e-mail.")
@click.option("--tax-id", help="VAT or tax number.")
@click.option("--stripe-customer", help="Map the team to an existing Stripe customer (cus_...).")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def team_billing(
    hub: Hub,
    team_name: str,
    name: str | None,
    address: str | None,
    email: str | None,
    tax_id: str | None,
    stripe_customer: str | None,
    as_json: bool,
) -> None:
    """Show or set TEAM's billing details, Stripe customer and payment status."""
    team = await hub.teams.get(team_name)
    changes: dict[str, str | None] = {
        k: v
        for k, v in (
            ("name", name),
            ("address", address.replace("\\n", "\n") if address is not None else None),
            ("email", email),
            ("tax_id", tax_id),
            ("stripe_customer_id", stripe_customer),
        )
        if v is not None
    }
    if stripe_customer is not None and not stripe_customer.startswith("cus_"):
        raise click.BadParameter(
            "a Stripe customer id starts with cus_", param_hint="--stripe-customer"
        )
    if changes:
        await hub.billing.accounts.update(team, **changes)
    out = await hub.billing.standing(team)  # after the update: the standing it leaves
    if as_json:
        click.echo(json.dumps(out))
        return
    for key, value in out.items():
        click.echo(f"{key:<20} {value if value not in (None, '') else '-'}")


@click.group()
def invoice() -> None:
    """Monthly invoices from the ledger."""


def _period_default(hub: Hub, period: str | None) -> str:
    return check_period(period) if period else previous_period(hub.clock.now())


@invoice.command("generate")
@click.option("--period", help="YYYY-MM (default: last month; this month gives a draft).")
@click.option("--team", "team_name", help="Only this team.")
@pass_hub
async def invoice_generate(hub: Hub, period: str | None, team_name: str | None) -> None:
    """Issue the month's invoices (or replace this month's drafts)."""
    chosen = _period_default(hub, period)
    teams = [await hub.teams.get(team_name)] if team_name else await hub.teams.list()
    for team, (state, view) in zip(
        teams, await hub.billing.invoices.generate(chosen, teams=teams), strict=True
    ):
        if view is None:
            click.echo(f"{team.name}: nothing to bill for {chosen}.")
        else:
            click.echo(
                f"{team.name}: {state} invoice {view.number or 'DRAFT'} (id {view.id}) "
                f"for {chosen}, total {format_usd(view.total_micros)}."
            )


@invoice.command("list")
@click.option("--team", "team_name")
@click.option("--period")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def invoice_list(hub: Hub, team_name: str | None, period: str | None, as_json: bool) -> None:
    """List invoices."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    views = await hub.billing.invoices.list(team_id=team_id, period=period)
    if as_json:
        click.echo(json.dumps([_summary(v) for v in views]))
        return
    if not views:
        click.echo("No invoices yet: `hub invoice generate`.")
        return
    echo_table(
        ("id", "number", "team", "period", "status", "total"),
        [
            (v.id, v.number or "DRAFT", v.team, v.period, v.status, format_usd(v.total_micros))
            for v in views
        ],
        right=(5,),
    )


def _summary(v: InvoiceView) -> dict[str, object]:
    return {
        "id": v.id,
        "number": v.number,
        "team": v.team,
        "period": v.period,
        "status": v.status,
        "total_usd": micros_to_usd(v.total_micros),
    }


@invoice.command("show")
@click.argument("invoice_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def invoice_show(hub: Hub, invoice_id: str, as_json: bool) -> None:
    """Show invoice ID (its id or its number)."""
    view = await hub.billing.invoices.get(invoice_id)
    click.echo(json.dumps(view.as_json()) if as_json else render_text(view), nl=as_json)


@invoice.command("pdf")
@click.argument("invoice_id", metavar="ID")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_hub
async def invoice_pdf(hub: Hub, invoice_id: str, output: Path) -> None:
    """Write invoice ID as a PDF."""
    from hub.billing.invoice_pdf import render_pdf  # fpdf2 is imported only when drawing

    view = await hub.billing.invoices.get(invoice_id)
    output.write_bytes(render_pdf(view, issuer=hub.settings.billing.issuer))
    click.echo(f"Wrote {output}.")


@invoice.command("csv")
@click.argument("invoice_id", metavar="ID")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_hub
async def invoice_csv(hub: Hub, invoice_id: str, output: Path) -> None:
    """Write invoice ID as CSV."""
    view = await hub.billing.invoices.get(invoice_id)
    output.write_text(render_csv(view))
    click.echo(f"Wrote {output}.")


@invoice.command("void")
@click.argument("invoice_id", metavar="ID")
@pass_hub
async def invoice_void(hub: Hub, invoice_id: str) -> None:
    """Void an issued invoice (its number stays used; generate the month again to reissue)."""
    view = await hub.billing.invoices.void(invoice_id)
    click.echo(f"Voided invoice {view.number} ({view.team}, {view.period}).")


@click.group()
def billing() -> None:
    """Export to Stripe, reconciliation, suspensions."""


@billing.command("reconcile")
@click.option("--period", required=True, help="YYYY-MM.")
@click.option("--team", "team_name")
@click.option("--json", "as_json", is_flag=True)
@pass_hub
async def billing_reconcile(hub: Hub, period: str, team_name: str | None, as_json: bool) -> None:
    """Ledger usage against exported usage, per team (0 difference when caught up)."""
    team_id = (await hub.teams.get(team_name)).id if team_name else None
    rows = await hub.billing.reconcile(check_period(period), team_id=team_id)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows]))
        return
    if not rows:
        click.echo("No team is mapped to a Stripe customer.")
        return
    echo_table(
        ("team", "ledger", "exported", "difference", "pending", "failed"),
        [
            (
                r.team,
                format_usd(r.ledger_micros),
                format_usd(r.exported_micros),
                format_usd(r.difference_micros),
                r.pending_events,
                r.failed_events,
            )
            for r in rows
        ],
        right=(1, 2, 3, 4, 5),
    )


@billing.command("export")
@pass_hub
async def billing_export(hub: Hub) -> None:
    """Send due usage to Stripe now (the worker does this every few seconds)."""
    platform = hub.billing.platform()
    if platform is None:
        raise BadRequest("Stripe is not configured: set [billing.stripe] api_key.")
    report = await hub.billing.exporter.run_once(platform)
    click.echo(
        f"Enqueued {report.enqueued}, sent {report.attempted}: {report.delivered} delivered, "
        f"{report.retried} to retry, {report.failed} failed."
    )


@billing.command("lift")
@click.argument("team_name", metavar="TEAM")
@pass_hub
async def billing_lift(hub: Hub, team_name: str) -> None:
    """Lift TEAM's suspension for non-payment (until its next failed payment)."""
    team = await hub.teams.get(team_name)
    await hub.billing.accounts.lift(team)
    click.echo(f"Team '{team.name}' may ask again; a new failed payment starts a new grace period.")
