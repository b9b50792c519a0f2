"""What the hub will not let an upstream do to a request, whatever the provider: run past
the request's deadline, report usage that cannot be true, or write more than was held.

    bounds = guard.bounds()                    # the request's deadline (hub/deadlines.py)
    ...                                        # each read of the answer's stream within it
    if not guard.admits(chunk, held):          # ChatStream._run, for every chunk
        chunk = guard.ending(held_usage)       # the upstream closed, this is the last

- the whole request ends by `[router] request_deadline_s` (chat platforms and webhook
  callbacks have no client that would hang up);
- a usage report that fails hub/ledger/usage_check.py ends the request with `InvalidUsage`
  (ChatStream bills it at the hold);
- once the output counted from the stream (hub/ledger/output_meter.py) passes the completion
  tokens held, the upstream is closed and the answer ends with finish_reason "length" and
  the held usage, so an upstream that ignores max_tokens cannot overspend.
"""

from __future__ import annotations

import logging

from hub.deadlines import Bounds
from hub.errors import InvalidUsage, ProviderTimeout
from hub.ledger.output_meter import OutputMeter
from hub.ledger.usage_check import usage_problem
from hub.model import ChatChunk, ChoiceDelta, Usage

log = logging.getLogger("hub.chat")


class AnswerGuard:
    """What it needs from the request's state (the tokens held) is passed to each call, not
    kept as the stream's bound methods: a guard that referred back to its ChatStream made
    every request a reference cycle, left to the garbage collector (#14)."""

    def __init__(self, *, request_id: str, deadline_s: float, choices: int) -> None:
        self._request_id = request_id
        self._deadline_s = deadline_s
        self._choices = max(1, choices)
        self.meter = OutputMeter()
        self.cut = False  # the hub ended the answer at its limit

    def _expired(self, why: str) -> ProviderTimeout:
        return ProviderTimeout(
            f"The answer took too long and was stopped ({why}); try a shorter request.",
            detail=f"request {self._request_id}: {why}",
        )

    def bounds(self) -> Bounds:
        """The request's deadline, for the loop that reads the answering attempt's stream."""
        return Bounds(total_s=self._deadline_s, idle_s=None, expired=self._expired)

    def admits(self, chunk: ChatChunk, limit: int | None) -> bool:
        """Whether `chunk` may go on; False once it would pass `limit`, the completion tokens
        held (None: nothing to hold it to, as on a cache hit); the caller then closes the
        upstream and ends the answer with `ending()`. A usage report that cannot be true
        raises InvalidUsage."""
        if chunk.usage is not None:
            self._check(chunk.usage)
        if limit is None or not self.meter.would_exceed(chunk, limit):
            return True
        self.cut = True
        log.warning(
            "request %s: the upstream streamed past the %d completion tokens held; the hub "
            "ended the answer there",
            self._request_id,
            limit,
        )
        return False

    def ending(self, held_usage: Usage) -> ChatChunk:
        """The hub's own last chunk for an answer cut at its limit: finish_reason "length" on
        every choice, and `held_usage` (the most the hold covers)."""
        return ChatChunk(
            choices=tuple(
                ChoiceDelta(index=i, finish_reason="length") for i in range(self._choices)
            ),
            usage=held_usage,
        )

    def _check(self, usage: Usage) -> None:
        problem = usage_problem(usage)
        if problem is None:
            return
        log.warning(
            "request %s: the provider reported impossible usage: %s", self._request_id, problem
        )
        raise InvalidUsage(
            "The model provider reported token usage that cannot be right; the request was "
            "stopped and charged at its reservation.",
            detail=f"request {self._request_id}: {problem}",
        )
