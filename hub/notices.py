"""Notices to a team's chat channel (budget thresholds, alerts), sent by whichever connector
owns that platform. Connectors register a sender when they start; the hub knows no platform."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.ledger_tables import Team

log = logging.getLogger("hub.notices")
Sender = Callable[[str, str], Awaitable[None]]  # (channel id, text)


def describe_threshold(item: dict[str, object]) -> str:
    metric = "budget" if item["metric"] == "cost" else "token quota"
    limit = f"${item['limit']}" if item["metric"] == "cost" else f"{item['limit']:,} tokens"
    scope = "The team's" if item["scope"] == "team" else f"A {item['scope']}'s"
    return (
        f"{scope} {item['window']}ly {metric} ({limit}) is {item['threshold_percent']}% used; "
        f"it resets on {str(item['resets_at'])[:10]}."
    ).replace("dayly", "daily")


class Notices:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._senders: dict[str, Sender] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def register(self, platform: str, sender: Sender) -> None:
        self._senders[platform] = sender

    def unregister(self, platform: str) -> None:
        self._senders.pop(platform, None)

    def budget_crossed(self, team_id: int, items: Sequence[dict[str, object]]) -> None:
        """Post threshold notices in the background: never on the request's own path."""
        if not items:
            return
        task = asyncio.create_task(self._send(team_id, items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for notices under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _send(self, team_id: int, items: Sequence[dict[str, object]]) -> None:
        await self.post(team_id, [describe_threshold(item) for item in items], what="budget notice")

    async def post(self, team_id: int, texts: Sequence[str], *, what: str = "notice") -> bool:
        """Post to the team's notice channel now; False when it has none or none can post."""
        async with self._sessions() as session:
            team = await session.scalar(select(Team).where(Team.id == team_id))
        if team is None or not team.notify_platform or not team.notify_channel:
            return False
        sender = self._senders.get(team.notify_platform)
        if sender is None:
            log.warning("no %s connector running to post a %s", team.notify_platform, what)
            return False
        posted = True
        for text in texts:
            try:
                await sender(team.notify_channel, text)
            except Exception:  # noqa: BLE001 - a failed notice must not affect anything else
                log.exception("posting a %s failed", what)
                posted = False
        return posted
