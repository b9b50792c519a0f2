"""`hub.feedback`: 👍 (+1) or 👎 (-1) on one answer, stored next to its usage record.

Answers are named by the id their asker saw: the response id (`chatcmpl-...`) an API caller
got, which the Slack and Discord answers carry in their buttons. One vote per person, answer
and platform; voting again replaces the vote (and its comment). Votes work with or without an
experiment; an experiment's report counts those on its variants' usage records.

Who may vote on what: an API caller only on its own team's answers; a Slack or Discord user
only on answers given on that platform in the same workspace or guild. Anything else is "no
such answer", so ids of other teams' answers cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.clock import Clock
from hub.errors import BadRequest, NotFound
from hub.store.ledger_tables import UsageRecord
from hub.store.routing_tables import Feedback as FeedbackRow

UP, DOWN = 1, -1
MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Voter:
    """Who votes, from where. `team_id` for API callers; `workspace` for chat platforms."""

    source: str  # slack, discord, openai_api
    id: str  # the platform user id, or key:<id>
    team_id: int | None = None
    workspace: str | None = None


@dataclass(frozen=True, slots=True)
class Vote:
    id: int
    response_id: str
    usage_id: int
    rating: int
    comment: str | None
    replaced: bool  # this person had voted on this answer before


class Feedback:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    async def vote(
        self, response_id: str, rating: int, *, voter: Voter, comment: str | None = None
    ) -> Vote:
        if rating not in (UP, DOWN):
            raise BadRequest("A rating is 1 (👍) or -1 (👎).")
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise BadRequest(f"A feedback comment is at most {MAX_COMMENT_CHARS:,} characters.")
        try:
            return await self._vote(response_id, rating, voter, comment)
        except IntegrityError:
            # The same person's vote arrived twice at once: the other insert won; update it.
            return await self._vote(response_id, rating, voter, comment)

    async def _vote(self, response_id: str, rating: int, voter: Voter, comment: str | None) -> Vote:
        now = self._clock.now()
        async with self._sessions.begin() as session:
            usage = await session.scalar(
                select(UsageRecord).where(UsageRecord.request_id == response_id)
            )
            if usage is None or not _may_vote(voter, usage):
                raise NotFound(f"No answer with id '{response_id[:80]}' to give feedback on.")
            row = await session.scalar(
                select(FeedbackRow).where(
                    FeedbackRow.usage_id == usage.id,
                    FeedbackRow.source == voter.source,
                    FeedbackRow.voter == voter.id[:100],
                )
            )
            replaced = row is not None
            if row is None:
                row = FeedbackRow(
                    usage_id=usage.id,
                    team_id=usage.team_id,
                    source=voter.source,
                    voter=voter.id[:100],
                    created_at=now,
                    rating=rating,
                )
                session.add(row)
            row.rating, row.comment, row.updated_at = rating, comment, now
            await session.flush()
            return Vote(row.id, response_id, usage.id, rating, comment, replaced)


def _may_vote(voter: Voter, usage: UsageRecord) -> bool:
    if voter.team_id is not None:
        return usage.team_id == voter.team_id
    return usage.connector == voter.source and usage.workspace == voter.workspace
