"""The attempt that answers a request, once the router has picked it (hub/router.py's
`Router.answer`): what it read first, the provider's stream the caller then reads itself,
and how that reading ended, told back to the deployment's health, circuit and observation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Protocol

from hub.deadlines import Bounds
from hub.errors import ProviderError, StreamInterrupted
from hub.model import ChatChunk, Usage
from hub.observer import AttemptWatch
from hub.routing.circuits import Circuits
from hub.routing.health import Attempt

if TYPE_CHECKING:
    from hub.router import RouteState


class Failed(Protocol):
    """`Router._failed`: a failed attempt counted against its deployment, or not."""

    async def __call__(
        self, label: str, attempt: Attempt, error: ProviderError, *, own_key: bool
    ) -> None: ...


class Answer:
    """The attempt that answers: the chunks read before it was chosen (`held`), then the rest
    of its stream, which the caller reads itself as `await bounds.next(upstream)` (the
    attempt's deadline and idle timeout; ChatStream adds the request's with
    `bounds.within`): no generator of the router's between the provider and the caller.

    However the reading ends, the caller says how: `interrupted` (the provider failed
    mid-stream: the StreamInterrupted to raise) or `abandoned` (the caller left, was
    cancelled, or ended the answer itself), then `finish` (None: it ended as it should)."""

    __slots__ = (
        "held",
        "upstream",
        "bounds",
        "_failed",
        "_circuits",
        "_label",
        "_attempt",
        "_watch",
        "_state",
        "_own_key",
        "_open",
        "_judged",
    )

    def __init__(
        self,
        *,
        failed: Failed,
        circuits: Circuits,
        held: list[ChatChunk],
        upstream: AsyncIterator[ChatChunk],
        bounds: Bounds,
        label: str,
        attempt: Attempt,
        watch: AttemptWatch,
        state: RouteState,
        own_key: bool,
    ) -> None:
        self.held = held
        self.upstream = upstream
        self.bounds = bounds
        self._failed = failed
        self._circuits = circuits
        self._label = label
        self._attempt = attempt
        self._watch = watch
        self._state = state
        self._own_key = own_key
        self._open = True
        self._judged = False  # interrupted or abandoned: counted against the deployment or not

    async def interrupted(self, error: ProviderError) -> StreamInterrupted:
        """The provider failed mid-stream: counted, and the error the caller raises."""
        self._judged = True
        self._state.errors.append(error)
        await self._failed(self._label, self._attempt, error, own_key=self._own_key)
        return StreamInterrupted(
            "The answer was cut off because the model provider failed mid-stream; "
            "the text above is incomplete.",
            detail=error.detail,
            attempts=self._state.attempts,
        )

    def abandoned(self) -> None:
        """The caller left, was cancelled or ended the answer: not the deployment's doing."""
        if not self._judged:
            self._judged = True
            self._attempt.abandoned()
            self._circuits.release(self._label)

    async def finish(
        self, ending: BaseException | None, usage: Usage | None, finish_reason: str | None
    ) -> None:
        """Close the upstream and end the attempt's observation; `ending` None: it succeeded."""
        if not self._open:
            return
        self._open = False
        try:
            await close_attempt(self.upstream, self.bounds)
        finally:
            self._watch.ended(error=ending, usage=usage, finish_reason=finish_reason)
        if ending is None and not self._judged:
            self._judged = True
            self._attempt.succeeded()
            await self._circuits.succeeded(self._label)


async def first_chunks(upstream: AsyncIterator[ChatChunk], bounds: Bounds) -> list[ChatChunk]:
    """Read until something worth passing on (content, a tool call, usage or an end)."""
    held: list[ChatChunk] = []
    while True:
        try:
            chunk = await bounds.next(upstream)
        except StopAsyncIteration:
            return held
        held.append(chunk)
        if chunk.has_content:
            return held


async def close_attempt(upstream: AsyncIterator[ChatChunk], bounds: Bounds) -> None:
    bounds.close()
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()
