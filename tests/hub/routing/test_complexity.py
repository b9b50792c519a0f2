"""The complexity router's choices on a fixed set of prompts: documented and stable.

If a change to hub/routing/complexity.py moves one of these, the table below (and the
docstring there, and README's table) must be updated on purpose.
"""

from __future__ import annotations

import pytest

from hub.model import Message
from hub.routing.complexity import classify, configured_tier, strongest_tier

PROMPTS: list[tuple[str, str]] = [
    ("hi!", "simple"),
    ("Thanks, that worked.", "simple"),
    ("What is the capital of Australia?", "simple"),
    ("Translate 'good morning' into Spanish.", "simple"),
    ("Write a haiku about autumn leaves.", "simple"),
    (
        "Summarize this paragraph in two sentences: The meeting covered the quarterly "
        "numbers, the new hiring plan and the office move. Revenue grew 12% while costs "
        "stayed flat, and the team agreed to hire three engineers before March.",
        "simple",
    ),
    (
        "Fix the bug in this function:\n```python\ndef mean(xs):\n    return sum(xs) / len(xs)\n"
        "```\nIt crashes on an empty list.",
        "medium",
    ),
    (
        "What are the trade-offs between a SQL database and a document store for an "
        "event log with high write throughput?",
        "medium",
    ),
    (
        "First, read the CSV of orders. Then group them by customer, and then compute each "
        "customer's monthly total. Finally, write the result as JSON.",
        "medium",
    ),
    (
        "Design the architecture of a distributed rate limiter for our API gateway: it must "
        "handle 50k requests per second across regions with low latency. Explain the "
        "protocol between nodes, how you avoid a deadlock or lost updates under concurrency, "
        "the database schema, and the failure modes.\n1. Requirements\n2. Design\n3. Risks",
        "complex",
    ),
    (
        "Refactor this code so it streams instead of loading everything:\n```js\n"
        "const rows = await db.query('SELECT * FROM events');\nfunction total() { return "
        "rows.reduce((a, r) => a + r.value, 0); }\nexport default total;\n```\nThen add "
        "tests for the edge cases and explain the memory complexity in O() terms.",
        "complex",
    ),
    (
        "Prove that the square root of 2 is irrational, step by step, and justify each step "
        "formally.",
        "reasoning",
    ),
    (
        "A bag has 3 red and 5 blue balls. Two are drawn without replacement. Derive the "
        "probability that both are blue, reason step by step, and explain why drawing with "
        "replacement changes the answer.",
        "reasoning",
    ),
]


@pytest.mark.parametrize(("prompt", "tier"), PROMPTS)
def test_fixed_prompts_land_on_their_documented_tier(prompt: str, tier: str) -> None:
    decided = classify([Message.text("user", prompt)])
    assert decided.tier == tier, (decided.score, decided.features)


def test_earlier_turns_count_a_little() -> None:
    code = "```python\n" + "def f(x):\n    return x + 1\n" * 40 + "```"
    alone = classify([Message.text("user", "and now?")])
    after_code = classify(
        [
            Message.text("user", "Review this:\n" + code),
            Message.text("assistant", "Looks fine."),
            Message.text("user", "and now?"),
        ]
    )
    assert after_code.score > alone.score


def test_missing_tiers_fall_to_the_next_stronger_then_the_strongest_below() -> None:
    assert configured_tier("medium", ["simple", "complex"]) == "complex"
    assert configured_tier("reasoning", ["simple", "complex"]) == "complex"
    assert configured_tier("simple", ["complex", "reasoning"]) == "complex"
    assert configured_tier("complex", ["complex"]) == "complex"
    assert strongest_tier(["simple", "reasoning", "complex"]) == "reasoning"
