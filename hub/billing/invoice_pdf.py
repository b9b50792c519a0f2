"""An invoice as a PDF, drawn locally with fpdf2 (pure Python: no browser, no system fonts or
libraries, deterministic output). The built-in Helvetica covers Latin-1; other characters
are shown as "?" rather than failing the whole invoice."""

from __future__ import annotations

from datetime import datetime

from fpdf import FPDF

from hub.billing.invoice_render import bill_to_lines, cents_usd, exact_usd, title, unit_price
from hub.billing.invoices import InvoiceView


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(view: InvoiceView, *, issuer: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(title(view)))
    pdf.set_creator("UniLLM Hub")
    # A fixed creation date keeps the bytes reproducible for the same invoice.
    pdf.set_creation_date(view.issued_at or view.created_at or datetime(1970, 1, 1))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1(issuer), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.cell(0, 7, _latin1(title(view)), new_x="LMARGIN", new_y="NEXT")
    when = view.issued_at or view.created_at
    pdf.cell(0, 6, f"Date: {when:%Y-%m-%d}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 6, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    for text in bill_to_lines(view):
        pdf.cell(0, 5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (92, 26, 36, 36)
    pdf.set_font("Helvetica", "B", 9)
    for width, head in zip(
        widths, ("Description", "Quantity", "Unit price", "Amount"), strict=True
    ):
        pdf.cell(width, 7, head, border="B", align="L" if head == "Description" else "R")
    pdf.ln()
    pdf.set_font("Helvetica", "", 8)
    for line in view.lines:
        top = pdf.get_y()
        pdf.multi_cell(widths[0], 5, _latin1(line.description), new_x="RIGHT", new_y="TOP")
        bottom = pdf.get_y() if pdf.get_y() > top else top + 5
        pdf.set_xy(pdf.l_margin + widths[0], top)
        pdf.cell(widths[1], 5, f"{line.quantity:,}", align="R")
        pdf.cell(widths[2], 5, unit_price(line.unit_price_usd), align="R")
        pdf.cell(widths[3], 5, exact_usd(line.amount_micros), align="R")
        pdf.set_y(max(bottom, top + 5) + 1)
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 10)
    label_width = sum(widths[:3])
    for label, value in (
        ("Subtotal", exact_usd(view.subtotal_micros)),
        ("Rounding to cents", exact_usd(view.rounding_micros)),
    ):
        pdf.cell(label_width, 6, label, align="R")
        pdf.cell(widths[3], 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(label_width, 8, f"Total due ({view.currency.upper()})", align="R")
    pdf.cell(widths[3], 8, cents_usd(view.total_micros), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
