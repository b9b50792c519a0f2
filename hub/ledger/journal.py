"""The local journal of settlements the database did not take in time.

One file per process under `[ledger] state_dir`/settlements/ (`<pid>-<random>.jsonl`, mode
0600), JSON lines: `{"settle": {...}}` when a settlement is handed to it, `{"done": id}` once
the database took it. Every line is fsync'd before the request is answered. The process holds
an exclusive `flock` on its file while it runs, so at start-up any file whose lock can be
taken belongs to a process that is gone (stopped, or killed: the kernel drops its locks):
those are the ones replayed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from hub.ledger.budget import Hold
from hub.ledger.thresholds import CounterLimit
from hub.ledger.usage_entry import UsageEntry
from hub.model import Caller, Origin, Usage

log = logging.getLogger("hub.ledger")
FOLDER = "settlements"


@dataclass(frozen=True, slots=True)
class Pending:
    """A settlement not yet known to be in the database."""

    hold: Hold
    entry: UsageEntry

    @property
    def request_id(self) -> str:
        return self.entry.request_id


class Journal:
    def __init__(self, state_dir: Path) -> None:
        self._folder = state_dir / FOLDER
        self._file: IO[str] | None = None
        self.path: Path | None = None
        self._lock = threading.Lock()  # writes come from worker threads

    def append(self, pending: Pending) -> None:
        """Write the settlement durably (blocking: call it from a thread)."""
        self._write({"settle": _encode(pending)})

    def done(self, request_id: str) -> None:
        self._write({"done": request_id})

    def close(self, *, empty: bool) -> None:
        """Let go of this process's file; remove it when nothing in it is pending."""
        with self._lock:
            if self._file is None:
                return
            if empty and self.path is not None:
                self.path.unlink(missing_ok=True)
            self._file.close()  # releases the lock
            self._file = None

    def orphans(self) -> Iterator[tuple[Path, list[Pending]]]:
        """The files of processes that are gone, locked while yielded, with what they left
        pending; the caller removes each once it has taken its settlements over."""
        if not self._folder.is_dir():
            return
        for path in sorted(self._folder.glob("*.jsonl")):
            if path == self.path:
                continue
            with path.open("r+", encoding="utf-8") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive and owns it
                yield path, _pending(handle.read(), path)

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            handle = self._open()
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def _open(self) -> IO[str]:
        if self._file is not None:
            return self._file
        self._folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self._folder / f"{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask: it holds prompts and answers
        handle = os.fdopen(fd, "a", encoding="utf-8")
        fcntl.flock(handle, fcntl.LOCK_EX)
        _fsync_folder(self._folder)  # the file's name survives a crash too
        self._file, self.path = handle, path
        return handle


def _pending(text: str, path: Path) -> list[Pending]:
    settles: dict[str, Pending] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if "done" in record:
                settles.pop(str(record["done"]), None)
            else:
                pending = _decode(record["settle"])
                settles[pending.request_id] = pending
        except (ValueError, KeyError, TypeError):
            # A torn last line (killed mid-write, before its fsync returned): never answered.
            log.warning("skipping unreadable line %d of %s", number, path)
    return list(settles.values())


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _encode(pending: Pending) -> dict[str, Any]:
    hold = dataclasses.asdict(pending.hold)
    for limit in hold["limits"]:
        limit["period_start"] = limit["period_start"].isoformat()
    hold["counter_keys"] = [[*key[:3], key[3].isoformat()] for key in hold["counter_keys"]]
    return {"hold": hold, "entry": dataclasses.asdict(pending.entry)}


def _decode(data: dict[str, Any]) -> Pending:
    hold = dict(data["hold"])
    limits = tuple(
        CounterLimit(**{**limit, "period_start": date.fromisoformat(limit["period_start"])})
        for limit in hold.pop("limits")
    )
    keys = tuple(
        (str(scope), int(scope_id), str(window), date.fromisoformat(start))
        for scope, scope_id, window, start in hold.pop("counter_keys", ())
    )
    entry = dict(data["entry"])
    # A line from before holds carried their row's request id: a request's hold was taken
    # with the request's own.
    hold.setdefault("request_id", entry["request_id"])
    return Pending(
        hold=Hold(
            **{
                **hold,
                "counter_ids": tuple(hold["counter_ids"]),
                "limits": limits,
                "counter_keys": keys,
            }
        ),
        entry=UsageEntry(
            **{
                **entry,
                "caller": Caller(**entry["caller"]),
                "origin": Origin(**entry["origin"]),
                "usage": Usage(**entry["usage"]),
            }
        ),
    )


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
