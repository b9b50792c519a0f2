"""The complexity router: which tier a request needs, from its own text, with no API call.

Seven features are read from the conversation (the last user message counts fully, earlier
turns a little), each scaled to [0, 1] and weighted:

    feature       weight  what counts                                             full at
    length         0.25   estimated tokens (4 characters each)                         600
    code           0.20   fenced blocks, code keywords, operators, stack traces      3 marks
    reasoning      0.20   prove, derive, step by step, why, trade-off, optimal...    2 marks
    technical      0.15   algorithm, architecture, concurrency, regression...        3 terms
    multi_step     0.15   first/then/finally, numbered steps, "and then"...          2 marks
    questions      0.05   question marks beyond the first                            3 more
    simple        -0.15   greetings, thanks, "what is", translate/define/spell...    1 mark

    score = sum(weight x feature), clamped to [0, 1]

    tier       when
    reasoning  3 or more reasoning marks, or 2 and score >= 0.20
    complex    score >= 0.30
    medium     score >= 0.15
    simple     otherwise

A tier the alias does not configure falls to the next stronger configured tier (quality
first), or the strongest configured one below it. Decisions take microseconds (bench/routing.py
measures them); the fixed prompts of tests/hub/routing/test_complexity.py pin them down.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from hub.model import Message
from hub.routing.settings import TIERS

MAX_CHARS = 6_000  # read for features: the rest of a long prompt says little more
HISTORY_SHARE = 0.25  # earlier turns count a quarter

WEIGHTS = {
    "length": 0.25,
    "code": 0.20,
    "reasoning": 0.20,
    "technical": 0.15,
    "multi_step": 0.15,
    "questions": 0.05,
    "simple": -0.15,
}
FULL_AT = {
    "length": 600,
    "code": 3,
    "reasoning": 2,
    "technical": 3,
    "multi_step": 2,
    "questions": 3,
    "simple": 1,
}
THRESHOLDS = (("complex", 0.30), ("medium", 0.15))
REASONING_ALONE, REASONING_MARKS, REASONING_SCORE = 3, 2, 0.20

# Words are looked up in sets and phrases found with `in` on the lowered text: one regex
# scan for the words, C-speed substring searches for the rest, so a decision stays well
# under a millisecond even for long prompts (a regex alternation per feature was 10x slower).
WORD = re.compile(r"[a-z][a-z0-9_]*")
NUMBERED_STEP = re.compile(r"^\s*(?:\d+[.)]|[-*])\s+\w", re.MULTILINE)
KEYWORDS: dict[str, str] = {
    **dict.fromkeys(
        "def import return const function fn func lambda async await null nullptr void "
        "printf println traceback exception stacktrace segfault regex json yaml".split(),
        "code",
    ),
    **dict.fromkeys(
        "prove proof derive why reason reasoning tradeoff tradeoffs optimal justify analyze "
        "analyse evaluate compare implication implications theorem counterexample formally "
        "rigorous".split(),
        "reasoning",
    ),
    **dict.fromkeys(
        "algorithm algorithms architecture concurrency concurrent distributed database "
        "latency throughput regression gradient kubernetes microservice microservices "
        "complexity protocol encryption compiler deadlock schema integral derivative "
        "probability statistics statistical matrix api sql tcp gpu cache consensus".split(),
        "technical",
    ),
    **dict.fromkeys("finally afterwards multistep".split(), "multi_step"),
}
PHRASES: tuple[tuple[str, str], ...] = (
    ("```", "code"), ("=>", "code"), ("::", "code"), ("();", "code"), ("#include", "code"),
    ("->", "code"), ("select *", "code"), ("public static", "code"), ("{\n", "code"),
    ("step by step", "reasoning"), ("step-by-step", "reasoning"), ("trade-off", "reasoning"),
    ("edge case", "reasoning"), ("pros and cons", "reasoning"), ("think through", "reasoning"),
    ("what would happen if", "reasoning"), ("memory leak", "technical"), ("o(", "technical"),
    ("and then", "multi_step"), ("after that", "multi_step"), ("next,", "multi_step"),
    ("for each", "multi_step"), ("step 1", "multi_step"), ("multi-step", "multi_step"),
)  # fmt: skip
SIMPLE_OPENINGS = (
    "hi", "hello", "hey", "thanks", "thank you", "good morning", "good evening", "what is",
    "what's", "who is", "when is", "when was", "define", "translate", "spell", "convert",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Complexity:
    tier: str
    score: float
    features: dict[str, float]  # each in [0, 1], before weighting


def _simple(lowered: str) -> bool:
    opening = lowered.lstrip()
    for start in SIMPLE_OPENINGS:
        if opening.startswith(start):
            rest = opening[len(start) : len(start) + 1]
            if not rest or not rest.isalnum():
                return True
    return False


def _features(text: str, length: int) -> tuple[dict[str, float], int]:
    """The features of `text` (of a prompt `length` characters long), and the count of
    reasoning marks."""
    lowered = text.lower()
    counts = dict.fromkeys(("code", "reasoning", "technical", "multi_step"), 0)
    words = Counter(WORD.findall(lowered))  # counted in C
    for word, kind in KEYWORDS.items():
        counts[kind] += words.get(word, 0)
    for phrase, kind in PHRASES:
        if phrase in lowered:
            counts[kind] += lowered.count(phrase)
    if "first" in words and "then" in words:
        counts["multi_step"] += 1
    counts["multi_step"] += len(NUMBERED_STEP.findall(text))

    def scaled(name: str, value: float) -> float:
        return min(1.0, value / FULL_AT[name])

    features = {
        "length": scaled("length", length / 4),
        **{name: scaled(name, value) for name, value in counts.items()},
        "questions": scaled("questions", max(0, text.count("?") - 1)),
        "simple": 1.0 if _simple(lowered) else 0.0,
    }
    return features, counts["reasoning"]


def classify(messages: Sequence[Message]) -> Complexity:
    """The tier this conversation needs (one of TIERS)."""
    last = next((m for m in reversed(messages) if m.role == "user"), None)
    current = last.plain_text if last else ""
    features, reasoning_marks = _features(current[-MAX_CHARS:], len(current))
    earlier = [m.plain_text for m in messages if m is not last and m.role != "system"]
    if earlier:
        joined = "\n".join(earlier)
        history, _ = _features(joined[-MAX_CHARS:], len(joined))
        for name in ("length", "code", "technical"):
            features[name] = min(1.0, features[name] + HISTORY_SHARE * history[name])
    score = sum(WEIGHTS[name] * value for name, value in features.items())
    score = round(min(1.0, max(0.0, score)), 4)
    if reasoning_marks >= REASONING_ALONE or (
        reasoning_marks >= REASONING_MARKS and score >= REASONING_SCORE
    ):
        tier = "reasoning"
    else:
        tier = next((name for name, floor in THRESHOLDS if score >= floor), "simple")
    return Complexity(tier=tier, score=score, features=features)


def configured_tier(wanted: str, configured: Sequence[str]) -> str:
    """`wanted` if configured, else the next stronger configured tier, else the strongest
    configured tier below it."""
    if wanted in configured:
        return wanted
    rank = TIERS.index(wanted)
    stronger = [t for t in TIERS[rank + 1 :] if t in configured]
    if stronger:
        return stronger[0]
    weaker = [t for t in reversed(TIERS[:rank]) if t in configured]
    return weaker[0]


def strongest_tier(configured: Sequence[str]) -> str:
    return max(configured, key=TIERS.index)
