"""Markdown to Slack mrkdwn, and cutting text into messages."""

from __future__ import annotations

import pytest

from connectors.slack.conversation import readable
from connectors.slack.markdown import to_mrkdwn
from connectors.slack.split import choose_cut, open_fence, split_message


@pytest.mark.parametrize(
    ("markdown", "mrkdwn"),
    [
        ("**bold** and __also__", "*bold* and *also*"),
        ("*italic* text", "_italic_ text"),
        ("~~gone~~", "~gone~"),
        (
            "see [the docs](https://example.com/a?b=1&c=2)",
            "see <https://example.com/a?b=1&amp;c=2|the docs>",
        ),
        ("# Title", "*Title*"),
        ("- one\n- two\n  * nested", "• one\n• two\n  • nested"),
        ("1. first\n2. second", "1. first\n2. second"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("> quoted **text**", "> quoted *text*"),
        ("use `**not bold**` here", "use `**not bold**` here"),
        ("```python\nx = a<b  # **no**\n```", "```\nx = a&lt;b  # **no**\n```"),
        ("---", "──────────"),
    ],
)
def test_to_mrkdwn(markdown: str, mrkdwn: str) -> None:
    assert to_mrkdwn(markdown) == mrkdwn


def test_open_fence_tracks_the_language() -> None:
    assert open_fence("text\n```js\ncode") == "```js"
    assert open_fence("```js\ncode\n```\nafter") is None
    assert open_fence("~~~\n```\nstill inside") == "~~~"


def test_cut_prefers_paragraphs_then_lines() -> None:
    text = "a" * 50 + "\n\n" + "b" * 30 + "\n" + "c" * 40
    assert choose_cut(text, lo=0, hi=100) == 52  # a paragraph end past the middle wins
    early = "a" * 30 + "\n\n" + "b" * 50 + "\n" + "c" * 40
    assert choose_cut(early, lo=0, hi=100) == 83  # else a line end past the middle
    assert choose_cut("x" * 60 + "\n\n" + "y" * 100, lo=0, hi=100) == 62


def test_split_closes_and_reopens_a_fence() -> None:
    code = "\n".join(f"line {i}" for i in range(40))
    parts = split_message(f"intro\n\n```py\n{code}\n```\nend", 120)
    assert len(parts) > 2
    for part in parts:
        assert len(part) <= 120
        assert open_fence(part) is None
    assert parts[1].startswith("```py\n")
    lines = [line for p in parts for line in p.split("\n") if line.startswith("line ")]
    assert lines == [f"line {i}" for i in range(40)]


def test_split_short_text_is_one_message() -> None:
    assert split_message("short", 100) == ["short"]


def test_split_without_boundaries_cuts_hard() -> None:
    parts = split_message("z" * 250, 100)
    assert "".join(parts) == "z" * 250
    assert all(len(p) <= 100 for p in parts)


@pytest.mark.parametrize(
    ("wire", "seen"),
    [
        ("ask <@U123|ann> about <#C9|general>", "ask @ann about #general"),
        (
            "see <https://example.com|the docs> or <https://x.io>",
            "see the docs (https://example.com) or https://x.io",
        ),
        ("<!here> is 1 &lt; 2 &amp;&amp; 3 &gt; 2?", "@here is 1 < 2 && 3 > 2?"),
        ("<@U123> hi", "@U123 hi"),
    ],
)
def test_escaped_slack_text_reaches_the_model_readable(wire: str, seen: str) -> None:
    assert readable(wire) == seen
