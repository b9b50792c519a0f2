"""How much a request holds, and whether the hub must cap its answer.

A request may be answered by any deployment of its alias, so it holds the dearest of them:
for each, the prompt's upper bound (hub/ledger/estimate.py) plus its completion bound, which
is the client's max_tokens (max_completion_tokens) when given, else the deployment's
`max_output_tokens`, times the choices asked for (`n`). When the budget or quota left cannot
cover that, the answer is capped to the largest per-choice limit that fits, and that limit
is sent upstream; a request is refused only when not even `[ledger] min_answer_tokens` fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from hub.billing.token_prices import UnitPrices
from hub.config import DeploymentSettings, ProviderSettings
from hub.ledger.estimate import prompt_bound
from hub.ledger.room import Room
from hub.model import ChatRequest


@dataclass(frozen=True, slots=True)
class Ask:
    """What to hold: cost and tokens; `cap` the per-choice answer limit the hub imposes."""

    cost_micros: int
    tokens: int
    cap: int | None = None


@dataclass(frozen=True, slots=True)
class DeploymentBound:
    deployment: DeploymentSettings
    prices: UnitPrices
    prompt_tokens: int
    output_tokens: int  # per choice, when the hub caps nothing


class AnswerSizing:
    def __init__(
        self,
        bounds: Sequence[DeploymentBound],
        *,
        choices: int,
        client_max: int | None,
        min_answer: int,
    ) -> None:
        self._bounds = {b.deployment.label: b for b in bounds}
        self._choices = max(1, choices)
        self._client_max = client_max
        self._min_answer = min_answer

    @classmethod
    def of(
        cls,
        request: ChatRequest,
        deployments: Sequence[DeploymentSettings],
        *,
        providers: Mapping[str, ProviderSettings],
        prices: Callable[[DeploymentSettings, datetime], UnitPrices],
        at: datetime,
        min_answer: int,
    ) -> AnswerSizing:
        client_max = request.options.max_tokens
        bounds = []
        for deployment in deployments:
            provider = providers.get(deployment.provider)
            kind = provider.type if provider is not None else None
            bounds.append(
                DeploymentBound(
                    deployment=deployment,
                    prices=prices(deployment, at),
                    prompt_tokens=prompt_bound(request, provider_type=kind, model=deployment.model),
                    output_tokens=client_max or deployment.output_limit(kind or "openai"),
                )
            )
        return cls(
            bounds, choices=request.params.choices, client_max=client_max, min_answer=min_answer
        )

    def _bound(self, deployment: DeploymentSettings) -> DeploymentBound:
        return self._bounds[deployment.label]

    def per_choice(self, bound: DeploymentBound, cap: int | None) -> int:
        return bound.output_tokens if cap is None else min(cap, bound.output_tokens)

    def ask(self, cap: int | None = None) -> Ask:
        cost = tokens = 0
        for bound in self._bounds.values():
            completion = self.per_choice(bound, cap) * self._choices
            cost = max(cost, bound.prices.worst_case(bound.prompt_tokens, completion))
            tokens = max(tokens, bound.prompt_tokens + completion)
        return Ask(cost_micros=cost, tokens=tokens, cap=cap)

    def fitting(self, room: Room) -> Ask:
        """The largest answer that fits `room`, capped; at least `min_answer` tokens (which
        the budget then refuses, naming what the smallest answer would cost)."""
        longest = max((b.output_tokens for b in self._bounds.values()), default=1)
        low = min(self._min_answer, longest)
        if not self._fits(room, low):
            return self.ask(low)
        high = longest
        while low < high:  # the largest cap that fits: the ask grows with the cap
            middle = (low + high + 1) // 2
            if self._fits(room, middle):
                low = middle
            else:
                high = middle - 1
        return self.ask(None if low >= longest else low)

    def _fits(self, room: Room, cap: int) -> bool:
        ask = self.ask(cap)
        return room.fits(cost_micros=ask.cost_micros, tokens=ask.tokens)

    def largest_prompt_tokens(self) -> int:
        return max((b.prompt_tokens for b in self._bounds.values()), default=0)

    def prompt_tokens(self, deployment: DeploymentSettings) -> int:
        return self._bound(deployment).prompt_tokens

    def completion_tokens(self, deployment: DeploymentSettings, cap: int | None) -> int:
        """The completion tokens held for `deployment` (all choices)."""
        return self.per_choice(self._bound(deployment), cap) * self._choices

    def upstream_max_tokens(self, deployment: DeploymentSettings, cap: int | None) -> int | None:
        """The limit to send: the client's own, or the hub's cap where it is below what the
        deployment would otherwise be allowed; None sends none (Anthropic then sends the
        deployment's max_output_tokens, as it must send one)."""
        bound = self._bound(deployment)
        if cap is not None and cap < bound.output_tokens:
            return cap
        return self._client_max
