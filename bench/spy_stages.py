"""The hub's CPU by stage of a request, from `bench/overhead.py --py-spy DIR`'s raw stacks.

Each sample (a GIL-holding stack) goes to one stage: the log line and metrics/spans by the
innermost frame, wherever they are called from; then `hub.chat` and everything under it
(admission, router, provider, ledger writer and settlement; the aiohttp client's upstream
request too), as one inward stage; then the request side by the innermost frame of the
project that matches (auth, the body's read, JSON and validation, the response, the route,
the middleware), and stacks with no project frame by library (aiohttp's server: protocol,
parsing, dispatch and the response's socket writes; the event loop itself):

    .venv/bin/python bench/spy_stages.py DIR/SQLite-hub-False.txt [--top 6]
"""

from __future__ import annotations

import argparse
import collections
import re
from collections.abc import Callable

Frame = tuple[str, str]  # (function, file)
Rule = tuple[str, Callable[[str, str], bool]]
_FRAME = re.compile(r"(.*) \((.*?):(\d+)\)$")

INWARD_FILES = (
    "hub/chat_stream.py",
    "hub/router.py",
    "hub/admission.py",
    "hub/deadlines.py",
    "hub/chat_settlement.py",
    "hub/answer_guard.py",
    "hub/providers/",
    "hub/ledger/writer.py",
    "hub/ledger/writer_jobs.py",
    "hub/ledger/sqlite_writer.py",
    "hub/ledger/engine_writer.py",
    "hub/ledger/settling.py",
    "hub/ledger/reserving.py",
    "hub/ledger/usage_writer.py",
    "hub/ledger/precompiled.py",
    "hub/ledger/rollups.py",
)
ANYWHERE: list[Rule] = [
    ("log line", lambda fn, f: f.startswith("logging/") or f == "hub/logs.py"),
    (
        "metrics and spans",
        lambda fn, f: (
            f.startswith(("hub/observability/", "prometheus_client/", "opentelemetry/"))
            and f != "hub/observability/http_server.py"
        ),
    ),
]
REQUEST_SIDE: list[Rule] = [
    (
        "auth (key cache, checks)",
        lambda fn, f: (
            fn.endswith("_caller")
            or fn == "client_ip"
            or f in ("hub/ledger/keys.py", "hub/ledger/key_cache.py", "hub/client_address.py")
        ),
    ),
    ("body: read", lambda fn, f: f == "hub/request_body.py"),
    (
        "body: JSON, validation, ChatRequest",
        lambda fn, f: (
            f in ("connectors/openai_api/adapter.py", "hub/untrusted.py") or fn == "_json_body"
        ),
    ),
    ("idempotency", lambda fn, f: f == "connectors/openai_api/idempotent.py"),
    (
        "response: chunks, assembly, JSON, its writes",
        lambda fn, f: (
            f
            in (
                "connectors/openai_api/chunks.py",
                "connectors/openai_api/assemble.py",
                "hub/fastjson.py",
            )
            or fn in ("_stream", "_answer_headers", "OpenAIRoutes._complete")
        ),
    ),
    ("route (rest)", lambda fn, f: f.startswith("connectors/openai_api/")),
    (
        "middleware",
        lambda fn, f: (
            f in ("hub/web.py", "hub/error_boundary.py", "hub/observability/http_server.py")
        ),
    ),
]


def parse(line: str) -> tuple[list[Frame], int]:
    stack, _, count = line.rstrip().rpartition(" ")
    frames = []
    for text in stack.split(";"):
        match = _FRAME.match(text)
        frames.append((match.group(1), match.group(2)) if match else (text, ""))
    return frames, int(count)


def stage(frames: list[Frame]) -> str:
    for fn, f in reversed(frames):
        for name, rule in ANYWHERE:
            if rule(fn, f):
                return name
    if any(f.startswith(INWARD_FILES) for _, f in frames):
        return "hub.chat (inward)"
    for fn, f in reversed(frames):
        for name, rule in REQUEST_SIDE:
            if rule(fn, f):
                return name
    files = "|".join(f for _, f in frames)
    if "aiohttp/client" in files or "aiohttp/connector" in files:
        return "hub.chat (inward)"  # the upstream request's own task (its body's write)
    if "aiohttp/" in files:
        return "aiohttp server: protocol, parsing, dispatch, socket writes"
    if frames and frames[-1][1] == "asyncio/runners.py":
        return "event loop (uvloop)"
    return "other: " + next((f for _, f in reversed(frames) if f), frames[-1][0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=0, help="also the N costliest leaves")
    args = parser.parse_args()
    shares: collections.Counter[str] = collections.Counter()
    leaves: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for path in args.files:
        with open(path) as lines:
            for line in lines:
                if line.strip():
                    frames, count = parse(line)
                    name = stage(frames)
                    shares[name] += count
                    leaves[name][f"{frames[-1][0]} ({frames[-1][1]})"] += count
    total = sum(shares.values())
    print(f"# {total} samples")
    for name, count in shares.most_common():
        print(f"{100 * count / total:6.1f}%  {name}")
        for leaf, n in leaves[name].most_common(args.top):
            print(f"{'':10}{100 * n / total:5.1f}%  {leaf}")


if __name__ == "__main__":
    main()
