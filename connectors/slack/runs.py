"""The answers being worked on in this process: background tasks to drain on shutdown (and in
tests), and the generation each Stop button cancels.

A Stop button's value is `<run id>:<asker>`, so whichever web process Slack delivers the press
to can refuse someone else's press at once, and otherwise ask the process that owns the run
(through hub.signals) to cancel it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("connectors.slack.runs")
SIGNAL_CHANNEL = "slack.runs"  # hub.signals channel every Slack web process listens on
CANCEL = "cancel:"


@dataclass
class Run:
    id: str
    user: str
    text: str = ""
    stopped_by: str | None = None
    response_id: str | None = None  # the answer's usage record, once settled (feedback)
    notes: tuple[str, ...] = ()  # sentences the answer ends with (hub/answer_notes.py)
    generation: asyncio.Task[Any] | None = field(default=None, repr=False)

    @property
    def stop_value(self) -> str:
        return f"{self.id}:{self.user}"


def parse_stop_value(value: str) -> tuple[str, str | None]:
    """(run id, asker); the asker is None for a value without one."""
    run_id, sep, asker = value.partition(":")
    return run_id, (asker if sep else None)


class Runs:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._live: dict[str, Run] = {}

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("slack background work failed", exc_info=task.exception())

    def open(self, user: str) -> Run:
        run = Run(id=secrets.token_urlsafe(12), user=user)
        self._live[run.id] = run
        return run

    def close(self, run: Run) -> None:
        self._live.pop(run.id, None)

    def stop(self, run_id: str, *, user: str | None) -> bool | None:
        """Cancel a live answer: True if stopped, False if `user` may not, None if not live
        here. `user=None`: the press was already checked (by the process that received it)."""
        run = self._live.get(run_id)
        if run is None or run.generation is None or run.generation.done():
            return None
        if user is not None and user != run.user:
            return False
        run.stopped_by = user or run.user
        run.generation.cancel()
        return True

    async def drain(self) -> None:
        """Wait until every background answer (including ones they start) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drain()
