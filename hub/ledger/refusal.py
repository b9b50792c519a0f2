"""The sentence a refused request gets: which limit, the figure, and when it resets."""

from __future__ import annotations

from datetime import datetime

from hub.errors import QuotaExceeded
from hub.ledger.counters import CounterState
from hub.ledger.money import format_usd
from hub.ledger.periods import describe_reset, resets_at
from hub.ledger.quotas import QuotaLimit
from hub.model import Caller

_SUBJECT = {
    "team": ("Team '{team}' has", "its"),
    "member": ("You have", "your"),
    "key": ("This API key has", "its"),
}
_WINDOW = {"day": "daily", "month": "monthly"}


def refusal(
    *,
    caller: Caller,
    scope: str,
    window: str,
    quota: QuotaLimit,
    counter: CounterState | None,
    cost_micros: int,
    tokens: int,
    now: datetime,
) -> QuotaExceeded:
    reset = resets_at(window, now)
    subject, its = _SUBJECT[scope]
    subject = subject.format(team=caller.team_name)
    cost_limit, token_limit = quota.cost_limit_micros, quota.token_limit
    cost_used = counter.cost_spent_micros + counter.cost_reserved_micros if counter else 0
    tokens_used = counter.tokens_spent + counter.tokens_reserved if counter else 0
    if cost_limit is not None and cost_used + cost_micros > cost_limit:
        figure = f"{its} {_WINDOW[window]} budget of {format_usd(cost_limit)}"
        if cost_used >= cost_limit:
            head = f"{subject} reached {figure}"
        else:
            head = (
                f"{subject} {format_usd(cost_limit - cost_used)} left of {figure}, less than "
                f"this request could cost ({format_usd(cost_micros)}); lower max_tokens or wait"
            )
        name = f"{scope}_{window}_budget"
    else:
        limit = token_limit or 0
        figure = f"{its} {_WINDOW[window]} token quota of {limit:,} tokens"
        if tokens_used >= limit:
            head = f"{subject} reached {figure}"
        else:
            head = (
                f"{subject} {limit - tokens_used:,} tokens left of {figure}, fewer than this "
                f"request may use ({tokens:,}); lower max_tokens or wait"
            )
        name = f"{scope}_{window}_tokens"
    return QuotaExceeded(
        f"{head}; it resets on {describe_reset(reset)}.",
        resets_at=reset,
        retry_after=max(1.0, (reset - now).total_seconds()),
        limit_name=name,
    )
