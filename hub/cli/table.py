"""Tables on the terminal: a header row, then one row per item, columns as wide as their
widest cell. Every listing command prints through here, so none is without headers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click


def echo_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, right: Sequence[int] = ()
) -> None:
    """Print `rows` under `headers`; `right` names the columns (by index) aligned right, such
    as amounts. The last column is not padded, so long text does not trail spaces."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, text in enumerate(row):
            widths[i] = max(widths[i], len(text))
    for row in [list(headers), *cells]:
        parts = []
        for i, text in enumerate(row):
            last = i == len(row) - 1
            if i in right:
                parts.append(text.rjust(widths[i]))
            else:
                parts.append(text if last else text.ljust(widths[i]))
        click.echo("  ".join(parts).rstrip())


def _cell(value: object) -> str:
    if value is None or value == "":
        return "-"
    return " ".join(str(value).split())  # one cell, one line
