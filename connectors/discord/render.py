"""Discord Markdown out, in pages of at most 2,000 characters.

Markdown passes through untouched; long text is cut at the last paragraph, else line,
boundary that fits. A cut never leaves a code fence broken: when a block itself is too long,
the page closes the fence and the next page reopens it with the same info string.

The cut depends only on the first `limit` characters of what is left, so the pages of a
growing (streamed) text are stable: a page that has a successor never changes again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MESSAGE_LIMIT = 2000
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


@dataclass(frozen=True, slots=True)
class _Cut:
    at: int  # where the page ends in the remaining text
    fence: str | None  # the fence line open at `at`, to close and reopen
    marker: str


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The pages to send, in order; never empty (an empty text gives one empty page)."""
    pages: list[str] = []
    body, prefix_len = text, 0
    while len(body) > limit:
        cut = _choose_cut(body, limit, min_at=prefix_len + 1)
        page = body[: cut.at].rstrip("\n")
        rest = body[cut.at :]
        if cut.fence is None:
            pages.append(page)
            body, prefix_len = rest.lstrip("\n "), 0
        else:
            pages.append(f"{page}\n{cut.marker}")
            prefix = cut.fence + "\n"
            body, prefix_len = prefix + rest, len(prefix)
    pages.append(body)
    return pages


def _choose_cut(body: str, limit: int, *, min_at: int) -> _Cut:
    fence: str | None = None
    marker = ""
    paragraph: _Cut | None = None
    line: _Cut | None = None
    anywhere: _Cut | None = None
    pos = 0
    for raw in body.splitlines(keepends=True):
        start, pos = pos, pos + len(raw)
        if pos > limit:
            return paragraph or line or anywhere or _hard_cut(body, limit, start, fence, marker)
        fence, marker = _after_line(raw, fence, marker)
        closing = len(marker) + 1 if fence else 0
        if pos < min_at or len(body[:pos].rstrip("\n")) + closing > limit:
            continue
        cut = _Cut(pos, fence, marker)
        if pos >= limit // 4:  # shorter pages (an empty code block) are worse than a hard cut
            anywhere = cut
        if fence is None and pos >= limit // 2:
            line = cut
            if not raw.strip():
                paragraph = cut
    return paragraph or line or anywhere or _hard_cut(body, limit, pos, fence, marker)


def _after_line(raw: str, fence: str | None, marker: str) -> tuple[str | None, str]:
    match = _FENCE.match(raw.rstrip("\n"))
    if match is None:
        return fence, marker
    ticks, info = match.group(1), match.group(2)
    if fence is None:
        return raw.strip(), ticks
    if ticks[0] == marker[0] and len(ticks) >= len(marker) and not info.strip():
        return None, ""
    return fence, marker


def _hard_cut(body: str, limit: int, line_start: int, fence: str | None, marker: str) -> _Cut:
    """No line boundary fits: cut the long line at its last space, else mid-word."""
    window = limit - (len(marker) + 1 if fence else 0)
    space = body.rfind(" ", line_start, window)
    at = space if space > max(line_start, limit // 2) else window
    return _Cut(at, fence, marker)
