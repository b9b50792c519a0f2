"""One embeddings call, through the same ledger path as a chat: admission (member, role, rate
limits), a reservation of the worst case, the call (deployments in order, retries), and
exactly one usage record when it ends, however it ends.

    result = await hub.embed(EmbeddingRequest(caller=..., origin=..., model="emb", body={...}))
    result.payload                       # the upstream's object, `model` shown as the alias

OpenAI-compatible deployments only: the client's body goes upstream with `model` replaced.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.chat_stream import new_request_id
from hub.errors import HubError, ProviderError, ProviderUnavailable, UnsupportedParameter
from hub.ledger.recovery import HoldContext
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, ChatRequest, Origin, Usage

if TYPE_CHECKING:
    from hub.config import DeploymentSettings, ModelSettings
    from hub.service import Hub

log = logging.getLogger("hub.embeddings")


@dataclass(frozen=True, slots=True)
class EmbeddingRequest:
    caller: Caller
    origin: Origin
    model: str  # alias
    body: Mapping[str, Any]  # the client's OpenAI embeddings body


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    request_id: str
    payload: dict[str, Any]
    usage: Usage
    cost_micros: int
    deployment: str


def estimate_input_tokens(value: Any) -> int:
    """Generous: about 3 characters a token for text, one per given token id."""
    if isinstance(value, str):
        return len(value) // 3 + 1
    if isinstance(value, list):
        if all(isinstance(v, int) for v in value):
            return len(value)
        return sum(estimate_input_tokens(v) for v in value)
    return 1


class EmbeddingCall:
    def __init__(self, hub: Hub, request: EmbeddingRequest) -> None:
        self._hub = hub
        self.request = request
        self._model: ModelSettings = hub.router.resolve(request.model)
        self.request_id = new_request_id().replace("chatcmpl-", "emb-")

    async def run(self) -> EmbeddingResult:
        hub, request = self._hub, self.request
        admitted = await hub.admission.admit(
            ChatRequest(caller=request.caller, origin=request.origin, messages=())
        )
        caller = admitted.caller
        api_keys = await hub.provider_keys.for_team(caller.team_id)
        estimate = estimate_input_tokens(request.body.get("input"))
        worst = max(d.cost_micros(estimate, 0) for d in self._model.deployments)
        # Its own request context: should this process die, the lease recovery records it.
        context = HoldContext(self.request_id, caller, request.origin, self._model.alias, estimate)
        hold = await hub.budget.reserve(caller, cost_micros=worst, tokens=estimate, context=context)
        started = hub.clock.monotonic()
        outcome: EmbeddingResult | None = None
        error: BaseException | None = None
        used: DeploymentSettings | None = None
        try:
            outcome, used = await self._call(api_keys)
            return outcome
        except BaseException as exc:
            error = exc
            raise
        finally:
            entry = UsageEntry(
                request_id=self.request_id,
                caller=caller,
                origin=request.origin,
                alias=self._model.alias,
                deployment=used.label if used else None,
                usage=outcome.usage if outcome else Usage(),
                cost_micros=outcome.cost_micros if outcome else 0,
                latency_ms=int((hub.clock.monotonic() - started) * 1000),
                ttft_ms=None,
                status="ok" if outcome else _status(error),
                error_code=getattr(error, "code", type(error).__name__) if error else None,
            )
            await asyncio.shield(self._settle(hold, entry, admitted.limits))

    async def _settle(self, hold: Any, entry: UsageEntry, limits: Any) -> None:
        # Retried, and journaled if the database is away (hub/ledger/settlements.py).
        settlement = await self._hub.settlements.settle(hold, entry)
        if settlement is not None:
            self._hub.notices.budget_crossed(entry.caller.team_id, settlement.thresholds)
        try:
            await self._hub.rate_limits.charge_tokens(limits, entry.usage.total_tokens)
        except Exception:  # noqa: BLE001 - the call is done and paid; say so and move on
            log.warning("could not charge tokens to the rate limiter", exc_info=True)

    async def _call(
        self, api_keys: Mapping[str, str]
    ) -> tuple[EmbeddingResult, DeploymentSettings]:
        router = self._hub.router
        errors: list[HubError] = []
        for deployment in self._model.deployments:
            provider = self._hub.providers[deployment.provider]
            post_json = getattr(provider, "post_json", None)
            if post_json is None:
                errors.append(
                    UnsupportedParameter(
                        "model",
                        provider=deployment.provider,
                        alias=self._model.alias,
                        why="it serves no embeddings",
                    )
                )
                continue
            body = {**self.request.body, "model": deployment.model}
            for attempt in range(router.max_retries + 1):
                try:
                    payload, _ = await post_json(
                        "/embeddings", body, api_key=api_keys.get(deployment.provider)
                    )
                except ProviderError as exc:
                    errors.append(exc)
                    if not exc.retryable or attempt == router.max_retries:
                        break
                    await self._hub.clock.sleep(router.backoff(attempt, exc.retry_after))
                    continue
                return self._result(payload, deployment), deployment
        raise errors[-1] if errors else ProviderUnavailable()

    def _result(self, payload: dict[str, Any], deployment: DeploymentSettings) -> EmbeddingResult:
        raw = payload.get("usage")
        raw = raw if isinstance(raw, dict) else {}
        tokens = raw.get("prompt_tokens", raw.get("total_tokens"))
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
            tokens = estimate_input_tokens(self.request.body.get("input"))  # not reported
        usage = Usage(prompt_tokens=tokens)
        return EmbeddingResult(
            request_id=self.request_id,
            payload={**payload, "model": self._model.alias},
            usage=usage,
            cost_micros=deployment.cost_of(usage),
            deployment=deployment.label,
        )


def _status(error: BaseException | None) -> str:
    return "error" if isinstance(error, HubError | Exception) else "cancelled"
