"""How long routing decisions take: the complexity router (auto) and the strategies.

Times `classify` on the fixed prompts of tests/hub/routing/test_complexity.py (short ones
and a long one), a long conversation, and each strategy's ordering of three deployments.
Prints microseconds per decision (median and p99 of batches) and, as the baseline measured in
the same run, the time to `json.dumps` the request's OpenAI body, which every request pays.

    .venv/bin/python bench/routing.py [--repeat 2000]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.clock import SystemClock  # noqa: E402
from hub.config import DeploymentSettings, ModelSettings  # noqa: E402
from hub.model import Message  # noqa: E402
from hub.routing.complexity import classify  # noqa: E402
from hub.routing.health import HealthBoard  # noqa: E402
from hub.routing.strategies import OrderInputs, order  # noqa: E402
from tests.hub.routing.test_complexity import PROMPTS  # noqa: E402


def per_call_us(work: Callable[[], object], repeat: int, batches: int = 15) -> tuple[float, float]:
    """Median and p99 (of batch means) microseconds per call."""
    means = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(repeat):
            work()
        means.append((time.perf_counter() - started) / repeat * 1e6)
    means.sort()
    return statistics.median(means), means[min(len(means) - 1, int(0.99 * len(means)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    short = [[Message.text("user", prompt)] for prompt, _ in PROMPTS]
    long_prompt = [Message.text("user", " ".join(p for p, _ in PROMPTS) * 6)]  # ~14k chars
    conversation = [
        Message.text("user" if i % 2 == 0 else "assistant", PROMPTS[i % len(PROMPTS)][0])
        for i in range(30)
    ]
    body = {"model": "auto", "messages": [{"role": "user", "content": PROMPTS[-4][0]}]}
    cycle = iter(range(10**12))

    def classify_short() -> object:
        return classify(short[next(cycle) % len(short)])

    deployments = tuple(
        DeploymentSettings(
            provider="p", model=f"m{i}", input_micros_per_mtok=100 * (i + 1),
            output_micros_per_mtok=400 * (i + 1), weight=float(i + 1),
        )
        for i in range(3)
    )  # fmt: skip
    health = HealthBoard(SystemClock())
    rng = random.Random(1)
    inputs = OrderInputs(sticky_id="user:slack:T1:U1", input_tokens=500, max_tokens=None)
    rows: list[tuple[str, float, float]] = [
        ("baseline: json.dumps(body)", *per_call_us(lambda: json.dumps(body), args.repeat)),
        ("auto: classify, fixed prompts", *per_call_us(classify_short, args.repeat)),
        ("auto: classify, 14k-char prompt", *per_call_us(lambda: classify(long_prompt), 200)),
        ("auto: classify, 30-turn thread", *per_call_us(lambda: classify(conversation), 200)),
    ]
    for strategy in ("priority", "weighted", "latency", "cost"):
        model = ModelSettings(alias="a", deployments=deployments, strategy=strategy)  # type: ignore[arg-type]
        rows.append(
            (
                f"strategy: {strategy} (3 deployments)",
                *per_call_us(
                    lambda m=model: order(m, deployments, inputs, health=health, rng=rng),
                    args.repeat,
                ),
            )
        )
    baseline = rows[0][1]
    print(
        f"python {platform.python_version()} on {platform.machine()}, {args.repeat} calls a batch"
    )
    print(f"{'decision':<36} {'median us':>10} {'p99 us':>9} {'x baseline':>11}")
    for name, median, p99 in rows:
        print(f"{name:<36} {median:>10.1f} {p99:>9.1f} {median / baseline:>11.1f}")
    print("The complexity router must stay under 1 ms (1,000 us) per decision.")


if __name__ == "__main__":
    main()
