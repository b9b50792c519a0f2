"""What this process has seen of each deployment: in-flight requests, latency, errors.

Latency is a peak-sensitive EWMA (Finagle's and tower's PeakEWMA): a sample above the estimate
replaces it at once, a lower one pulls it down gradually, and with no samples the estimate
decays towards zero (`latency_decay_s`), so a deployment that was slow and lost its traffic is
tried again later instead of being shunned forever. The routing cost of a deployment is its
time-to-first-token estimate times (in-flight requests + 1): load spreads before latency
rises. A failed attempt counts as a slow one.

These figures are per process (each process measures its own traffic); circuit state is the
part shared across processes (hub/routing/circuits.py).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from hub.clock import Clock

FAILURE_PENALTY_S = 5.0  # a failed attempt is observed as at least this slow
UNMEASURED_S = 0.001  # the estimate of a deployment never measured: try it


@dataclass(slots=True)
class PeakEwma:
    decay_s: float
    value: float | None = None
    at: float = 0.0

    def observe(self, sample: float, now: float) -> None:
        if self.value is None or sample > self.value:
            self.value = sample
        else:
            weight = math.exp(-max(0.0, now - self.at) / self.decay_s)
            self.value = self.value * weight + sample * (1 - weight)
        self.at = now

    def estimate(self, now: float) -> float | None:
        if self.value is None:
            return None
        return self.value * math.exp(-max(0.0, now - self.at) / self.decay_s)


@dataclass(slots=True)
class DeploymentHealth:
    label: str
    decay_s: float
    window_s: float
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    last_error: str | None = None
    ttft: PeakEwma = field(init=False)
    latency: PeakEwma = field(init=False)
    outcomes: deque[tuple[float, bool]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.ttft = PeakEwma(self.decay_s)
        self.latency = PeakEwma(self.decay_s)

    def error_rate(self, now: float) -> tuple[float, int]:
        """Share of failed attempts in the last `window_s`, and how many attempts that was."""
        while self.outcomes and self.outcomes[0][0] < now - self.window_s:
            self.outcomes.popleft()
        total = len(self.outcomes)
        failed = sum(1 for _, ok in self.outcomes if not ok)
        return (failed / total if total else 0.0), total


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """One deployment as `hub deployments` and the admin API show it."""

    label: str
    in_flight: int
    requests: int
    failures: int
    error_rate: float
    window_requests: int
    ttft_ms: float | None
    latency_ms: float | None
    last_error: str | None


class Attempt:
    """One call to a deployment, counted in flight until it ends."""

    def __init__(self, board: HealthBoard, health: DeploymentHealth) -> None:
        self._board = board
        self._health = health
        self._started = board.clock.monotonic()
        self._ended = False
        health.in_flight += 1
        health.requests += 1

    def first_token(self) -> None:
        now = self._board.clock.monotonic()
        self._health.ttft.observe(now - self._started, now)

    def succeeded(self) -> None:
        if self._end():
            now = self._board.clock.monotonic()
            self._health.latency.observe(now - self._started, now)
            self._health.outcomes.append((now, True))

    def failed(self, error: str) -> None:
        if self._end():
            now = self._board.clock.monotonic()
            slow = max(now - self._started, FAILURE_PENALTY_S)
            self._health.ttft.observe(slow, now)
            self._health.latency.observe(slow, now)
            self._health.outcomes.append((now, False))
            self._health.failures += 1
            self._health.last_error = error

    def abandoned(self) -> None:
        """The caller left: neither a success nor the deployment's fault."""
        self._end()

    def _end(self) -> bool:
        if self._ended:
            return False
        self._ended = True
        self._health.in_flight -= 1
        return True


class HealthBoard:
    def __init__(self, clock: Clock, *, decay_s: float = 10.0, window_s: float = 60.0) -> None:
        self.clock = clock
        self._decay_s = decay_s
        self._window_s = window_s
        self._by_label: dict[str, DeploymentHealth] = {}

    def of(self, label: str) -> DeploymentHealth:
        health = self._by_label.get(label)
        if health is None:
            health = DeploymentHealth(label, self._decay_s, self._window_s)
            self._by_label[label] = health
        return health

    def start(self, label: str) -> Attempt:
        return Attempt(self, self.of(label))

    def cost(self, label: str) -> float:
        """Routing cost for `latency`: TTFT estimate x (in flight + 1); lower is better."""
        health = self.of(label)
        estimate = health.ttft.estimate(self.clock.monotonic())
        return (UNMEASURED_S if estimate is None else estimate) * (health.in_flight + 1)

    def snapshot(self, label: str) -> HealthSnapshot:
        health = self.of(label)
        now = self.clock.monotonic()
        rate, window = health.error_rate(now)
        # Shown as measured (undecayed): the decay is a routing device, not a measurement.
        ttft, latency = health.ttft.value, health.latency.value
        return HealthSnapshot(
            label=label,
            in_flight=health.in_flight,
            requests=health.requests,
            failures=health.failures,
            error_rate=rate,
            window_requests=window,
            ttft_ms=None if ttft is None else round(ttft * 1000, 1),
            latency_ms=None if latency is None else round(latency * 1000, 1),
            last_error=health.last_error,
        )
