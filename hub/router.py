"""From a model alias to an answer: deployments in order, retries with backoff, fallback.

The order comes from the alias's strategy (hub/routing/strategies.py), over the deployments
that can take the request (hub/routing/capabilities.py) and whose circuits admit traffic
(hub/routing/circuits.py); every attempt is measured (hub/routing/health.py).

Failover happens only before the first chunk reaches the caller. Once text has been passed
on, a failure ends the stream with `StreamInterrupted`: the caller must never mistake half
an answer for a whole one.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hub.clock import Clock
from hub.config import DeploymentSettings, ModelSettings, RouterSettings
from hub.deadlines import Bounds
from hub.errors import (
    ProviderBadRequest,
    ProviderBusy,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    StreamInterrupted,
    UnknownModel,
    UnsupportedParameter,
)
from hub.model import ChatRequest
from hub.observer import NULL_REQUEST, RequestWatch
from hub.providers.base import Provider
from hub.routing.answer import Answer, close_attempt, first_chunks
from hub.routing.capabilities import Needs, capable, needs_of
from hub.routing.circuits import CircuitPolicy, Circuits
from hub.routing.errors import AllCircuitsOpen
from hub.routing.health import Attempt, HealthBoard
from hub.routing.sticky import sticky_identifier
from hub.routing.strategies import OrderInputs, order


@dataclass(slots=True)
class RouteState:
    """What the router did, readable while and after it streams."""

    deployment: DeploymentSettings | None = None
    first: str | None = None  # the label of the first deployment tried (fail-over reports)
    attempts: int = 0
    errors: list[ProviderError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # deployments passed over: open circuits
    watch: RequestWatch = NULL_REQUEST  # hub.observer: told of every attempt
    # Parameters the answering deployment could not honour and left out (drop_params).
    dropped: tuple[str, ...] = ()
    refusals: list[UnsupportedParameter] = field(default_factory=list)


class Router:
    def __init__(
        self,
        *,
        models: Mapping[str, ModelSettings],
        default_alias: str | None,
        providers: Mapping[str, Provider],
        settings: RouterSettings,
        clock: Clock,
        rng: random.Random | None = None,
        health: HealthBoard | None = None,
        circuits: Circuits | None = None,
        cost: Callable[[DeploymentSettings, int, int], int] | None = None,
    ) -> None:
        self._cost = cost  # the price book's, for the cost strategy (catalog-priced deployments)
        self._models = models
        self._default = default_alias
        self._providers = providers
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self.health = health or HealthBoard(
            clock, decay_s=settings.latency_decay_s, window_s=settings.circuit_window_s
        )
        self.circuits = circuits or Circuits(
            clock, CircuitPolicy.from_settings(settings), self.health
        )

    @property
    def max_retries(self) -> int:
        return self._settings.max_retries

    @property
    def aliases(self) -> list[str]:
        return list(self._models)

    def resolve(self, alias: str | None) -> ModelSettings:
        name = alias or self._default
        if name is None or name not in self._models:
            raise UnknownModel(name or "", self.aliases)
        return self._models[name]

    @property
    def models(self) -> Mapping[str, ModelSettings]:
        return self._models

    def drops_params(self, model: ModelSettings) -> bool:
        return self._settings.drop_params if model.drop_params is None else model.drop_params

    def check(self, model: ModelSettings, request: ChatRequest) -> Needs:
        """What the request needs, once some deployment can take it; a 400 naming what is
        missing if none (the needs go on to `answer`, not worked out again)."""
        needs = needs_of(request)
        capable(model, needs)
        return needs

    def plan(
        self, model: ModelSettings, request: ChatRequest, needs: Needs | None = None
    ) -> list[DeploymentSettings]:
        """The deployments to try, in order: capable, admitted by their circuits, ordered by
        the alias's strategy. Every circuit open: a 503 that says which and until when."""
        if needs is None:
            needs = needs_of(request)
        ordered = order(
            model,
            capable(model, needs),
            OrderInputs(
                sticky_id=sticky_identifier(request, model.sticky),
                input_tokens=needs.input_tokens,
                max_tokens=request.options.max_tokens,
                cost=self._cost,
            ),
            health=self.health,
            rng=self._rng,
        )
        admitted = [d for d in ordered if self.circuits.admits(d.label)]
        if not admitted:
            raise self._all_open(model, [d.label for d in ordered])
        return admitted

    def _all_open(self, model: ModelSettings, labels: list[str]) -> AllCircuitsOpen:
        views = [self.circuits.view(label) for label in labels]
        paused = [(v.label, v.until, v.reason) for v in views if v.until is not None]
        return AllCircuitsOpen(
            model.alias,
            [(label, until, reason or "probing") for label, until, reason in paused],
            self.circuits.retry_after(labels),
        )

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; an upstream Retry-After wins within a bound."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._settings.retry_after_max_s)
        ceiling = min(self._settings.backoff_max_s, self._settings.backoff_base_s * 2**attempt)
        return self._rng.uniform(ceiling / 2, ceiling)

    async def answer(
        self,
        model: ModelSettings,
        request: ChatRequest,
        *,
        max_tokens: int | None | Callable[[DeploymentSettings], int | None],
        state: RouteState,
        api_keys: Mapping[str, str] | None = None,
        needs: Needs | None = None,
    ) -> Answer:
        """The attempt that answers, once it sent something worth passing on (`Answer`):
        deployments in order, each retried with backoff, until one does. `needs`: `check`'s,
        for this request (else worked out here)."""
        await self.circuits.start()
        plan = self.plan(model, request, needs)
        for index, deployment in enumerate(plan):
            provider = self._providers[deployment.provider]
            key = (api_keys or {}).get(deployment.provider)
            label = deployment.label
            call = request
            unsupported = provider.unsupported(deployment, request)
            if unsupported and not self.drops_params(model):
                state.refusals.append(
                    UnsupportedParameter(
                        unsupported[0], provider=deployment.provider, alias=model.alias
                    )
                )
                continue  # another deployment may honour it
            if unsupported:
                call = dataclasses.replace(request, drop_unsupported=True)
            if not await self.circuits.acquire(label):
                state.skipped.append(label)
                continue
            limit = max_tokens(deployment) if callable(max_tokens) else max_tokens
            for attempt_number in range(self._settings.max_retries + 1):
                state.attempts += 1
                state.deployment = deployment
                state.first = state.first or label
                state.dropped = tuple(unsupported)
                attempt = self.health.start(label)
                watch = state.watch.attempt(deployment, number=state.attempts, max_tokens=limit)
                upstream = provider.stream(deployment, call, max_tokens=limit, api_key=key)
                bounds = self._bounds(deployment)
                try:
                    with watch.current():  # the upstream request carries this attempt's trace
                        held = await first_chunks(upstream, bounds)
                except ProviderError as exc:
                    await close_attempt(upstream, bounds)
                    state.errors.append(exc)
                    await self._failed(label, attempt, exc, own_key=key is not None)
                    retry = exc.retryable and attempt_number < self._settings.max_retries
                    last = index == len(plan) - 1
                    watch.ended(
                        error=exc, next_step="retry" if retry else "give_up" if last else "fallback"
                    )
                    if not exc.retryable or attempt_number == self._settings.max_retries:
                        break  # next deployment
                    wait = self.backoff(attempt_number, exc.retry_after)
                    paused_until = self.circuits.open_until(label)
                    if paused_until is not None and paused_until > self._wall() + wait:
                        break  # its circuit opened: waiting would not help
                    await self._clock.sleep(wait)
                    if not await self.circuits.acquire(label):
                        break
                    continue
                except BaseException as exc:
                    attempt.abandoned()
                    self.circuits.release(label)
                    await close_attempt(upstream, bounds)
                    watch.ended(error=exc)
                    raise
                attempt.first_token()
                named = next((c.response_names for c in held if any(c.response_names)), None)
                watch.first_chunk(
                    response_id=named[0] if named else None,
                    response_model=named[1] if named else None,
                )
                return Answer(
                    failed=self._failed,
                    circuits=self.circuits,
                    held=held,
                    upstream=upstream,
                    bounds=bounds,
                    label=label,
                    attempt=attempt,
                    watch=watch,
                    state=state,
                    own_key=key is not None,
                )
        if not state.attempts and state.refusals:
            raise state.refusals[0]  # no deployment could take the request as it was
        if not state.attempts:
            raise self._all_open(model, [d.label for d in plan])
        raise _exhausted(model, state)

    def _bounds(self, deployment: DeploymentSettings) -> Bounds:
        """The attempt within `[router] attempt_deadline_s`, and `idle_timeout_s` between
        chunks (hub/deadlines.py); `answer` reads the first chunks within them, ChatStream._run
        the rest (`Bounds.within`)."""

        def expired(why: str) -> ProviderTimeout:
            return ProviderTimeout(
                f"The model provider '{deployment.provider}' took too long to answer ({why}).",
                detail=f"{deployment.label}: attempt ended, {why}",
            )

        return Bounds(
            total_s=self._settings.attempt_deadline_s,
            idle_s=self._settings.idle_timeout_s,
            expired=expired,
        )

    async def _failed(
        self, label: str, attempt: Attempt, error: ProviderError, *, own_key: bool
    ) -> None:
        """Count a failed attempt against the deployment when it says the deployment is in
        trouble (not the request's fault, not a team's own key being rate limited)."""
        trouble = (
            isinstance(error, ProviderUnavailable | StreamInterrupted)
            and not isinstance(error, ProviderBusy)  # full, not failing: the hub's own limit
        ) or (isinstance(error, ProviderRateLimited) and not own_key)
        if not trouble:
            attempt.abandoned()
            self.circuits.release(label)
            return
        attempt.failed(error.code)
        await self.circuits.failed(
            label,
            retry_after=error.retry_after,
            rate_limited=isinstance(error, ProviderRateLimited),
        )

    def _wall(self) -> float:
        return self._clock.now().timestamp()


def _exhausted(model: ModelSettings, state: RouteState) -> ProviderError:
    last = state.errors[-1] if state.errors else ProviderUnavailable()
    if isinstance(last, ProviderBadRequest) and last.upstream is not None:
        last.attempts = state.attempts
        return last  # the caller's mistake, in the upstream's words
    deployments = len(model.deployments)
    where = f"{deployments} deployment{'s' if deployments > 1 else ''}"
    message = (
        f"The model provider for '{model.alias}' is unavailable: tried {state.attempts} "
        f"time{'s' if state.attempts > 1 else ''} across {where}. Please try again in a minute."
    )
    if not last.retryable:
        message = f"{last.user_message} (model '{model.alias}', {state.attempts} attempts)"
    error = type(last)(
        message, detail=last.detail, retry_after=last.retry_after, attempts=state.attempts
    )
    return error
