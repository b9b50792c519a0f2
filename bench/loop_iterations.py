"""Event-loop iterations per chat request, by stage, through the hub's own aiohttp app.

Runs the hub in-process (`tests.support.hubs.start_hub` + `serve`, as bench/request_stages.py)
on a SQLite file and on PostgreSQL (a database of its own, created and dropped; the URL as
HUB_TEST_POSTGRES_URL), on the standard asyncio loop, instrumented here only: a loop subclass
counts `_run_once` iterations, a wrapper around `Handle._run` notes what each ran (a task's
coroutine, a callback's name, a socket read by its peer), and one around the selector
transports' `write` notes the writes. The client runs on a loop of its own in another thread,
so every iteration counted is the hub's; the fake upstream is bench/overhead.py's, a process
of its own. Sequential requests, plain then streamed; per request the iterations between its
stages:

    arrival (the request's bytes read) -> reserve sent -> reserve done -> upstream sent
    -> upstream last byte -> settle sent -> settle done -> response written (its last write)

"sent"/"done" on PostgreSQL: the statement's write on the writer's connection and the read of
its answer; on SQLite (in-process): the writer's batch begun and ended. A count the machine's
load does not move (a wait that yields, a hand-off, a callback hop each add one): the mode of
each window over the requests, the share of requests at it, and one request's iterations with
what each ran. Where a window waits on a socket (the statements, the upstream), a callback
due anyway may share the iteration of the socket's event or not, as the I/O's timing falls:
so the callbacks and task steps run (a count no timing moves) beside the iterations.

    .venv/bin/python bench/loop_iterations.py [--requests 50] [--sqlite-only|--postgres-only]
    PYTHONPATH=/other/checkout .venv/bin/python /other/checkout/bench/loop_iterations.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from asyncio import events, selector_events  # noqa: E402

MARKS = (
    "arrival",
    "reserve sent",
    "reserve done",
    "upstream sent",
    "upstream last byte",
    "settle sent",
    "settle done",
    "response written",
)


class Tape:
    """What the hub's loop did: its iteration count, what ran in each, the socket events."""

    def __init__(self) -> None:
        self.iteration = 0
        self.ran: dict[int, list[str]] = {}
        self.events: list[tuple[int, str]] = []  # (iteration, "read client", "write pg", …)
        self.roles: dict[int, str] = {}  # id(transport) -> its peer's role
        self.ports: dict[int, str] = {}  # a port -> its role (the hub's, the upstream's, pg's)
        self.on = False
        self.thread = threading.get_ident()  # the hub's loop's (the client has its own)

    def role(self, transport: Any) -> str:
        known = self.roles.get(id(transport))
        if known is not None:
            return known
        try:
            local = transport.get_extra_info("sockname")[1]
            peer = transport.get_extra_info("peername")[1]
        except (TypeError, IndexError):
            return "?"
        role = self.ports.get(local) or self.ports.get(peer) or "other"
        self.roles[id(transport)] = role
        return role


TAPE = Tape()


class CountingLoop(asyncio.SelectorEventLoop):
    def _run_once(self) -> None:  # type: ignore[override]
        TAPE.iteration += 1
        super()._run_once()  # type: ignore[misc]


def _label(callback: Any) -> str:
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):  # the C task's step / wake-up
        coro = owner.get_coro()
        name = getattr(coro, "__qualname__", type(coro).__name__)
        task = owner.get_name()
        return f"task {name} [{task}]" if task.startswith("hub") else f"task {name}"
    if isinstance(owner, selector_events._SelectorTransport):
        return f"{getattr(callback, '__name__', '?')} {TAPE.role(owner)}"
    if owner is not None and not isinstance(owner, type(sys)):
        return f"{type(owner).__qualname__}.{getattr(callback, '__name__', '?')}"
    func = getattr(callback, "func", None)  # functools.partial
    if func is not None:
        return "partial " + _label(func)
    return getattr(callback, "__qualname__", None) or type(callback).__qualname__


