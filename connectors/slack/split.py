"""Cutting long answers into Slack-sized messages at paragraph or line boundaries.

A cut never leaves a code fence broken: when it must fall inside one, the fence is closed at
the end of one message and reopened (same language) at the start of the next.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s{0,3}(```+|~~~+)(.*)$")
CLOSE_ROOM = 4  # "\n```" appended when a cut lands inside a fence


def open_fence(text: str) -> str | None:
    """The opening line of the fence `text` ends inside, or None when no fence is open."""
    opener: str | None = None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match is None:
            continue
        if opener is None:
            opener = line.strip()
        elif match.group(1)[0] == opener[0] and not match.group(2).strip():
            opener = None
    return opener


def close_fence(opener: str) -> str:
    return "~~~" if opener.startswith("~") else "```"


def _line_ends(text: str, hi: int) -> list[tuple[int, bool, bool]]:
    """(offset after each newline up to `hi`, inside a fence there, a blank line there)."""
    ends: list[tuple[int, bool, bool]] = []
    opener: str | None = None
    start = 0
    while True:
        newline = text.find("\n", start, hi)
        if newline < 0:
            return ends
        line = text[start:newline]
        match = _FENCE.match(line)
        if match is not None:
            if opener is None:
                opener = line.strip()
            elif match.group(1)[0] == opener[0] and not match.group(2).strip():
                opener = None
        ends.append((newline + 1, opener is not None, not line.strip()))
        start = newline + 1


def choose_cut(text: str, *, lo: int, hi: int) -> int:
    """Where to end a message: an offset in (lo, hi], at the best boundary available."""
    if len(text) <= hi:
        return len(text)
    ends = _line_ends(text, hi)
    for floor in (max(lo + 1, hi // 2), lo + 1):
        tiers = (
            [p for p, inside, blank in ends if not inside and blank],  # after a paragraph
            [p for p, inside, _ in ends if not inside],  # after a line
            [p for p, _, _ in ends],  # after a line inside a fence (closed and reopened)
        )
        for tier in tiers:
            found = [p for p in tier if p >= floor]
            if found:
                return max(found)
    space = text.rfind(" ", lo + 1, hi)
    return space + 1 if space > lo else hi


def split_message(text: str, limit: int) -> list[str]:
    """The whole answer as messages of at most `limit` characters, fences intact in each."""
    parts: list[str] = []
    body = text
    prefix_len = 0
    while len(body) > limit:
        cut = choose_cut(body, lo=prefix_len, hi=limit - CLOSE_ROOM)
        head, rest = body[:cut], body[cut:]
        opener = open_fence(head)
        if opener is not None:
            head = head.rstrip("\n") + "\n" + close_fence(opener)
            body = opener + "\n" + rest
            prefix_len = len(opener) + 1
        else:
            body = rest.lstrip("\n")
            prefix_len = 0
        parts.append(head.rstrip())
    if body.strip() or not parts:
        parts.append(body)
    return parts
