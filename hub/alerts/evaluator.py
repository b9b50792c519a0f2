"""The alert job: every `EVERY_S` seconds each process's scheduler fires it and one process
(hub.jobs.claim) evaluates every rule, fires new incidents, resolves finished ones and tells
their teams.

    evaluator = AlertEvaluator(hub)
    await evaluator.tick()          # the scheduled job: claims the period, then evaluates
    await evaluator.evaluate()      # evaluate now (`hub alert check`), incidents still once
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from hub.alerts.conditions import Finding, findings
from hub.alerts.delivery import deliver
from hub.alerts.incidents import Incidents, Transition
from hub.config.alerts import AlertRule

if TYPE_CHECKING:
    from hub.service import Hub

log = logging.getLogger("hub.alerts")
EVERY_S = 30
JOB = "alerts-evaluate"


def period_of(now: datetime, every_s: int = EVERY_S) -> str:
    stamp = int(now.timestamp()) // every_s * every_s
    return datetime.fromtimestamp(stamp, tz=now.tzinfo).isoformat()


class AlertEvaluator:
    def __init__(self, hub: Hub, rules: tuple[AlertRule, ...] | None = None) -> None:
        self._hub = hub
        self.rules = hub.settings.alerts if rules is None else rules
        self.incidents = Incidents(hub.sessions)

    async def tick(self) -> list[Transition]:
        if not self.rules:
            return []
        now = self._hub.clock.now()
        if not await self._hub.jobs.claim(JOB, period=period_of(now)):
            return []  # another process evaluates this period
        return await self.evaluate()

    async def check(self, rule: AlertRule) -> list[Finding]:
        hub = self._hub
        circuits = {s.label: s.circuit.state for s in hub.deployment_status()}
        async with hub.sessions() as session:
            return await findings(session, rule, now=hub.clock.now(), circuits=circuits)

    async def evaluate(self) -> list[Transition]:
        # Attempts this process saw since its last flush count too.
        await self._hub.observability.flush_health()
        transitions: list[Transition] = []
        for rule in self.rules:
            try:
                found = await self.check(rule)
                changed = await self.incidents.apply(rule, found, now=self._hub.clock.now())
            except Exception:  # noqa: BLE001 - one broken rule must not silence the others
                log.exception("evaluating alert %s failed", rule.name)
                continue
            for transition in changed:
                log.warning(
                    "alert %s %s: %s",
                    rule.name,
                    transition.state,
                    transition.summary,
                    extra={
                        "fields": {"event": transition.event_type, "subject": transition.subject}
                    },
                )
                try:
                    await deliver(self._hub, transition)
                except Exception:  # noqa: BLE001 - the incident stands; delivery is logged
                    log.exception("delivering alert %s failed", rule.name)
            transitions += changed
        return transitions
