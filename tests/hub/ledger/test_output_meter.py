"""The output meter's count (the answer guard's budget cap, #14): the same count however a
chunk is counted (the one-choice path counts inline, without encoding short ASCII), one
token at least per piece and one per 16 bytes of UTF-8."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.ledger.output_meter import MAX_BYTES_PER_TOKEN, OutputMeter
from hub.model import ChatChunk, ChoiceDelta, ToolCallDelta

SEEDED = settings(max_examples=500, derandomize=True, database=None, deadline=None)


def rule(piece: str) -> int:
    """A piece's tokens by the meter's documented rule, spelled out."""
    if not piece:
        return 0
    size = len(piece.encode("utf-8", "surrogatepass"))
    return max(1, (size + MAX_BYTES_PER_TOKEN - 1) // MAX_BYTES_PER_TOKEN)


# Short and long, ASCII and not (up to 4 bytes a character), lone surrogates too.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=24) | st.text(
    st.characters(max_codepoint=127), min_size=3, max_size=40
)
calls = st.builds(ToolCallDelta, index=st.integers(0, 2), name=st.none() | texts, arguments=texts)
choices = st.builds(
    ChoiceDelta,
    index=st.integers(0, 2),
    text=texts,
    refusal=st.just("") | texts,
    tool_calls=st.lists(calls, max_size=2).map(tuple) | st.just(()),
)
chunks = st.builds(ChatChunk, choices=st.lists(choices, max_size=3).map(tuple))


@SEEDED
@given(st.lists(chunks, max_size=6), st.integers(0, 40))
def test_the_meter_counts_every_piece_by_the_rule(answer: list[ChatChunk], limit: int) -> None:
    meter = OutputMeter()
    expected = 0
    for chunk in answer:
        for choice in chunk.choices:
            expected += rule(choice.text) + rule(choice.refusal)
            expected += sum(rule(c.name or "") + rule(c.arguments) for c in choice.tool_calls)
        assert meter.would_exceed(chunk, limit) == (expected > limit)
        assert meter.tokens == expected


def test_short_ascii_is_one_token_and_a_longer_or_wider_piece_more() -> None:
    meter = OutputMeter()
    counts = []
    for text in ("a", " there,", "x" * 16, "x" * 17, "é" * 8, "é" * 9, "€" * 6):
        before = meter.tokens
        meter.would_exceed(ChatChunk(choices=(ChoiceDelta(text=text),)), 10**6)
        counts.append(meter.tokens - before)
    assert counts == [1, 1, 1, 2, 1, 2, 2]