def instrument() -> None:
    handle_run = events.Handle._run

    def run(self: events.Handle) -> None:
        if TAPE.on and threading.get_ident() == TAPE.thread:
            callback = self._callback  # type: ignore[attr-defined]
            label = _label(callback)
            TAPE.ran.setdefault(TAPE.iteration, []).append(label)
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, selector_events._SelectorTransport) and "read" in label:
                TAPE.events.append((TAPE.iteration, "read " + TAPE.role(owner)))
        handle_run(self)

    events.Handle._run = run  # type: ignore[method-assign]
    transport = selector_events._SelectorSocketTransport
    for name in ("write", "writelines", "write_eof"):
        original = getattr(transport, name)

        def wrapped(
            self: Any, *args: Any, _original: Callable[..., Any] = original, _name: str = name
        ) -> Any:
            if TAPE.on and threading.get_ident() == TAPE.thread:
                TAPE.events.append((TAPE.iteration, "write " + TAPE.role(self)))
            return _original(self, *args)

        setattr(transport, name, wrapped)


def note_batches(writer: Any) -> None:
    """SQLite: the writer's batches begin and end on the loop (or a thread): the marks."""
    backend = writer._backend
    write_now, write = backend.write_now, backend.write

    def now(jobs: Any) -> bool:
        TAPE.events.append((TAPE.iteration, "ledger sent"))
        written = write_now(jobs)
        if written:
            TAPE.events.append((TAPE.iteration, "ledger done"))
        return bool(written)

    async def waited(jobs: Any) -> None:
        await write(jobs)
        TAPE.events.append((TAPE.iteration, "ledger done"))

    backend.write_now, backend.write = now, waited


def requests_of(events_: list[tuple[int, str]]) -> list[dict[str, int]]:
    """Each request's marks (iteration of each), from the tape's socket and ledger events."""
    found: list[dict[str, int]] = []
    current: dict[str, int] | None = None
    for at, what in events_:
        if what == "read client" and (current is None or "response written" in current):
            if current is not None and all(m in current for m in MARKS):
                found.append(current)
            current = {"arrival": at}
            continue
        if current is None:
            continue
        if what in ("ledger sent", "write pg"):
            step = "reserve sent" if "reserve sent" not in current else "settle sent"
            if step == "settle sent" and "upstream sent" not in current:
                continue  # a background statement (or a reserve's second): not a stage
            current.setdefault(step, at)
        elif what in ("ledger done", "read pg"):
            if "settle sent" in current:
                current.setdefault("settle done", at)
            elif "reserve sent" in current:
                current.setdefault("reserve done", at)
        elif what == "write upstream":
            current.setdefault("upstream sent", at)
        elif what == "read upstream" and "settle sent" not in current:
            current["upstream last byte"] = at
        elif what in ("write client", "write_eof client") and "settle done" in current:
            current["response written"] = at
    if current is not None and all(m in current for m in MARKS):
        found.append(current)
    return found


def handles(first: int, last: int) -> int:
    """Callbacks and task steps run in iterations (first, last] (the arrival's own counted
    from the read on): unlike iterations, not moved by whether a callback due anyway shares
    an iteration with a socket's event (which the timing of the I/O decides)."""
    return sum(len(TAPE.ran.get(i, ())) for i in range(first + 1, last + 1))


def windows(marks: dict[str, int]) -> list[int]:
    return [marks[b] - marks[a] for a, b in zip(MARKS, MARKS[1:], strict=False)]


