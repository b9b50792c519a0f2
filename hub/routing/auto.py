"""`strategy = "auto"`: an auto alias answers from the alias its `tiers` name for the request's
complexity (hub/routing/complexity.py, deterministic, no API call).

The optional `classifier` alias is accepted by the configuration but not called: the
deterministic classifier always decides (no added latency or cost per request).

The usage record says `routed_by = "auto:<tier>"`, `requested_alias = <the auto alias>`, and
`counterfactual_micros`: the same usage priced at the first deployment of the strongest
configured tier, so savings are a ledger query (sum of counterfactual minus cost).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.config.models import DeploymentSettings, ModelSettings
from hub.model import Message
from hub.routing.complexity import classify, configured_tier, strongest_tier


@dataclass(frozen=True, slots=True)
class AutoChoice:
    model: ModelSettings  # the tier's alias, which answers
    tier: str
    strongest: DeploymentSettings | None  # priced for the counterfactual cost

    @property
    def routed_by(self) -> str:
        return f"auto:{self.tier}"


def choose(
    models: Mapping[str, ModelSettings], model: ModelSettings, messages: Sequence[Message]
) -> AutoChoice | None:
    """The tier alias an auto alias routes `messages` to; None for any other strategy."""
    if model.strategy != "auto" or not model.tiers:
        return None
    tiers = dict(model.tiers)
    tier = configured_tier(classify(messages).tier, list(tiers))
    strong = models[tiers[strongest_tier(list(tiers))]]
    return AutoChoice(
        model=models[tiers[tier]],
        tier=tier,
        strongest=strong.deployments[0] if strong.deployments else None,
    )
