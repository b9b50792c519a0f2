"""The executor of the hub's APScheduler jobs (`hub serve`, `hub worker`).

APScheduler's asyncio executor cannot wait for running jobs at shutdown: it cancels them,
and the cancellation is then reported as a failing job with a traceback (by the executor, or
by the job runner that catches it). A job cancelled by the shutdown is how a stop ends, not
a failure: after shutdown starts, such reports become one info line without a traceback.
"""

from __future__ import annotations

import asyncio
import logging

from apscheduler.executors.asyncio import AsyncIOExecutor

log = logging.getLogger("hub.scheduler")


def _stopped_by_shutdown(record: logging.LogRecord) -> bool:
    """A log filter: a job's CancelledError becomes an info line (always kept)."""
    if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.INFO, "INFO"
        job = record.args[0] if isinstance(record.args, tuple) and record.args else ""
        record.msg, record.args = "job %s stopped by the shutdown", (job,)
    return True


class StoppingExecutor(AsyncIOExecutor):  # type: ignore[misc]
    _stopping = False

    def shutdown(self, wait: bool = True) -> None:
        if not self._stopping:
            self._stopping = True
            self._logger.addFilter(_stopped_by_shutdown)
        super().shutdown(wait)

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: object = None) -> None:
        if self._stopping and isinstance(exc, asyncio.CancelledError):
            self._run_job_success(job_id, [])  # the executor's bookkeeping, with no events
            log.info("job %s stopped by the shutdown", job_id)
            return
        super()._run_job_error(job_id, exc, traceback)
