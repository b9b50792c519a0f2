"""The price catalog in the database: versions of each model's prices with an effective date.

`hub prices import FILE [--effective DATE]` adds a version for every model whose prices
changed; the shipped snapshot (`hub/billing/model_prices.json`, package data) is synced the
same way at start-up, but never over a price an operator imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.billing.litellm_prices import CatalogEntry, read_price_list
from hub.billing.token_prices import UnitPrices
from hub.clock import Clock
from hub.store.billing_tables import ModelPrice
from hub.store.engine import dialect_name

SNAPSHOT_SOURCE = "snapshot"
# The shipped snapshot's first versions are in force for everything recorded before them.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PriceVersion:
    model: str
    effective_from: datetime
    prices: UnitPrices
    source: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    read: int
    added: int
    unchanged: int


def _version(row: ModelPrice) -> PriceVersion:
    return PriceVersion(
        model=row.model,
        effective_from=row.effective_from,
        prices=UnitPrices(
            input=row.input_micros_per_mtok,
            output=row.output_micros_per_mtok,
            cached_input=row.cached_input_micros_per_mtok,
            cache_write=row.cache_write_micros_per_mtok,
        ),
        source=row.source,
    )


class PriceCatalog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def versions(self, model: str | None = None) -> list[PriceVersion]:
        query = select(ModelPrice).order_by(ModelPrice.model, ModelPrice.effective_from)
        if model is not None:
            query = query.where(ModelPrice.model == model)
        async with self._sessions() as session:
            return [_version(row) for row in await session.scalars(query)]

    async def import_file(
        self, path: Path, *, effective_from: datetime | None = None
    ) -> ImportReport:
        entries = read_price_list(path)
        return await self.add(
            entries, effective_from=effective_from or self._clock.now(), source=path.name
        )

    async def add(
        self, entries: Sequence[CatalogEntry], *, effective_from: datetime, source: str
    ) -> ImportReport:
        """A new version for each entry whose prices differ from the version in force at
        `effective_from`; the same prices again add nothing."""
        added = 0
        async with self._sessions.begin() as session:
            for entry in entries:
                current = await _in_force(session, entry.model, effective_from)
                if current is not None and _version(current).prices == entry.prices:
                    continue
                existing = await session.scalar(
                    select(ModelPrice).where(
                        ModelPrice.model == entry.model,
                        ModelPrice.effective_from == effective_from,
                    )
                )
                row = existing or ModelPrice(model=entry.model, effective_from=effective_from)
                _fill(row, entry, source=source, now=self._clock.now())
                if existing is None:
                    session.add(row)
                added += 1
        return ImportReport(read=len(entries), added=added, unchanged=len(entries) - added)

    async def sync_snapshot(self, entries: Sequence[CatalogEntry]) -> int:
        """Bring the shipped snapshot in: a model never seen starts from the beginning of
        time; a model whose latest version came from the snapshot gets the new snapshot's
        prices from now on; a model an operator imported is left alone."""
        now = self._clock.now()
        added = 0
        async with self._sessions.begin() as session:
            latest: dict[str, ModelPrice] = {}
            rows = await session.scalars(select(ModelPrice).order_by(ModelPrice.effective_from))
            for row in rows:
                latest[row.model] = row
            for entry in entries:
                last = latest.get(entry.model)
                if last is None:
                    fresh = ModelPrice(model=entry.model, effective_from=BEGINNING)
                elif last.source == SNAPSHOT_SOURCE and _version(last).prices != entry.prices:
                    fresh = ModelPrice(model=entry.model, effective_from=now)
                else:
                    continue
                _fill(fresh, entry, source=SNAPSHOT_SOURCE, now=now)
                # Another process syncing the same snapshot at once inserts the same row.
                values = {
                    c.key: getattr(fresh, c.key)
                    for c in ModelPrice.__table__.columns
                    if c.key != "id"
                }
                result = await session.execute(
                    _insert(session)(ModelPrice).values(**values).on_conflict_do_nothing()
                )
                added += result.rowcount or 0  # type: ignore[attr-defined]
        return added


def _insert(session: AsyncSession) -> Any:
    return pg_insert if dialect_name(session) == "postgresql" else sqlite_insert


async def _in_force(session: AsyncSession, model: str, at: datetime) -> ModelPrice | None:
    return await session.scalar(
        select(ModelPrice)
        .where(ModelPrice.model == model, ModelPrice.effective_from <= at)
        .order_by(ModelPrice.effective_from.desc())
        .limit(1)
    )


def _fill(row: ModelPrice, entry: CatalogEntry, *, source: str, now: datetime) -> None:
    row.provider = entry.provider
    row.input_micros_per_mtok = entry.prices.input
    row.output_micros_per_mtok = entry.prices.output
    row.cached_input_micros_per_mtok = entry.prices.cached_input
    row.cache_write_micros_per_mtok = entry.prices.cache_write
    row.max_input_tokens = entry.max_input_tokens
    row.max_output_tokens = entry.max_output_tokens
    row.source = source
    row.imported_at = now
