"""Saved views ("custom dashboards"): a team's usage explorer queries under names.

A view is the explorer's URL query, so opening it is following a link and it shows the same
rows as the explorer always does. Saving under a taken name replaces that view. Saving and
deleting are audited (`view.save`, `view.delete`) with the acting viewer as the actor.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.audit import current_actor, record
from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.store.view_tables import SavedView as SavedViewRow

MAX_NAME = 100
MAX_QUERY = 2000
MAX_VIEWS = 200  # per team: a list people read, not a store


@dataclass(frozen=True, slots=True)
class SavedView:
    id: int
    team_id: int
    name: str
    query: str  # the explorer's URL query, without the team
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: SavedViewRow) -> SavedView:
        return cls(row.id, row.team_id, row.name, row.query, row.created_by, row.created_at,
                   row.updated_at)  # fmt: skip


class SavedViews:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def list(self, team_id: int | None) -> builtins.list[SavedView]:
        """A team's views by name; None: every team's (the operator)."""
        query = select(SavedViewRow).order_by(SavedViewRow.team_id, SavedViewRow.name)
        if team_id is not None:
            query = query.where(SavedViewRow.team_id == team_id)
        async with self._sessions() as session:
            return [SavedView.of(row) for row in await session.scalars(query)]

    async def get(self, team_id: int | None, view_id: int) -> SavedView:
        """The view; another team's is not found, like a missing one."""
        async with self._sessions() as session:
            row = await self._own(session, team_id, view_id)
            return SavedView.of(row)

    async def save(self, team_id: int, name: str, query: str) -> SavedView:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise BadRequest(f"A view's name is 1 to {MAX_NAME} characters.")
        if len(query) > MAX_QUERY:
            raise BadRequest("This view's query is too long to save.")
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await session.scalar(
                select(SavedViewRow).where(
                    SavedViewRow.team_id == team_id, SavedViewRow.name == name
                )
            )
            before = None if row is None else {"name": row.name, "query": row.query}
            if row is None:
                count = await session.scalar(
                    select(func.count()).where(SavedViewRow.team_id == team_id)
                )
                if (count or 0) >= MAX_VIEWS:
                    raise BadRequest(f"A team keeps at most {MAX_VIEWS} views; delete one first.")
                row = SavedViewRow(team_id=team_id, name=name, query=query,
                                   created_by=str(current_actor()), created_at=now,
                                   updated_at=now)  # fmt: skip
                session.add(row)
            else:
                row.query, row.updated_at = query, now
            await session.flush()
            await record(session, now=now, action="view.save", team_id=team_id,
                         target=f"view:{row.id}", before=before,
                         after={"name": name, "query": query})  # fmt: skip
            return SavedView.of(row)

    async def delete(self, team_id: int | None, view_id: int) -> SavedView:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            row = await self._own(session, team_id, view_id)
            gone = SavedView.of(row)
            await session.execute(delete(SavedViewRow).where(SavedViewRow.id == view_id))
            await record(session, now=now, action="view.delete", team_id=gone.team_id,
                         target=f"view:{view_id}",
                         before={"name": gone.name, "query": gone.query})  # fmt: skip
        return gone

    async def _own(self, session: AsyncSession, team_id: int | None, view_id: int) -> SavedViewRow:
        row = await session.scalar(select(SavedViewRow).where(SavedViewRow.id == view_id))
        if row is None or (team_id is not None and row.team_id != team_id):
            raise NotFound("No such saved view.")
        return row
