"""The order in which an alias's deployments are tried, per strategy.

Each strategy orders the deployments that can take the request and whose circuits admit
traffic; the router tries the first, then falls back through the rest (retries, backoff and
"failover only before the first chunk" are the router's, the same for every strategy).

- `priority`: the configured order.
- `weighted`: weighted rendezvous hashing. Each deployment scores `-weight / ln(h)` with `h`
  uniform in (0, 1); the highest score goes first, so deployment i leads with probability
  weight_i / sum(weights), and the fallbacks follow in the same draw. With `sticky`, `h` is a
  hash of the user, thread or team and the deployment: the same identifier keeps its
  deployment, and when that one is unavailable only its own users move.
- `latency`: power of two choices over PeakEWMA cost (TTFT estimate x (in flight + 1)): two
  deployments drawn at random, the cheaper first; the rest by cost.
- `cost`: the cheapest for this request's estimated tokens at each deployment's prices.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.config import DeploymentSettings, ModelSettings
from hub.routing.health import HealthBoard
from hub.routing.sticky import stable_fraction

EXPECTED_OUTPUT_TOKENS = 256  # for `cost` when the request names no max_tokens


@dataclass(frozen=True, slots=True)
class OrderInputs:
    """What a strategy may look at besides the deployments themselves."""

    sticky_id: str | None
    input_tokens: int
    max_tokens: int | None
    # A deployment's cost for (input, output) tokens at the price in force (the price book:
    # hub/billing); None: its own config prices.
    cost: Callable[[DeploymentSettings, int, int], int] | None = None


def weighted_order(
    deployments: Sequence[DeploymentSettings],
    *,
    salt: str,
    sticky_id: str | None,
    rng: random.Random,
) -> list[DeploymentSettings]:
    def score(deployment: DeploymentSettings) -> float:
        if deployment.weight <= 0:
            return -math.inf
        if sticky_id is None:
            h = rng.random()
        else:
            h = stable_fraction(sticky_id, f"{salt}|{deployment.label}")
        h = min(max(h, 1e-300), 1 - 1e-16)  # strictly inside (0, 1)
        return -deployment.weight / math.log(h)

    scored = [(score(d), i, d) for i, d in enumerate(deployments)]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [d for _, _, d in scored]


def latency_order(
    deployments: Sequence[DeploymentSettings], *, health: HealthBoard, rng: random.Random
) -> list[DeploymentSettings]:
    ranked = sorted(enumerate(deployments), key=lambda item: (health.cost(item[1].label), item[0]))
    if len(deployments) < 2:
        return [d for _, d in ranked]
    a, b = rng.sample(range(len(deployments)), 2)
    first = min((deployments[a], deployments[b]), key=lambda d: health.cost(d.label))
    return [first, *(d for _, d in ranked if d is not first)]


def cost_order(
    deployments: Sequence[DeploymentSettings],
    *,
    input_tokens: int,
    max_tokens: int | None,
    cost: Callable[[DeploymentSettings, int, int], int] | None = None,
) -> list[DeploymentSettings]:
    output = max_tokens or EXPECTED_OUTPUT_TOKENS
    price = cost or (lambda d, i, o: d.cost_micros(i, o))
    ranked = sorted(
        enumerate(deployments),
        key=lambda item: (price(item[1], input_tokens, output), item[0]),
    )
    return [d for _, d in ranked]


def order(
    model: ModelSettings,
    deployments: Sequence[DeploymentSettings],
    inputs: OrderInputs,
    *,
    health: HealthBoard,
    rng: random.Random,
) -> list[DeploymentSettings]:
    if model.strategy == "weighted":
        return weighted_order(deployments, salt=model.alias, sticky_id=inputs.sticky_id, rng=rng)
    if model.strategy == "latency":
        return latency_order(deployments, health=health, rng=rng)
    if model.strategy == "cost":
        return cost_order(
            deployments,
            input_tokens=inputs.input_tokens,
            max_tokens=inputs.max_tokens,
            cost=inputs.cost,
        )
    return list(deployments)
