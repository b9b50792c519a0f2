"""One chat request from admission to settlement.

    async with hub.chat(request) as stream:   # model resolved, limits checked, budget reserved
        async for chunk in stream:            # text deltas, from whichever deployment answered
            ...
    stream.result                             # text, usage, cost, status; already settled

Settlement happens in `__aexit__`, however the block ends: done, provider error, the caller
leaving early (`break`), or the task being cancelled; hub/chat_ending.py says how it ended
and what it is charged, hub/chat_settlement.py writes it. A cancellation that arrives while the
hold is being taken or settled waits for that to finish and is re-raised afterwards, so a
client that disconnects cannot leave money reserved, a request without its usage record, or
a request without its log line.

Work that outlives the caller (a webhook's 202 + callback, chat platforms' lazy answers)
uses `start`: admission happens (and refuses) at once, the rest runs in a task that settles
however it ends:

    stream = hub.chat(request)
    task = await stream.start(lambda s: s.collect())   # QuotaExceeded raises here
    ...                                               # answer "accepted"
    await task                                        # settled; stream.result is final
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from hub.alias_swaps import downgrade, join_experiment, route_auto
from hub.answer_guard import AnswerGuard
from hub.cache.responses import CacheLookup, replay
from hub.chat_ending import classify
from hub.chat_settlement import Settling, settle_request, usage_entry
from hub.config import DeploymentSettings
from hub.errors import BadRequest, ProviderError, ProviderTimeout, QuotaExceeded
from hub.ledger.budget import Hold
from hub.ledger.checkpoints import Checkpoints
from hub.ledger.estimate import estimate_prompt_tokens
from hub.ledger.recovery import HoldContext
from hub.ledger.sizing import AnswerSizing, Ask
from hub.logs import log_chat
from hub.model import ChatChunk, ChatRequest, ChatResult, Usage
from hub.prompt_hash import prompt_hash
from hub.ratelimit import AppliedLimit
from hub.router import RouteState
from hub.routing.answer import Answer
from hub.routing.auto import AutoChoice
from hub.routing.capabilities import Needs
from hub.uncancelled import outlast, outlast_until

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.chat")
T = TypeVar("T")


def new_request_id() -> str:
    # secrets.token_hex's bytes (os.urandom), without its three wrappers around them.
    return "chatcmpl-" + os.urandom(12).hex()


class ChatStream:
    def __init__(self, hub: Hub, request: ChatRequest) -> None:
        self._hub = hub
        self.request = request
        self._model = hub.router.resolve(request.model)
        self.result = ChatResult(request_id=new_request_id(), alias=self._model.alias)
        self._watch = hub.observer.request(request, self._model)  # metrics, traces
        self._route = RouteState(watch=self._watch)
        self._hold: Hold | None = None
        self._iterator: AsyncIterator[ChatChunk] | None = None
        self._finished = False
        self._sizing: AnswerSizing | None = None  # the reservation's bounds (hub/ledger/sizing)
        self._cap: int | None = None  # the answer limit the budget imposed, if it did
        self._held_for: tuple[DeploymentSettings, int] | None = None  # _completion_held
        self._guard = AnswerGuard(  # deadline, usage checks, the output bound (#10)
            request_id=self.result.request_id,
            deadline_s=hub.settings.router.request_deadline_s,
            choices=request.params.choices,
        )
        self._started = 0.0
        self._limits: list[AppliedLimit] = []
        self._api_keys: dict[str, str] = {}
        self._exited = False
        self._cache: CacheLookup | None = None  # the response cache's verdict (#18)
        self._charged_tokens: int | None = None
        self._every_chunk = False
        # Progress noted on the hold every few seconds, for recovery (#10 point 2).
        self._checkpoints = Checkpoints(hub.budget, hub.clock, hub.track)
        self._seen_chars = 0
        self._auto: AutoChoice | None = None  # strategy = "auto" (#18)
        self._needs: Needs | None = None  # what the request needs of a deployment (router)
        self._prompt_hash: str | None = None  # the usage record's (`prompt_hash`)

    @property
    def deployment(self) -> str | None:
        """The deployment answering (provider/model), known once the first chunk is out."""
        if self.result.deployment:
            return self.result.deployment
        if self._cache is not None and self._cache.answer is not None:
            return self._cache.answer.deployment  # the one that produced the cached answer
        return self._route.deployment.label if self._route.deployment else None

    @property
    def log_content(self) -> bool:
        return self._hub.settings.logging.log_content

    @property
    def capped_max_tokens(self) -> int | None:
        """The per-choice answer limit the hub imposed because the budget or quota left could
        not cover more (the OpenAI API says so in X-UniLLM-Max-Tokens-Capped); None if none."""
        return self._cap

    async def __aenter__(self) -> ChatStream:
        if self.request.options.max_tokens is not None and self.request.options.max_tokens < 1:
            raise BadRequest("max_tokens must be a positive number.")
        # The alias that answers (hub/alias_swaps.py): an experiment's variant, an auto tier.
        self._model = await join_experiment(self._hub, self._model, self.request, self.result)
        self._auto = route_auto(self._hub, self._model, self.request, self.result)
        if self._auto is not None:
            self._model = self._auto.model
        # Images, tools, length (#18); the needs go on to the router's plan.
        self._needs = self._hub.router.check(self._model, self.request)
        try:
            with self._watch.step("admission"):
                await self._admit()
        except BaseException as exc:
            self._watch.refused(exc)
            raise
        return self

    async def _admit(self) -> None:
        """Member, limits, the cache, and the budget hold."""
        admitted = await self._hub.admission.admit(self.request)
        if admitted.caller is not self.request.caller:  # a member found (API keys: the same)
            self.request = dataclasses.replace(self.request, caller=admitted.caller)
        self._limits = admitted.limits
        target = await downgrade(self._hub, self._model, self.request, self.result)
        if target is not None:
            self._model, self._auto = target, None
        self.result.show_model = self._model.show_model  # the alias that answers says
        if await self._answered_from_cache():
            return
        self._api_keys = await self._hub.provider_keys.for_team(admitted.caller.team_id)
        prices = await self._hub.prices.ready()  # the price in force now (hub/billing)
        settings = self._hub.settings
        self._sizing = sizing = AnswerSizing.of(
            self.request,
            self._model.deployments,
            providers=settings.providers,
            prices=prices.require,
            at=self._hub.clock.now(),
            min_answer=settings.ledger.min_answer_tokens,
        )
        try:
            await self._take(sizing.ask())
        except QuotaExceeded:
            # The longest answer does not fit what is left: cap it to what does, or refuse
            # (naming what the shortest answer would cost) when not even that fits.
            room = await self._hub.budget.room(self.request.caller)
            await self._take(sizing.fitting(room))

    async def _take(self, ask: Ask) -> None:
        await self._hold_budget(cost_micros=ask.cost_micros, tokens=ask.tokens)
        self._cap, self._held_for = ask.cap, None

    async def _hold_budget(self, *, cost_micros: int, tokens: int) -> None:
        budget, caller, context = self._hub.budget, self.request.caller, self._hold_context()
        # The writer's own future when the caller's quotas are in memory (nearly always);
        # else a task that reads them first. Either goes on if the caller is cancelled.
        reserving = budget.reserve_queued(
            caller, cost_micros=cost_micros, tokens=tokens, context=context
        )
        if reserving is None:
            reserving = asyncio.get_running_loop().create_task(
                budget.reserve(caller, cost_micros=cost_micros, tokens=tokens, context=context)
            )
        cancelled = await outlast(reserving)
        if cancelled and reserving.exception() is not None:
            raise asyncio.CancelledError  # refused while the caller was going away
        self._hold = reserving.result()  # a refusal raises here, with nothing held
        self._started = self._hub.clock.monotonic()
        if cancelled:
            # Admitted while the caller was going away: settle it as cancelled, then go.
            await self.__aexit__(asyncio.CancelledError, asyncio.CancelledError(), None)
            raise asyncio.CancelledError

    def _hold_context(self) -> HoldContext:
        """What the usage record needs should this process die before settling."""
        return HoldContext(
            request_id=self.result.request_id,
            caller=self.request.caller,
            origin=self.request.origin,
            alias=self.result.alias,
            prompt_tokens=(
                self._sizing.largest_prompt_tokens()
                if self._sizing is not None
                else estimate_prompt_tokens(self.request.messages)
            ),
        )

    async def start(self, work: Callable[[ChatStream], Awaitable[T]]) -> asyncio.Task[T]:
        """Admit now (a refusal raises here and holds nothing), then run `work(self)` in a
        background task that settles however it ends; the task is done once settled."""
        await self.__aenter__()

        async def run() -> T:
            try:
                outcome = await work(self)
            except BaseException as exc:
                await self.__aexit__(type(exc), exc, exc.__traceback__)
                raise
            await self.__aexit__(None, None, None)
            return outcome

        task = asyncio.create_task(run())
        # A task cancelled before its first step never runs `run`: settle it from here.
        task.add_done_callback(self._settle_unstarted)
        return task

    def _settle_unstarted(self, task: asyncio.Task[object]) -> None:
        if not self._exited:
            self._hub.track(self.__aexit__(asyncio.CancelledError, asyncio.CancelledError(), None))

    async def _answered_from_cache(self) -> bool:
        """Look the request up in the response cache; on a hit reserve what the hit will be
        charged ([cache] charge) and answer from it (#18)."""
        self._cache = await self._hub.caching.lookup(self._model, self.request)
        if self._cache is None:
            return False
        self.result.cache = self._cache.outcome
        hit = self._cache.answer
        if hit is None:
            return False
        charge = self._hub.settings.cache.charge
        self._charged_tokens = charge.of(hit.usage.total_tokens)
        await self._hold_budget(cost_micros=charge.of(hit.cost_micros), tokens=self._charged_tokens)
        return True

    def _upstream_max_tokens(self, deployment: DeploymentSettings) -> int | None:
        assert self._sizing is not None
        return self._sizing.upstream_max_tokens(deployment, self._cap)

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def events(self) -> AsyncIterator[ChatChunk]:
        """Every chunk, not only text: role announcements, tool-call deltas, refusals,
        logprobs, finish reasons, usage (for the OpenAI-compatible API, which passes the
        upstream's chunks on as they came). Iterating the stream itself yields text chunks."""
        self._every_chunk = True
        return self.__aiter__()

    @property
    def route(self) -> RouteState:
        """What the router did so far: the deployment answering, parameters it dropped."""
        return self._route

    async def _run(self) -> AsyncIterator[ChatChunk]:
        """One loop per chunk: read the answering attempt's stream (the router's `Answer`)
        within its bounds and the request's deadline, guard (AnswerGuard), account, pass on.
        No generator between the provider's and this one: the router picks the attempt, then
        this loop reads it, and tells the attempt how the reading ended."""
        parts: list[str] = []
        guard = self._guard
        deadline = guard.bounds()  # the request's
        result = self.result
        checkpoints = self._checkpoints
        hit = self._cache.answer if self._cache is not None else None
        answer: Answer | None = None
        upstream: AsyncIterator[ChatChunk] | None = None
        ending: BaseException | None = None
        seen_usage: Usage | None = None  # the upstream's, for the attempt's observation
        seen_finish: str | None = None
        try:
            if hit is not None:
                held: list[ChatChunk] = []
                upstream = _replayed(hit.text, hit.usage, hit.finish_reason)
                bounds = deadline
            else:
                # The usage record's request hash is worked out while the upstream answers:
                # two loop steps on, after the step in which aiohttp's task writes the
                # request this step sends (any wait for a connection is idle time too).
                loop = asyncio.get_running_loop()
                loop.call_soon(loop.call_soon, self._hash_prompt)
                answer = await deadline.wait(
                    self._hub.router.answer(
                        self._model,
                        self.request,
                        max_tokens=self._upstream_max_tokens,
                        state=self._route,
                        api_keys=self._api_keys,
                        needs=self._needs,
                    )
                )
                held = answer.held[::-1]  # what the router read first, taken from the end
                upstream, bounds = answer.upstream, answer.bounds
                bounds.within(deadline)  # one timer and one wait per chunk for both
            # The completion tokens held for the deployment answering: fixed from here on.
            limit = self._completion_held()
            while True:
                if held:
                    chunk = held.pop()
                else:
                    try:
                        chunk = await bounds.next(upstream)
                    except StopAsyncIteration:
                        break
                    except ProviderError as exc:
                        if answer is None:
                            raise
                        if bounds.fired == "outer":  # the request's deadline, not the attempt's
                            ending = asyncio.CancelledError()  # as the attempt sees it
                            raise
                        ending = exc
                        raise await deadline.wait(answer.interrupted(exc)) from exc
                    except BaseException as exc:  # the caller cancelled meanwhile, or a bug
                        ending = exc
                        raise
                usage, choices = chunk.usage, chunk.choices
                if len(choices) == 1 and not choices[0].index:  # nearly every chunk: no calls
                    text, finish = choices[0].text, choices[0].finish_reason
                else:
                    text, finish = chunk.text, chunk.finish_reason
                if usage is not None:
                    seen_usage = usage
                if finish is not None:
                    seen_finish = finish
                if not guard.admits(chunk, limit):  # past what was held:
                    # the hub ends the answer, and the upstream request
                    if answer is not None:
                        answer.abandoned()
                        await answer.finish(GeneratorExit(), seen_usage, seen_finish)
                    else:
                        await _close(upstream)
                    chunk = guard.ending(self._held_usage())
                    usage, finish, choices = chunk.usage, chunk.finish_reason, chunk.choices
                    text = chunk.text
                if usage is not None:
                    result.usage = usage
                if finish is not None:
                    result.finish_reason = finish
                for choice in choices:  # output that is not choice 0's text
                    if choice.refusal or choice.tool_calls or choice.index:
                        other = len(choice.refusal)
                        if choice.tool_calls:
                            other += sum(
                                len(c.arguments) + len(c.name or "") for c in choice.tool_calls
                            )
                        if choice.index:
                            other += len(choice.text)
                        if other:
                            result.other_output_chars += other
                if result.ttft_ms is None and (text or result.has_output):
                    result.ttft_ms = self._elapsed_ms()
                if text:
                    parts.append(text)  # joined once, at the end: long answers stay linear
                    self._seen_chars += len(text)
                if checkpoints.due():
                    checkpoints.saw(
                        self._hold,
                        deployment=self.deployment,
                        chars=self._seen_chars + result.other_output_chars,
                    )
                if text or self._every_chunk:
                    yield chunk
                if guard.cut:
                    break
            if answer is not None:  # it ended as it should (a no-op once the hub cut it)
                try:
                    await deadline.wait(answer.finish(None, seen_usage, seen_finish))
                except ProviderTimeout:
                    # The answer is whole (its last chunk is out): the attempt's end, its
                    # upstream closed and its circuit told (Redis, when shared), ran past the
                    # request's deadline and was stopped there. Not a partial answer. If the
                    # stop came before the attempt was judged (while its upstream closed),
                    # end it as abandoned, so its in-flight count and a half-open probe it
                    # holds are let go (a no-op once judged).
                    answer.abandoned()
                    log.warning(
                        "request %s: the answer was whole; ending its attempt passed the "
                        "request deadline",
                        result.request_id,
                    )
            self._finished = True
        except BaseException as exc:  # the caller left (GeneratorExit), cancelled, an error
            if ending is None:  # not the read's: to the attempt, the caller closed its stream
                cancelled = isinstance(exc, GeneratorExit | asyncio.CancelledError)
                ending = exc if cancelled else GeneratorExit()
            if answer is not None:
                answer.abandoned()  # a no-op once interrupted
            raise
        finally:
            result.text = "".join(parts)
            deadline.close()
            if answer is not None:
                await answer.finish(ending, seen_usage, seen_finish)  # a no-op once finished
            elif upstream is not None:
                await _close(upstream)

    def _hash_prompt(self) -> None:
        if self._prompt_hash is None and not self._exited:
            self._prompt_hash = self._request_hash()

    def _request_hash(self) -> str:
        cache = self._cache
        key = cache.key if cache is not None else None
        return prompt_hash(self.request, alias=self._model.alias, cache_key=key)

    @property
    def prompt_hash(self) -> str | None:
        """The request's hash for its usage record (hub/prompt_hash.py), for the alias that
        answers: known while the upstream answers (None before it is asked, and for good
        when it never is, as on a cache hit: the settlement then works it out for the
        record alone)."""
        return self._prompt_hash

    async def collect(self) -> ChatResult:
        """Drain the stream (for callers that want the whole answer at once)."""
        async for _ in self:
            pass
        return self.result

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._exited:
            return
        self._exited = True
        loop = asyncio.get_running_loop()
        try:
            # With nothing of the upstream's left to close (an answer read to its end, nearly
            # always), classified and its settlement queued here, in this step: the ledger
            # writer takes it in the loop's next step, where `_end`'s task, begun with it,
            # would only have queued it then. Nothing here awaits: no cancellation between.
            classified = self._iterator is None or self._finished
            settling = self._classified_settlement(exc) if classified else None
            ending = loop.create_task(self._end(exc, classified, settling))
            cancelled = False
            if settling is not None:
                cancelled = await self._settled_with_the_end(settling[2])
            cancelled = await outlast(ending) or cancelled
            ending.result()
        finally:
            # The log line and the request's metrics are not part of the answer: they run on
            # the loop's next iteration, after the caller's task has gone on from here to
            # write its reply in this same step (at concurrency 1 they were ~0.15 ms between
            # the durable record and the reply). A callback: it runs whatever happens to the
            # caller, in this context (request id, trace).
            asyncio.get_running_loop().call_soon(self._observed)
        if cancelled and not isinstance(exc, asyncio.CancelledError):
            raise asyncio.CancelledError

    async def _settled_with_the_end(self, attempt: asyncio.Future[Any]) -> bool:
        """Until the settlement's attempt is done (or `settle_wait_s` passed), woken by it
        right after the end's task is, which waits on it too: that task usually ends in the
        same step (what follows the settlement does not wait), and the caller goes on
        there, not a step later from the task's done callback; else it waits for the task
        (`outlast`). One step first, so that the end's task has begun waiting and is woken
        first. True if the caller was cancelled meanwhile (as `outlast`)."""
        cancelled = False
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            cancelled = True
        wait_s = self._hub.settings.ledger.settle_wait_s
        return await outlast_until(attempt, wait_s) or cancelled

    def _observed(self) -> None:
        """The one log line and the request's metrics and trace, once it has ended."""
        try:
            log_chat(self, log)
        finally:
            self._watch.finished(self.result)

    def _classified_settlement(self, exc: BaseException | None) -> Settling | None:
        self._classify(exc)
        return self._settlement_queued() if self._hold is not None else None

    async def _end(
        self, exc: BaseException | None, classified: bool, settling: Settling | None
    ) -> None:
        """Close the upstream, classify, settle: run to the end even if cancelled (`classified`:
        the first two done, and the settlement queued as `settling`, by the caller)."""
        if not classified:
            if self._iterator is not None and not self._finished:
                closer = getattr(self._iterator, "aclose", None)
                if closer is not None:
                    try:
                        await closer()
                    except Exception:  # noqa: BLE001 - closing upstream must not mask `exc`
                        log.debug("closing the upstream stream failed", exc_info=True)
            settling = self._classified_settlement(exc)
        if settling is not None:
            with self._watch.step("settlement"):
                await settle_request(self._hub, *settling, self.result, self._limits)
        if self._cache is not None:
            await self._hub.caching.remember(self._cache, self.result)

    def _classify(self, exc: BaseException | None) -> None:
        deployment = self._route.deployment
        classify(
            self.result,
            exc,
            finished=self._finished,
            deployment=deployment,
            attempts=self._route.attempts,
            latency_ms=self._elapsed_ms(),
            held_usage=self._held_usage,
            completion_held=self._completion_held(),
            prompt_tokens=self._prompt_tokens(deployment),
            metered_tokens=self._guard.meter.tokens,
            prices=self._hub.prices,
            now=self._hub.clock.now(),
            strongest=self._auto.strongest if self._auto is not None else None,
            hit=self._cache.answer if self._cache is not None else None,
            cache_charge=self._hub.settings.cache.charge,
        )

    def _settlement_queued(self) -> Settling:
        """The usage record (hub/chat_settlement), its settlement queued on the ledger writer:
        written before the caller hears the end (`_end` waits for it)."""
        assert self._hold is not None
        hold, self._hold = self._hold, None
        entry = usage_entry(
            self.request,
            self.result,
            first_deployment=self._route.first,
            charged_tokens=self._charged_tokens,
            prompt_hash=self._prompt_hash or self._request_hash(),
        )
        return hold, entry, self._hub.settlements.queue(hold, entry)

    def _completion_held(self) -> int | None:
        """The completion tokens held for the deployment answering (None: nothing held for
        one, as on a cache hit). Asked when the attempt answers and at the end: kept per
        deployment."""
        deployment = self._route.deployment
        if self._sizing is None or deployment is None:
            return None
        known = self._held_for
        if known is not None and known[0] is deployment:
            return known[1]
        held = self._sizing.completion_tokens(deployment, self._cap)
        self._held_for = (deployment, held)
        return held

    def _held_usage(self) -> Usage:
        """The most the hold covers for the deployment answering: what a request is billed
        when its provider's own count cannot be used."""
        deployment = self._route.deployment
        return Usage(
            prompt_tokens=self._prompt_tokens(deployment),
            completion_tokens=self._completion_held() or 0,
        )

    def _prompt_tokens(self, deployment: DeploymentSettings | None) -> int:
        if self._sizing is None or deployment is None:
            return 0
        return self._sizing.prompt_tokens(deployment)

    def _elapsed_ms(self) -> int:
        if not self._started:
            return 0
        return int((self._hub.clock.monotonic() - self._started) * 1000)


async def _close(stream: AsyncIterator[ChatChunk]) -> None:
    closer = getattr(stream, "aclose", None)
    if closer is not None:
        await closer()


async def _replayed(text: str, usage: Usage, finish_reason: str) -> AsyncIterator[ChatChunk]:
    """A cached answer as a stream: its text in pieces, then the usage and the ending."""
    for piece in replay(text):
        yield ChatChunk.delta(piece)
    yield ChatChunk.delta(usage=usage, finish_reason=finish_reason)
