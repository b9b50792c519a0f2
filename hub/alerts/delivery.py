"""Telling people: each fired or resolved incident goes to the rule's teams, as a message in
their Slack or Discord notice channel (hub.notices) and as an `alert.fired`/`alert.resolved`
event to their subscriptions (the outbox, signed and retried like every event)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from hub.alerts.incidents import Transition
from hub.store.ledger_tables import Team

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.alerts")


def team_names(transition: Transition) -> tuple[str, ...]:
    rule = transition.rule
    if rule.teams:
        return rule.teams
    if rule.kind == "budget":  # the team concerned: the subject starts with its name
        return (transition.subject.split(":", 1)[0],)
    return ()


async def deliver(hub: Hub, transition: Transition) -> None:
    names = team_names(transition)
    async with hub.sessions() as session:
        teams = list(await session.execute(select(Team.id, Team.name).where(Team.name.in_(names))))
    missing = set(names) - {name for _, name in teams}
    if missing:
        log.warning("alert %s names unknown team(s): %s", transition.rule.name, sorted(missing))
    for team_id, _ in teams:
        if "events" in transition.rule.targets:
            async with hub.sessions.begin() as session:
                await hub.events.emit(
                    session,
                    team_id=team_id,
                    type=transition.event_type,
                    data=transition.event_data(),
                )
        if "notice" in transition.rule.targets:
            await hub.notices.post(team_id, [transition.text()], what="alert")