def report(label: str, found: list[dict[str, int]]) -> None:
    if not found:
        print(f"{label}: no complete request on the tape")
        return
    n = len(found)
    totals = Counter(m["response written"] - m["arrival"] for m in found)
    total, at = totals.most_common(1)[0]
    print(f"{label}: {n} requests; iterations arrival -> response written: {total} "
          f"({at}/{n} at it; all seen {sorted(totals.items())})")  # fmt: skip
    ran = Counter(handles(m["arrival"], m["response written"]) for m in found)
    calls, at = ran.most_common(1)[0]
    print(f"  callbacks and task steps run: {calls} ({at}/{n} at it; all seen "
          f"{sorted(ran.items())})")  # fmt: skip
    print("  iterations (mode, requests at it), callbacks and task steps (mode), per window:")
    columns = list(zip(*(windows(m) for m in found), strict=True))
    for (a, b), column in zip(zip(MARKS, MARKS[1:], strict=False), columns, strict=True):
        counts = Counter(column)
        mode, share = counts.most_common(1)[0]
        steps = Counter(handles(m[a], m[b]) for m in found).most_common(1)[0][0]
        print(f"  {mode:4d}  ({share:2d}/{n})  {steps:4d}  {a} -> {b}")
    # One request at the mode, iteration by iteration.
    typical = next(m for m in reversed(found) if m["response written"] - m["arrival"] == total)
    print("  one request, iteration by iteration (offset from arrival: what ran):")
    for i in range(typical["arrival"], typical["response written"] + 1):
        marks = [k for k, v in typical.items() if v == i]
        ran = Counter(TAPE.ran.get(i, []))
        what = ", ".join(f"{k} x{c}" if c > 1 else k for k, c in ran.items()) or "(nothing)"
        head = f"[{', '.join(marks)}] " if marks else ""
        print(f"    {i - typical['arrival']:3d}  {head}{what}")


def client_thread(base: str, key: str, stream: bool, n: int) -> None:
    async def go() -> None:
        body = {"model": "gpt", "messages": BODY_MESSAGES, "stream": stream}
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as session:
            for _ in range(n):
                async with session.post(
                    base + "/v1/chat/completions", json=body, headers=headers
                ) as answer:
                    assert answer.status == 200, await answer.text()
                    await answer.read()

    asyncio.run(go())


BODY_MESSAGES: list[dict[str, str]] = []


async def measure(database_url: str, label: str, requests: int) -> None:
    import overhead

    from hub.clock import SystemClock
    from tests.support.hubs import model_config, openai_provider_config, start_hub

    BODY_MESSAGES[:] = overhead.BODY["messages"]
    upstream = await overhead.start_helper("upstream")
    try:
        config = {
            "providers": {"up": openai_provider_config(upstream.base_url, api_key="sk-x")},
            "models": {"gpt": model_config(("up", "gpt-4o-mini", 0.15, 0.6))},
        }
        running = await start_hub(
            config, database_url=database_url, monthly_budget_micros=10**12, clock=SystemClock()
        )
        await running.hub.rate_limits.set(
            scope="key", scope_id=running.key.id, team_id=running.team.id, rpm=10_000_000, tpm=None
        )
        base = await running.serve()
        writer = running.hub.ledger_writer if hasattr(running.hub, "ledger_writer") else None
        writer = writer or _find_writer(running.hub)
        postgres = database_url.startswith("postgresql")
        if not postgres:
            note_batches(writer)
        TAPE.roles.clear()
        TAPE.ports = {int(base.rsplit(":", 1)[1]): "client"}
        TAPE.ports[int(upstream.base_url.split(":")[2].split("/")[0])] = "upstream"
        if postgres:
            TAPE.ports[running.hub.engine.url.port or 5432] = "pg"
        try:
            for stream in (False, True):
                await asyncio.to_thread(client_thread, base, running.key.key, stream, 20)
                TAPE.events.clear()
                TAPE.ran.clear()
                TAPE.on = True
                await asyncio.to_thread(client_thread, base, running.key.key, stream, requests)
                TAPE.on = False
                report(f"{label} {'streamed' if stream else 'plain'}", requests_of(TAPE.events))
        finally:
            await running.close()
    finally:
        upstream.stop()


def _find_writer(hub: Any) -> Any:
    from hub.ledger.writer import LedgerWriter

    for value in vars(hub).values():
        if isinstance(value, LedgerWriter):
            return value
    for value in vars(hub).values():
        for inner in getattr(value, "__dict__", {}).values():
            if isinstance(inner, LedgerWriter):
                return inner
    raise RuntimeError("no LedgerWriter on the hub")


async def main(args: argparse.Namespace) -> None:
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as tmp:
            await measure(f"sqlite+aiosqlite:///{tmp}/loop.db", "SQLite", args.requests)
    if not args.sqlite_only:
        from tests.support.services import create_postgres_database, drop_postgres_database

        url, database = await create_postgres_database()
        try:
            await measure(url, "PostgreSQL", args.requests)
        finally:
            await drop_postgres_database(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    instrument()
    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        runner.run(main(parser.parse_args()))
