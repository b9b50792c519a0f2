"""The one seam between the request path and observability (metrics, traces, error reports).

ChatStream and the router call an observer at fixed moments of a chat request; everything
observability needs travels through these calls, so neither knows what is measured:

    watch = observer.request(request, model)          # ChatStream built
    with watch.step("admission"): ...                 # admission and the budget hold
    watch.refused(error)                              # admission said no (no usage record)
    attempt = watch.attempt(deployment, number=n, max_tokens=m)   # router, per upstream try
    with attempt.current(): ...                       # while the upstream request is sent
    attempt.first_chunk(response_id=..., response_model=...)   # something worth passing on
    attempt.ended(error=..., usage=..., next_step="retry" | "fallback" | "give_up" | "done")
    with watch.step("settlement"): ...                # the ledger write
    watch.finished(result)                            # after settlement, however it ended

Usage records are observed apart from requests, when the transaction that wrote them
commits (`note_usage` inside `record_usage`): settle, the lease sweeper's `interrupted`
records and any later writer are all counted once, and a rolled-back write not at all.

Observers must be cheap and must never raise into the request path.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from hub.config import DeploymentSettings, ModelSettings
    from hub.ledger.usage_entry import UsageEntry
    from hub.model import ChatRequest, ChatResult, Usage

NextStep = Literal["done", "retry", "fallback", "give_up"]
Step = Literal["admission", "settlement"]


class AttemptWatch(Protocol):
    def current(self) -> AbstractContextManager[None]: ...
    def first_chunk(
        self, *, response_id: str | None = None, response_model: str | None = None
    ) -> None: ...
    def ended(
        self,
        *,
        error: BaseException | None = None,
        usage: Usage | None = None,
        finish_reason: str | None = None,
        next_step: NextStep = "done",
    ) -> None: ...


class RequestWatch(Protocol):
    def step(self, name: Step) -> AbstractContextManager[None]: ...
    def refused(self, error: BaseException) -> None: ...
    def attempt(
        self, deployment: DeploymentSettings, *, number: int, max_tokens: int | None
    ) -> AttemptWatch: ...
    def finished(self, result: ChatResult) -> None: ...


class ChatObserver(Protocol):
    def request(self, request: ChatRequest, model: ModelSettings) -> RequestWatch: ...
    def usage_recorded(self, entry: UsageEntry) -> None: ...


class NullAttempt:
    def current(self) -> AbstractContextManager[None]:
        return nullcontext()

    def first_chunk(self, **_: Any) -> None:
        pass

    def ended(self, **_: Any) -> None:
        pass


NULL_ATTEMPT = NullAttempt()


class NullRequest:
    def step(self, name: Step) -> AbstractContextManager[None]:
        return nullcontext()

    def refused(self, error: BaseException) -> None:
        pass

    def attempt(
        self, deployment: DeploymentSettings, *, number: int, max_tokens: int | None
    ) -> AttemptWatch:
        return NULL_ATTEMPT

    def finished(self, result: ChatResult) -> None:
        pass


NULL_REQUEST = NullRequest()


class NullObserver:
    def request(self, request: ChatRequest, model: ModelSettings) -> RequestWatch:
        return NULL_REQUEST

    def usage_recorded(self, entry: UsageEntry) -> None:
        pass


# -- usage records, observed when their transaction commits ----------------------------------

_OBSERVER = "hub.observer"
_PENDING = "hub.observer.pending_usage"


def note_usage(session: AsyncSession, entry: UsageEntry) -> None:
    """Called by the one writer of usage records; the observer hears of it after COMMIT."""
    if _OBSERVER in session.info:
        session.info.setdefault(_PENDING, []).append(entry)


def observe_usage(sessions: async_sessionmaker[AsyncSession], observer: ChatObserver) -> None:
    """Sessions from `sessions` report the usage records they commit to `observer`."""
    sessions.configure(info={**(sessions.kw.get("info") or {}), _OBSERVER: observer})
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    observer: ChatObserver = session.info[_OBSERVER]
    for entry in pending:
        observer.usage_recorded(entry)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
