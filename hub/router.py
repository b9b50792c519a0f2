"""From a model alias to an answer: deployments in order, retries with backoff, fallback.

Failover happens only before the first chunk reaches the caller. Once text has been passed
on, a failure ends the stream with `StreamInterrupted`: the caller must never mistake half
an answer for a whole one.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from hub.clock import Clock
from hub.config import DeploymentSettings, ModelSettings, RouterSettings
from hub.errors import ProviderError, ProviderUnavailable, StreamInterrupted, UnknownModel
from hub.model import ChatChunk, ChatRequest
from hub.providers.base import Provider


@dataclass(slots=True)
class RouteState:
    """What the router did, readable while and after it streams."""

    deployment: DeploymentSettings | None = None
    attempts: int = 0
    errors: list[ProviderError] = field(default_factory=list)


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
    ) -> None:
        self._models = models
        self._default = default_alias
        self._providers = providers
        self._settings = settings
        self._clock = clock
        self._rng = rng or random.Random()

    @property
    def aliases(self) -> list[str]:
        return list(self._models)

    def resolve(self, alias: str | None) -> ModelSettings:
        name = alias or self._default
        if name is None or name not in self._models:
            raise UnknownModel(name or "", self.aliases)
        return self._models[name]

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; an upstream Retry-After wins within a bound."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._settings.retry_after_max_s)
        ceiling = min(self._settings.backoff_max_s, self._settings.backoff_base_s * 2**attempt)
        return self._rng.uniform(ceiling / 2, ceiling)

    async def stream(
        self,
        model: ModelSettings,
        request: ChatRequest,
        *,
        max_tokens: int,
        state: RouteState,
        api_keys: Mapping[str, str] | None = None,
    ) -> AsyncIterator[ChatChunk]:
        for deployment in model.deployments:
            provider = self._providers[deployment.provider]
            key = (api_keys or {}).get(deployment.provider)
            for attempt in range(self._settings.max_retries + 1):
                state.attempts += 1
                state.deployment = deployment
                upstream = provider.stream(deployment, request, max_tokens=max_tokens, api_key=key)
                try:
                    held = await _first_chunks(upstream)
                except ProviderError as exc:
                    await _close(upstream)
                    state.errors.append(exc)
                    if not exc.retryable or attempt == self._settings.max_retries:
                        break  # next deployment
                    await self._clock.sleep(self.backoff(attempt, exc.retry_after))
                    continue
                except BaseException:
                    await _close(upstream)
                    raise
                try:
                    for chunk in held:
                        yield chunk
                    async for chunk in upstream:
                        yield chunk
                except ProviderError as exc:
                    state.errors.append(exc)
                    raise StreamInterrupted(
                        "The answer was cut off because the model provider failed mid-stream; "
                        "the text above is incomplete.",
                        detail=exc.detail,
                        attempts=state.attempts,
                    ) from exc
                finally:
                    await _close(upstream)
                return
        raise _exhausted(model, state)


async def _first_chunks(upstream: AsyncIterator[ChatChunk]) -> list[ChatChunk]:
    """Read until something worth passing on (text, usage or an end) arrives."""
    held: list[ChatChunk] = []
    async for chunk in upstream:
        held.append(chunk)
        if chunk.text or chunk.usage is not None or chunk.finish_reason is not None:
            break
    return held


async def _close(upstream: AsyncIterator[ChatChunk]) -> None:
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()


def _exhausted(model: ModelSettings, state: RouteState) -> ProviderError:
    last = state.errors[-1] if state.errors else ProviderUnavailable()
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
