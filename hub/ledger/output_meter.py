"""The output a stream has produced, counted from what it streamed, against what was held.

The count must never exceed what an honest provider bills, so that an answer within its
limit is never cut: every non-empty piece (text, refusal, tool-call name or arguments) of a
chunk counts at least one token (providers stream about one token a delta, and no delta
carries less than one), and a large piece one token per 16 bytes (no tokenizer's tokens are
longer, but for rare runs of spaces or symbols). An upstream that ignores its limit outruns
this count soon after it passes the limit, and the hub ends it there.
"""

from __future__ import annotations

from hub.model import ChatChunk

MAX_BYTES_PER_TOKEN = 16


def piece_tokens(piece: str) -> int:
    if not piece:
        return 0
    if len(piece) <= MAX_BYTES_PER_TOKEN // 4:  # at most 4 UTF-8 bytes a character
        return 1
    return max(1, -(-len(piece.encode("utf-8", "surrogatepass")) // MAX_BYTES_PER_TOKEN))


def chunk_tokens(chunk: ChatChunk) -> int:
    total = 0
    for choice in chunk.choices:
        text = choice.text  # nearly every chunk's one piece, and short: counted inline
        if text:
            total += 1 if _one_token(text) else piece_tokens(text)
        if choice.refusal:
            total += piece_tokens(choice.refusal)
        for call in choice.tool_calls:
            total += piece_tokens(call.name or "") + piece_tokens(call.arguments)
    return total


def _one_token(text: str) -> bool:
    """Whether non-empty `text` counts one token, as `piece_tokens` counts it: at most 16
    bytes of UTF-8 (ASCII is a byte a character), told without encoding it."""
    return len(text) <= MAX_BYTES_PER_TOKEN // 4 or (
        len(text) <= MAX_BYTES_PER_TOKEN and text.isascii()
    )


class OutputMeter:
    def __init__(self) -> None:
        self.tokens = 0

    def would_exceed(self, chunk: ChatChunk, limit: int) -> bool:
        """Count `chunk`; True when the output, with it, is past `limit`."""
        choices = chunk.choices
        if len(choices) == 1:  # nearly every chunk: text alone, counted here (no loop)
            choice = choices[0]
            if not choice.refusal and not choice.tool_calls:
                text = choice.text
                if text:
                    self.tokens += 1 if _one_token(text) else piece_tokens(text)
                return self.tokens > limit
        self.tokens += chunk_tokens(chunk)
        return self.tokens > limit
