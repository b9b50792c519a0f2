"""The model's Markdown rendered as Slack mrkdwn (bold, italics, links, lists, code, quotes).

Slack wants `&`, `<` and `>` escaped everywhere; code is left as is apart from that, and the
language after an opening fence is dropped because mrkdwn would print it as code.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^(\s{0,3})(```+|~~~+)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(.*)$")
_QUOTE = re.compile(r"^(\s*)>\s?(.*)$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_ITALIC_STAR = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_BOLD_MARK = "\x00"


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    text = _IMAGE.sub(lambda m: f"<{m.group(2)}|{m.group(1) or 'image'}>", text)
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    text = _BOLD.sub(lambda m: f"{_BOLD_MARK}{m.group(2)}{_BOLD_MARK}", text)
    text = _ITALIC_STAR.sub(lambda m: f"_{m.group(1)}_", text)
    text = _STRIKE.sub(lambda m: f"~{m.group(1)}~", text)
    return text.replace(_BOLD_MARK, "*")


def _outside_code(line: str) -> str:
    """Convert inline Markdown, leaving `code spans` untouched."""
    pieces = line.split("`")
    if len(pieces) % 2 == 0:  # an unmatched backtick: treat the line as plain text
        return _inline(escape(line))
    return "`".join(
        _inline(escape(piece)) if i % 2 == 0 else escape(piece) for i, piece in enumerate(pieces)
    )


def _line(line: str) -> str:
    if _RULE.match(line):
        return "──────────"
    heading = _HEADING.match(line)
    if heading:
        return f"*{_outside_code(heading.group(1)).strip('*')}*"
    quote = _QUOTE.match(line)
    if quote:
        return f"{quote.group(1)}> {_line(quote.group(2))}".rstrip()
    bullet = _BULLET.match(line)
    if bullet:
        return f"{bullet.group(1)}• {_outside_code(bullet.group(2))}"
    return _outside_code(line)


def to_mrkdwn(markdown: str) -> str:
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        match = _FENCE.match(line)
        if match is not None and (fence is None or match.group(2)[0] == fence[0]):
            if fence is None:
                fence = match.group(2)
                out.append("```")
                rest = line[match.end() :].strip()
                # "```python" opens a fence; anything else after the fence is code.
                if rest and " " in rest:
                    out.append(escape(rest))
            elif not line[match.end() :].strip():
                fence = None
                out.append("```")
            else:
                out.append(escape(line))
            continue
        out.append(escape(line) if fence is not None else _line(line))
    return "\n".join(out)
