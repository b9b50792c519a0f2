"""Two hubs' CPU per request at concurrency 16, in alternating short runs (SQLite).

`bench/overhead.py` measures each target at concurrency 16 once, one after the other, so on
a shared machine the load moves between them and single runs scatter by ±20%. This starts the
fake upstream, the bare proxy and two `hub serve` processes (this checkout and `--baseline
DIR`, each on its own database as `overhead.py --baseline` prepares them), then runs
`--rounds` rounds of `--seconds` of load against proxy, baseline and hub in turn, and prints
the median and spread of each one's CPU per request and req/s, and the hub's ratio to the
proxy in the same rounds:

    .venv/bin/python bench/alternating.py --baseline /path/to/other/checkout [--rounds 6]
        [--seconds 3] [--stream] [--chunks N] [--shape whole|flush|gap:MS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

import aiohttp

ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parents[1])
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


async def main(args: argparse.Namespace) -> None:
    import overhead

    upstream = await overhead.start_helper(
        "upstream", *overhead.upstream_args(args.chunks, args.shape)
    )
    proxy = await overhead.start_helper("proxy", upstream.base_url)
    proxy.name = "proxy"
    hubs: list[overhead.Process] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work, before = Path(tmp) / "hub", Path(tmp) / "before"
            work.mkdir()
            before.mkdir()
            hubs.append(
                await overhead.start_hub_process(
                    f"sqlite+aiosqlite:///{before}/before.db",
                    upstream.base_url,
                    before,
                    name="before",
                    tree=Path(args.baseline),
                )
            )
            hubs.append(
                await overhead.start_hub_process(
                    f"sqlite+aiosqlite:///{work}/hub.db", upstream.base_url, work
                )
            )
            targets = [proxy, *hubs]
            cpu: dict[str, list[float]] = {t.name: [] for t in targets}
            rps: dict[str, list[float]] = {t.name: [] for t in targets}
            ratio: dict[str, list[float]] = {h.name: [] for h in hubs}
            connector = aiohttp.TCPConnector(limit=args.concurrency * 4)
            async with aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=60)
            ) as session:
                client = overhead.Client(session)
                for round_ in range(args.rounds):
                    # Alternate the hubs' order too, so neither always follows the proxy.
                    order = targets if round_ % 2 == 0 else [proxy, *reversed(hubs)]
                    for target in order:
                        r, c, _ = await overhead.loaded(
                            client, target, args.stream, args.concurrency, args.seconds
                        )
                        rps[target.name].append(r)
                        cpu[target.name].append(c or 0.0)
                    for hub in hubs:
                        ratio[hub.name].append(rps[hub.name][-1] / rps["proxy"][-1])
            kind = "stream" if args.stream else "plain"
            print(
                f"# {kind}, concurrency {args.concurrency}, {args.rounds} rounds of "
                f"{args.seconds:g} s per target; load average {overhead.load_average()}"
            )
            for target in targets:
                c, r = cpu[target.name], rps[target.name]
                line = (
                    f"{target.name:<8} CPU/req median {statistics.median(c):.2f} ms "
                    f"(min {min(c):.2f}, max {max(c):.2f}); "
                    f"req/s median {statistics.median(r):.0f}"
                )
                if target.name in ratio:
                    line += f"; /proxy median {statistics.median(ratio[target.name]):.3f}"
                print(line)
    finally:
        for hub in hubs:
            hub.stop()
        proxy.stop()
        upstream.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True, help="another checkout: its hub too")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--chunks", type=int, default=8, help="the upstream answer's chunks")
    parser.add_argument("--shape", default="whole", help="whole, flush or gap:MS (overhead.py)")
    asyncio.run(main(parser.parse_args()))
