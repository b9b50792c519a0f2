"""Incidents: a rule's subject in trouble, from the evaluation that found it to the one that
no longer does. Fired once and resolved once, whichever process evaluates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.alerts.conditions import Finding
from hub.config.alerts import AlertRule
from hub.store.observability_tables import AlertIncident


@dataclass(frozen=True, slots=True)
class Transition:
    rule: AlertRule
    state: str  # "fired" | "resolved"
    subject: str
    summary: str
    incident_id: int
    fired_at: datetime

    @property
    def event_type(self) -> str:
        return f"alert.{self.state}"

    def text(self) -> str:
        if self.state == "fired":
            return f"[{self.rule.severity.upper()}] Alert '{self.rule.name}': {self.summary}"
        return f"[RESOLVED] Alert '{self.rule.name}' ({self.subject}): {self.summary}"

    def event_data(self) -> dict[str, object]:
        return {
            "alert": self.rule.name,
            "kind": self.rule.kind,
            "severity": self.rule.severity,
            "state": self.state,
            "subject": self.subject,
            "summary": self.summary,
            "incident_id": self.incident_id,
            "fired_at": self.fired_at.isoformat(),
        }


class Incidents:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open(self, rule: str | None = None) -> list[AlertIncident]:
        query = select(AlertIncident).where(AlertIncident.open.is_not(None))
        if rule is not None:
            query = query.where(AlertIncident.rule == rule)
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(AlertIncident.id)))

    async def history(self, *, limit: int = 50) -> list[AlertIncident]:
        async with self._sessions() as session:
            return list(
                await session.scalars(
                    select(AlertIncident).order_by(AlertIncident.id.desc()).limit(limit)
                )
            )

    async def apply(
        self, rule: AlertRule, found: Sequence[Finding], *, now: datetime
    ) -> list[Transition]:
        """Fire what is newly in trouble, resolve what no longer is."""
        current = {f.subject: f for f in found}
        transitions: list[Transition] = []
        known = {i.subject: i for i in await self.open(rule.name)}
        for subject, finding in current.items():
            if subject in known:
                continue
            incident = AlertIncident(
                rule=rule.name,
                subject=subject,
                severity=rule.severity,
                summary=finding.summary,
                fired_at=now,
                open=1,
            )
            try:
                async with self._sessions.begin() as session:
                    session.add(incident)
            except IntegrityError:
                continue  # another process fired it a moment ago
            transitions.append(
                Transition(rule, "fired", subject, finding.summary, incident.id, now)
            )
        for subject, incident in known.items():
            if subject in current:
                continue
            async with self._sessions.begin() as session:
                done = await session.execute(
                    update(AlertIncident)
                    .where(AlertIncident.id == incident.id, AlertIncident.open.is_not(None))
                    .values(open=None, resolved_at=now)
                )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another process resolved it
            summary = f"back to normal after {_lasted(incident.fired_at, now)}."
            transitions.append(
                Transition(rule, "resolved", subject, summary, incident.id, incident.fired_at)
            )
        return transitions


def _lasted(start: datetime, end: datetime) -> str:
    seconds = int((end - start).total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"
