"""Charts drawn on the server as SVG: no script, no library, readable by screen readers
(a title and a description; the page's table holds the same numbers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from gettext import NullTranslations
from html import escape

ENGLISH = NullTranslations()

WIDTH = 640
BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 190


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # as the page's language writes it (a day: `Nov 20, 2026`, `20.11.2026`)
    value: float
    text: str  # the value as shown (e.g. "$1.23")
    axis: str = ""  # a shorter label under a column (`Nov 20`, `20. Nov.`); "": the label
    iso: str = ""  # a day's or hour's ISO 8601 (a <time> element's datetime), if it is one


def bars(
    points: Sequence[Point], *, title: str, chart_id: str, words: NullTranslations = ENGLISH
) -> str:
    """A horizontal bar chart, one bar per point, largest first as given."""
    top = max((p.value for p in points), default=0) or 1
    height = max(1, len(points)) * (BAR_HEIGHT + GAP) + GAP
    span = WIDTH - LABEL_WIDTH - 90
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(points, words))}</desc>',
    ]
    for n, point in enumerate(points):
        y = GAP + n * (BAR_HEIGHT + GAP)
        length = max(1.0, span * point.value / top) if point.value else 0
        label = point.label if len(point.label) <= 28 else point.label[:27] + "…"
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 16}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" '
            f'height="{BAR_HEIGHT}" rx="3"></rect>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}">'
            f"{escape(point.text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def columns(
    points: Sequence[Point], *, title: str, chart_id: str, words: NullTranslations = ENGLISH
) -> str:
    """A column chart over time, in the order given (days or hours)."""
    height, bottom, left = 220, 28, 8
    top = max((p.value for p in points), default=0) or 1
    count = max(1, len(points))
    step = (WIDTH - left * 2) / count
    width = max(1.0, step * 0.8)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(points, words))}</desc>',
        f'<line class="chart-axis" x1="{left}" y1="{height - bottom}" x2="{WIDTH - left}" '
        f'y2="{height - bottom}"></line>',
    ]
    every = max(1, count // 8)
    for n, point in enumerate(points):
        x = left + n * step + (step - width) / 2
        bar = (height - bottom - 10) * point.value / top
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{height - bottom - bar:.1f}" '
            f'width="{width:.1f}" height="{bar:.1f}"><title>{escape(point.label)}: '
            f"{escape(point.text)}</title></rect>"
        )
        if n % every == 0:
            parts.append(
                f'<text class="chart-label" x="{x + width / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(point.axis or point.label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _describe(points: Sequence[Point], words: NullTranslations) -> str:
    if not points:
        return words.gettext("No data for this selection.")
    shown = "; ".join(f"{p.label}: {p.text}" for p in points[:10])
    if len(points) <= 10:
        return shown
    more = len(points) - 10
    return words.ngettext(
        "%(shown)s; and %(count)s more (see the table)",
        "%(shown)s; and %(count)s more (see the table)",
        more,
    ) % {"shown": shown, "count": more}
