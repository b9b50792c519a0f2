"""The alias that answers is not always the one asked for (#18): a running experiment sends
the request to its variant, an `auto` alias to the tier for the request's complexity, a team
past `downgrade_at_percent` of its budget to `downgrade_to`. Each swap notes on the result
what was asked and why another answered (`requested_alias`, `routed_by`), for the usage
record and the response headers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.config import ModelSettings
from hub.model import ChatRequest, ChatResult
from hub.routing.auto import AutoChoice, choose

if TYPE_CHECKING:
    from hub.service import Hub


async def join_experiment(
    hub: Hub, model: ModelSettings, request: ChatRequest, result: ChatResult
) -> ModelSettings:
    """A running experiment on the alias routes the request to its variant (sticky)."""
    assignment = await hub.experiments.assign(model, request)
    if assignment is None:
        return model
    result.requested_alias, result.alias = result.alias, assignment.model.alias
    result.routed_by = "experiment"
    result.experiment_id, result.variant = assignment.experiment.id, assignment.variant
    return assignment.model


def route_auto(
    hub: Hub, model: ModelSettings, request: ChatRequest, result: ChatResult
) -> AutoChoice | None:
    """An auto alias answers from the tier alias for the request's complexity."""
    choice = choose(hub.router.models, model, request.messages)
    if choice is None:
        return None
    result.requested_alias = result.requested_alias or result.alias
    result.alias, result.routed_by = choice.model.alias, choice.routed_by
    return choice


async def downgrade(
    hub: Hub, model: ModelSettings, request: ChatRequest, result: ChatResult
) -> ModelSettings | None:
    """The `downgrade_to` alias for a team past `downgrade_at_percent` of its monthly
    budget (None: no downgrade), with its one-time notice."""
    team_id = request.caller.team_id
    target = await hub.downgrades.target(hub.router.models, model, team_id)
    if target is None or model.downgrade_at_percent is None:
        return None
    hub.router.check(target, request)
    result.requested_alias = result.requested_alias or result.alias
    result.alias, result.routed_by = target.alias, "downgrade"
    result.notice = hub.downgrades.notice_once(
        team_id, model.alias, target.alias, model.downgrade_at_percent
    )
    return target
