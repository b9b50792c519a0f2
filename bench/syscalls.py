"""Syscalls per request: `hub serve` (and the bare aiohttp proxy beside it) under `strace -c`.

The same fake upstream, bare proxy and `hub serve` as bench/overhead.py (SQLite); after a
warm-up, strace attaches to every thread of the target's process for `--requests` sequential
requests (plain, then streamed) and the counts are divided by the requests. A figure the
machine's load does not move (but for the event loop's `epoll_wait`s, which a busy machine
can split), unlike a timing: the socket writes and reads, epoll registrations and socket
options a request costs.

    .venv/bin/python bench/syscalls.py [--requests 300] [--tree DIR] [--concurrency 1]
        [--trace FILE]

`--tree DIR` runs that checkout's hub (with this venv), as overhead.py's `--baseline`.
`--trace FILE` also writes the sequence of network, write and epoll calls of three requests
of each kind (`strace -f -e trace=...`) to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead  # noqa: E402  (bench/overhead.py: the fake upstream, the proxy, the hub)

SHOWN = (
    "sendto", "sendmsg", "send", "write", "writev",
    "recvfrom", "recvmsg", "recv", "read",
    "epoll_ctl", "epoll_wait", "epoll_pwait",
    "setsockopt", "getsockopt", "getsockname", "getpeername",
    "accept4", "connect", "socket", "close",
    "futex", "ioctl", "fcntl", "fstat", "lseek", "pread64", "pwrite64", "fdatasync", "fsync",
)  # fmt: skip
_ROW = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$")
TRACED = "trace=network,write,writev,read,epoll_ctl,epoll_wait,epoll_pwait"


async def _traced(pid: int, argv: list[str], out: Path) -> subprocess.Popen[bytes]:
    """strace attached to every thread of `pid` (it says so on stderr once it is)."""
    log = out.with_suffix(".attach")
    err = log.open("wb")
    popen = subprocess.Popen(["strace", "-f", *argv, "-o", str(out), "-p", str(pid)], stderr=err)
    for _ in range(400):  # "Process N attached with M threads"
        if "attached" in log.read_text():
            break
        await asyncio.sleep(0.025)
    else:
        raise RuntimeError(f"strace did not attach: {log.read_text()}")
    return popen


def _stop(popen: subprocess.Popen[bytes]) -> None:
    popen.send_signal(signal.SIGINT)
    popen.wait(30)


def _counts(summary: str) -> Counter[str]:
    found: Counter[str] = Counter()
    for line in summary.splitlines():
        match = _ROW.match(line)
        if match is not None and match.group(2) != "total":  # (summed below)
            found[match.group(2)] = int(match.group(1))
    return found


async def _requests(
    client: overhead.Client, target: overhead.Process, stream: bool, n: int, concurrency: int
) -> None:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await client.call(target, stream, None)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure(
    client: overhead.Client,
    target: overhead.Process,
    stream: bool,
    args: argparse.Namespace,
    work: Path,
) -> Counter[str]:
    await _requests(client, target, stream, 30, args.concurrency)  # warm
    out = work / f"{target.name}-{stream}.strace"
    tracer = await _traced(target.popen.pid, ["-c"], out)
    await _requests(client, target, stream, args.requests, args.concurrency)
    _stop(tracer)
    if args.trace:
        seq = work / f"{target.name}-{stream}.seq"
        tracer = await _traced(target.popen.pid, ["-e", TRACED, "-s", "64"], seq)
        await _requests(client, target, stream, 3, 1)
        _stop(tracer)
        with open(args.trace, "a") as trace:
            kind = "streamed" if stream else "plain"
            trace.write(f"### {target.name}, 3 {kind} requests\n{seq.read_text()}\n")
    return _counts(out.read_text())


async def main(args: argparse.Namespace) -> None:
    if args.trace:
        Path(args.trace).write_text("")
    upstream = await overhead.start_helper("upstream")
    proxy = await overhead.start_helper("proxy", upstream.base_url)
    proxy.name = "proxy"
    tree = Path(args.tree).resolve() if args.tree else None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite+aiosqlite:///{work}/bench.db"
        hub = await overhead.start_hub_process(url, upstream.base_url, work, tree=tree)
        try:
            async with aiohttp.ClientSession() as session:
                client = overhead.Client(session)
                rows: dict[str, Counter[str]] = {}
                for stream in (False, True):
                    for target in (proxy, hub):
                        kind = "stream" if stream else "plain"
                        rows[f"{target.name} {kind}"] = await measure(
                            client, target, stream, args, work
                        )
        finally:
            hub.stop()
            proxy.stop()
            upstream.stop()
    where = str(tree or overhead.ROOT)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=where
    ).stdout.strip()
    print(f"# syscalls per request, {args.requests} requests at concurrency {args.concurrency}")
    print(f"# hub: {where} ({commit}), SQLite; strace -c -f on the target's process")
    names = [n for n in SHOWN if any(row[n] for row in rows.values())]
    others = {n for row in rows.values() for n in row} - set(SHOWN)
    print(f"{'':<14}" + "".join(f"{name:>14}" for name in rows))
    for name in [*names, *sorted(others), "total"]:
        cells = []
        for row in rows.values():
            count = sum(row.values()) if name == "total" else row[name]
            cells.append(f"{count / args.requests:>14.2f}")
        print(f"{name:<14}" + "".join(cells))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--tree", help="another checkout: its hub is measured")
    parser.add_argument("--trace", help="write three requests' call sequence here")
    asyncio.run(main(parser.parse_args()))
