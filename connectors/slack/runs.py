"""The answers being worked on in this process: background tasks to drain on shutdown (and in
tests), and the generation each Stop button cancels."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("connectors.slack.runs")


@dataclass
class Run:
    id: str
    user: str
    text: str = ""
    stopped_by: str | None = None
    generation: asyncio.Task[Any] | None = field(default=None, repr=False)


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

    def stop(self, run_id: str, *, user: str) -> bool | None:
        """Cancel a live answer: True if stopped, False if `user` may not, None if not live."""
        run = self._live.get(run_id)
        if run is None or run.generation is None or run.generation.done():
            return None
        if user != run.user:
            return False
        run.stopped_by = user
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
