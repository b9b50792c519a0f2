"""An invoice as text (the CLI) and CSV: lines exact to the micro-dollar, the total rounded to
cents with the rounding shown."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from hub.billing.invoices import InvoiceView

MICROS = Decimal(1_000_000)


def exact_usd(micros: int) -> str:
    """Every micro-dollar shown: -$0.000078, $12.345678."""
    sign = "-" if micros < 0 else ""
    return f"{sign}${Decimal(abs(micros)) / MICROS:,.6f}"


def cents_usd(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    return f"{sign}${Decimal(abs(micros)) / MICROS:,.2f}"


def unit_price(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return f"-${text[1:]}" if text.startswith("-") else f"${text}"


def title(view: InvoiceView) -> str:
    label = view.number or "DRAFT"
    if view.status == "void":
        label += " (VOID)"
    return f"Invoice {label} - team {view.team} - {view.period}"


def bill_to_lines(view: InvoiceView) -> list[str]:
    b = view.bill_to
    lines = [b.get("name") or view.team, *(b.get("address") or "").splitlines()]
    if b.get("email"):
        lines.append(b["email"])
    if b.get("tax_id"):
        lines.append(f"Tax id: {b['tax_id']}")
    return [line for line in lines if line]


def render_text(view: InvoiceView) -> str:
    out = [title(view), "", "Bill to:", *(f"  {line}" for line in bill_to_lines(view)), ""]
    for line in view.lines:
        out.append(
            f"  {line.description}\n"
            f"      {line.quantity:>14,} x {unit_price(line.unit_price_usd):>16}"
            f" = {exact_usd(line.amount_micros):>16}"
        )
    out += [
        "",
        f"  {'Subtotal':<40} {exact_usd(view.subtotal_micros):>20}",
        f"  {'Rounding to cents':<40} {exact_usd(view.rounding_micros):>20}",
        f"  {'Total due (' + view.currency.upper() + ')':<40} {cents_usd(view.total_micros):>20}",
    ]
    return "\n".join(out) + "\n"


def render_csv(view: InvoiceView) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "invoice",
            "team",
            "period",
            "description",
            "model",
            "token_type",
            "quantity",
            "unit_price_usd",
            "amount_usd",
        ]
    )
    number = view.number or "DRAFT"
    for line in view.lines:
        writer.writerow(
            [
                number,
                view.team,
                view.period,
                line.description,
                line.model or "",
                line.token_type or "",
                line.quantity,
                f"{line.unit_price_usd.normalize():f}",
                f"{Decimal(line.amount_micros) / MICROS:.6f}",
            ]
        )
    for label, micros in (
        ("Subtotal", view.subtotal_micros),
        ("Rounding to cents", view.rounding_micros),
        ("Total due", view.total_micros),
    ):
        writer.writerow(
            [
                number,
                view.team,
                view.period,
                label,
                "",
                "",
                "",
                "",
                f"{Decimal(micros) / MICROS:.6f}",
            ]
        )
    return buffer.getvalue()
