"""The explorer's table body written in Python: what a platform named is escaped, a group
without a value says so, days and hours are `<time>` elements in the page's language, and
every figure is the page's own format of the row's totals."""

from __future__ import annotations

from connectors.dashboard.explorer import Row
from connectors.dashboard.i18n import Numbers
from connectors.dashboard.usage_table import table_rows
from hub.ledger.usage_totals import UsageTotals


def test_labels_are_escaped_and_figures_formatted_in_the_language() -> None:
    totals = UsageTotals(requests=1_234, prompt_tokens=5_678_901, completion_tokens=0,
                         cost_micros=1_250_000, errors=3, latency_ms=1_234 * 850)  # fmt: skip
    rows = [
        Row(('<img src=x onerror="a&b">', "2026-11-20T13:00:00+01:00"), totals),
        Row((None, "2026-11-20T13:00:00+01:00"), UsageTotals(requests=1, cost_micros=10)),
    ]
    shown: dict[tuple[str, str], str] = {}
    english = table_rows(("slack_channel", "hour"), rows, Numbers("en"), none="(none)",
                         shown=shown)  # fmt: skip
    first, second = str(english).split("\n")
    assert first.startswith("<tr><td>&lt;img src=x onerror=&#34;a&amp;b&#34;&gt;</td>")
    assert '<time datetime="2026-11-20T13:00:00+01:00">Nov 20, 2026, 1:00' in first
    assert first.endswith(
        '<td class="num">1,234</td><td class="num">5,678,901</td><td class="num">0</td>'
        '<td class="num">3</td><td class="num">850 ms</td><td class="num">$1.25</td></tr>'
    )
    assert second.startswith("<tr><td>(none)</td>") and "$0.00001" in second
    assert list(shown) == [("hour", "2026-11-20T13:00:00+01:00")]  # formatted once
    german = str(table_rows(("slack_channel", "hour"), rows[:1], Numbers("de"), none="(keine)",
                            shown={}))  # fmt: skip
    assert ">20.11.2026, 13:00</time>" in german
    assert '<td class="num">5.678.901</td>' in german and "1,25\xa0$" in german


def test_no_rows_is_no_markup() -> None:
    assert str(table_rows(("model",), [], Numbers("en"), none="(none)", shown={})) == ""
