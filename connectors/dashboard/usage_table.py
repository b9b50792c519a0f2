"""The explorer's table body, written as HTML in Python rather than by a Jinja loop.

A table by Slack channel and hour over nine days has some 1,800 rows of ten cells; the
template's loop (a filter call, a subscript and an escape per cell, a context per row)
took about a third of that page's time. Here each row is one f-string: the labels (names a
platform gave: anything) escaped, the figures formatted by the page's `Numbers` (digits and
the language's symbols) escaped as well (counts only when the language's group symbol needs
it), so the text is what the template wrote. Every row
is still in the table and the totals still cover all of them (they are the summary's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime

from markupsafe import Markup, escape

from connectors.dashboard.explorer import Row
from connectors.dashboard.i18n import Numbers
from connectors.dashboard.number_formats import fast_formats


def table_rows(
    group_by: Sequence[str],
    rows: Sequence[Row],
    num: Numbers,
    *,
    none: str,
    shown: dict[tuple[str, str], str],
) -> Markup:
    """The `<tr>`s of the usage table, one per row in order. `none`: the text of a group
    without a value; `shown`: the texts of the days and hours formatted so far, filled in
    (each is formatted once a page: a table by channel and hour names each hour per
    channel)."""
    integer, usd = _integers(num), num.usd
    # A count is digits and the language's group symbol: escaped only if that symbol needs it.
    plain = str(escape(integer(1_234_567))) == integer(1_234_567)
    count = integer if plain else (lambda n: str(escape(integer(n))))
    none_cell = f"<td>{escape(none)}</td>"
    dimensions = tuple(group_by)
    out: list[str] = []
    for row in rows:
        cells = []
        for dimension, label in zip(dimensions, row.labels, strict=True):
            if label is None:
                cells.append(none_cell)
            elif dimension in ("day", "hour"):
                text = shown.get((dimension, label))
                if text is None:
                    text = shown[dimension, label] = time_text(dimension, label, num)
                cells.append(f'<td><time datetime="{escape(label)}">{escape(text)}</time></td>')
            else:
                cells.append(f"<td>{escape(label)}</td>")
        t = row.totals
        mean = f"{integer(round(t.latency_ms / t.requests))} ms" if t.requests else "–"
        out.append(
            f'<tr>{"".join(cells)}<td class="num">{count(t.requests)}</td>'
            f'<td class="num">{count(t.prompt_tokens)}</td>'
            f'<td class="num">{count(t.completion_tokens)}</td>'
            f'<td class="num">{count(t.errors)}</td>'
            f'<td class="num">{escape(mean)}</td>'
            f'<td class="num">{escape(usd(t.cost_micros))}</td></tr>'
        )
    return Markup("\n".join(out))


def _integers(num: Numbers) -> Callable[[int], str]:
    """`num.integer`, with the language's fast formats looked up once for the table."""
    fast = fast_formats(num.cldr)
    if fast is None:
        return num.integer
    quick = fast.integer
    return lambda n: quick(n) if n >= 0 else num.integer(n)


def time_text(dimension: str, label: str, num: Numbers) -> str:
    """A day (`2026-11-20`) or an hour (ISO with its offset) as the page's language writes it,
    in the query's timezone (the label's own)."""
    if dimension == "day":
        return num.day(date.fromisoformat(label))
    return num.minute(datetime.fromisoformat(label))
