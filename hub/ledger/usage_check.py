"""Usage a provider reports is checked before the ledger books it: token counts are whole,
non-negative, within what any model reads or writes in one request, and consistent (cached
and cache-write tokens are part of the prompt, reasoning part of the completion). A report
that fails is not booked: the request ends as an error (`invalid_usage`) billed at its hold.
"""

from __future__ import annotations

from hub.model import Usage

# No model reads or writes more in one request (the longest context windows are 10 M).
MAX_REPORTED_TOKENS = 10_000_000
_COUNTS = ("prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens")


def usage_problem(usage: Usage) -> str | None:
    """Why `usage` cannot be true, or None when it can."""
    for name in (*_COUNTS, "reasoning_tokens"):
        value = getattr(usage, name)
        if isinstance(value, bool) or not isinstance(value, int):
            return f"usage.{name} is not a whole number ({value!r})"
        if value < 0:
            return f"usage.{name} is negative ({value})"
        if value > MAX_REPORTED_TOKENS:
            return f"usage.{name} is {value:,}, past any model's {MAX_REPORTED_TOKENS:,}"
    if usage.cached_tokens + usage.cache_write_tokens > usage.prompt_tokens:
        return "cached and cache-write tokens exceed prompt_tokens"
    if usage.reasoning_tokens > usage.completion_tokens:
        return "reasoning_tokens exceed completion_tokens"
    return None
