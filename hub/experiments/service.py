"""`hub.experiments`: create, start, stop and list experiments, and assign requests to a
running experiment's variants (the router's side of it, read on every request).

Running experiments are read from the database at most every 5 seconds per process (one query
for all of them), so an experiment started or stopped from the command line reaches every
`hub serve` within that time; this process's own changes apply at once.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub import audit
from hub.clock import Clock
from hub.config import ModelSettings
from hub.errors import BadRequest, NotFound
from hub.experiments.plan import (
    STICKY_CHOICES,
    Experiment,
    check_name,
    find_deployment,
    parse_variants,
    variants_from_json,
    variants_json,
)
from hub.experiments.report import ExperimentReport, build_report
from hub.model import ChatRequest
from hub.routing.settings import Sticky
from hub.store.routing_tables import Experiment as ExperimentRow
from hub.ttl_cache import TTLCache

RUNNING_TTL_S = 5.0
log = logging.getLogger("hub.experiments")


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where a request to an experiment's alias goes: the model settings to route with."""

    experiment: Experiment
    variant: str
    model: ModelSettings


class Experiments:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        models: Mapping[str, ModelSettings],
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._models = models
        self._rng = rng or random.Random()
        self._running: TTLCache[str, dict[str, Experiment]] = TTLCache(clock, RUNNING_TTL_S)

    async def create(
        self,
        name: str,
        *,
        alias: str,
        variants: list[str],
        split: str | None = None,
        sticky: str = "user",
    ) -> Experiment:
        check_name(name)
        if alias not in self._models:
            raise NotFound(f"No model alias '{alias}'. Aliases: {', '.join(self._models)}.")
        if sticky not in STICKY_CHOICES:
            raise BadRequest(f"--sticky must be one of {', '.join(STICKY_CHOICES)}.")
        parsed = parse_variants(variants, split, self._models)
        now = self._clock.now()
        row = ExperimentRow(
            name=name,
            alias=alias,
            variants=variants_json(parsed),
            sticky=sticky,
            status="draft",
            created_at=now,
            runs=0,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                raise BadRequest(f"An experiment named '{name}' exists already.") from exc
            await audit.record(
                session,
                now=now,
                action="experiment.create",
                team_id=None,
                target=name,
                after=_state(row),
            )
        return _experiment(row)

    async def get(self, name: str) -> Experiment:
        async with self._sessions() as session:
            return _experiment(await _row(session, name))

    async def list(self) -> list[Experiment]:
        async with self._sessions() as session:
            rows = await session.scalars(select(ExperimentRow).order_by(ExperimentRow.id))
            return [_experiment(r) for r in rows]

    async def start(self, name: str) -> Experiment:
        """Run it: requests to its alias are assigned from now on. One per alias at a time."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await _row(session, name)
            if row.status == "running":
                raise BadRequest(f"Experiment '{name}' is running already.")
            other = await session.scalar(
                select(ExperimentRow.name).where(
                    ExperimentRow.alias == row.alias, ExperimentRow.status == "running"
                )
            )
            if other is not None:
                raise BadRequest(
                    f"Experiment '{other}' is running on alias '{row.alias}': stop it first."
                )
            before = _state(row)
            row.status, row.started_at, row.stopped_at = "running", now, None
            row.runs += 1
            await audit.record(
                session,
                now=now,
                action="experiment.start",
                team_id=None,
                target=name,
                before=before,
                after=_state(row),
            )
        self._running.invalidate()
        return _experiment(row)

    async def stop(self, name: str) -> Experiment:
        """Stop assigning; the alias routes as configured again. The report stays."""
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await _row(session, name)
            if row.status != "running":
                raise BadRequest(f"Experiment '{name}' is not running ({row.status}).")
            before = _state(row)
            row.status, row.stopped_at = "stopped", now
            await audit.record(
                session,
                now=now,
                action="experiment.stop",
                team_id=None,
                target=name,
                before=before,
                after=_state(row),
            )
        self._running.invalidate()
        return _experiment(row)

    async def report(self, name: str) -> ExperimentReport:
        """Each metric per variant with its interval, and what is significant so far."""
        return await build_report(self._sessions, await self.get(name))

    async def assign(self, model: ModelSettings, request: ChatRequest) -> Assignment | None:
        """The variant of the experiment running on `model`'s alias, if one is."""
        running = await self._running.get("all", self._load_running)
        experiment = running.get(model.alias)
        if experiment is None:
            return None
        variant = experiment.choose(request, self._rng)
        chosen = self._variant_model(model, variant.target)
        if chosen is None:  # the config changed since the experiment was created
            log.warning(
                "experiment %s: variant %s names %r, which is no longer configured; "
                "routing the request as the alias says",
                experiment.name,
                variant.name,
                variant.target,
            )
            return None
        return Assignment(experiment, variant.name, chosen)

    def _variant_model(self, model: ModelSettings, target: str) -> ModelSettings | None:
        if target in self._models:
            return self._models[target]
        deployment = find_deployment(target, self._models)
        if deployment is None:
            return None
        # The alias's own settings (cache, show_model), answered by this deployment only.
        return model.model_copy(
            update={"deployments": (deployment,), "strategy": "priority", "tiers": ()}
        )

    async def _load_running(self) -> dict[str, Experiment]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ExperimentRow).where(ExperimentRow.status == "running")
            )
            return {r.alias: _experiment(r) for r in rows}


async def _row(session: AsyncSession, name: str) -> ExperimentRow:
    row = await session.scalar(select(ExperimentRow).where(ExperimentRow.name == name))
    if row is None:
        raise NotFound(f"No experiment named '{name}'.")
    return row


def _experiment(row: ExperimentRow) -> Experiment:
    sticky: Sticky = row.sticky  # type: ignore[assignment]  # checked on create
    return Experiment(
        id=row.id,
        name=row.name,
        alias=row.alias,
        variants=variants_from_json(row.variants),
        sticky=sticky,
        status=row.status,  # type: ignore[arg-type]
        created_at=row.created_at,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
    )


def _state(row: ExperimentRow) -> dict[str, object]:
    return {
        "alias": row.alias,
        "variants": row.variants,
        "sticky": row.sticky,
        "status": row.status,
    }
