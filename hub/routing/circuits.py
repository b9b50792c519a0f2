"""Circuit breakers, one per deployment (provider/model), shared by every process.

    closed ──(circuit_failures consecutive failures, or an error rate over the window)──▶ open
    open ──(cooldown passes)──▶ half-open ──(the one probe succeeds)──▶ closed
                                          └─(the probe fails)──▶ open, with a longer cooldown

A failure is what says the deployment is in trouble: 5xx, overloaded, timeouts, connection
errors, a stream cut mid-answer, and 429s. A client's bad request or a refused credential is
not. The cooldown is `circuit_cooldown_s`, doubled on each repeated open up to
`circuit_cooldown_max_s`, and never shorter than an upstream `Retry-After`; a 429 that names a
Retry-After closes the deployment for exactly that long at once, in every process. The count
of repeated opens is forgotten once a circuit has stayed closed for `circuit_cooldown_max_s`.

Decisions read this process's memory, so routing costs no round trip. Without Redis that
memory is the whole truth. With Redis (hub/routing/circuit_link.py), failure counts, opens and
probe claims go through Redis atomically and every change is published, so every process
sees an opened circuit within milliseconds; a process starting up reads the open ones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from hub.clock import Clock
from hub.config import RouterSettings
from hub.routing.health import HealthBoard

log = logging.getLogger("hub.routing.circuits")
State = Literal["closed", "open", "half_open"]
PROBE_TTL_S = 60.0  # a probe that never reports (its process died) frees the circuit after this
JOIN_RETRY_S = 30.0  # Redis unreachable at start: decide locally, try to join again after this


@dataclass(frozen=True, slots=True)
class OpenedCircuit:
    """What an open (or reopened) circuit says; the same in every process."""

    label: str
    until: float  # UNIX seconds
    opens: int
    reason: str


@dataclass(frozen=True, slots=True)
class CircuitView:
    """A circuit as the admin API, `hub deployments` and metrics show it."""

    label: str
    state: State
    until: datetime | None
    opens: int
    consecutive_failures: int
    reason: str


class CircuitLink(Protocol):
    """How circuits are shared between processes (hub/routing/circuit_link.py)."""

    async def start(self, circuits: Circuits) -> None: ...
    async def close(self) -> None: ...
    async def count_failure(self, label: str) -> int: ...
    async def reset_failures(self, label: str) -> None: ...
    async def open(
        self, label: str, *, grow: bool, min_cooldown: float, reason: str, now: float
    ) -> OpenedCircuit: ...
    async def closed(self, label: str, *, now: float) -> None: ...
    async def claim_probe(self, label: str, *, ttl: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    failures: int = 5
    cooldown_s: float = 30.0
    cooldown_max_s: float = 600.0
    error_rate: float = 0.5
    min_requests: int = 20

    @classmethod
    def from_settings(cls, settings: RouterSettings) -> CircuitPolicy:
        return cls(
            failures=settings.circuit_failures,
            cooldown_s=settings.circuit_cooldown_s,
            cooldown_max_s=settings.circuit_cooldown_max_s,
            error_rate=settings.circuit_error_rate,
            min_requests=settings.circuit_min_requests,
        )

    def cooldown(self, opens: int, min_cooldown: float) -> float:
        grown = self.cooldown_s * 2 ** max(0, opens - 1) if opens else 0.0
        return max(min(grown, self.cooldown_max_s), min_cooldown)


class _Circuit:
    __slots__ = ("closed_at", "failures", "opens", "probe_until", "probing", "reason", "until")

    def __init__(self) -> None:
        self.failures = 0  # consecutive; the shared count when linked
        self.until = 0.0  # open until (UNIX seconds); 0 means closed
        self.opens = 0
        self.reason = ""
        self.closed_at = 0.0
        self.probe_until = 0.0  # a half-open probe is under way until then
        self.probing = False  # this process holds that probe

    def state(self, now: float) -> State:
        if not self.until:
            return "closed"
        return "open" if now < self.until else "half_open"


class Circuits:
    def __init__(
        self,
        clock: Clock,
        policy: CircuitPolicy,
        health: HealthBoard,
        *,
        link: CircuitLink | None = None,
    ) -> None:
        self._clock = clock
        self.policy = policy
        self._health = health
        self._link = link
        self._by_label: dict[str, _Circuit] = {}
        self._started = False
        self._retry_at = 0.0
        self._watchers: list[Callable[[CircuitView], None]] = []

    def watch(self, watcher: Callable[[CircuitView], None]) -> None:
        """Call `watcher(view)` whenever a circuit opens or closes, here or in another
        process (metrics, tests). Watchers must be quick and must not raise."""
        self._watchers.append(watcher)

    def _changed(self, label: str) -> None:
        view = self.view(label)
        for watcher in self._watchers:
            watcher(view)

    @property
    def shared(self) -> bool:
        return self._link is not None

    async def start(self) -> None:
        """Join the other processes (subscribe, read the open circuits); idempotent."""
        if self._started or self._link is None or self._clock.monotonic() < self._retry_at:
            return
        try:
            await self._link.start(self)
        except Exception:  # noqa: BLE001 - Redis down: route on local state, try again later
            log.error("could not join the shared circuit state; deciding locally", exc_info=True)
            self._retry_at = self._clock.monotonic() + JOIN_RETRY_S
            return
        self._started = True

    async def close(self) -> None:
        if self._link is not None and self._started:
            await self._link.close()
        self._started = False

    def _now(self) -> float:
        return self._clock.now().timestamp()

    def _get(self, label: str) -> _Circuit:
        circuit = self._by_label.get(label)
        if circuit is None:
            circuit = self._by_label[label] = _Circuit()
        return circuit

    # -- decisions (memory only) ----------------------------------------------------------

    def admits(self, label: str) -> bool:
        """May this deployment be offered traffic now (closed, or a probe is free)?"""
        circuit = self._get(label)
        if not circuit.until:
            return True  # closed, whatever the time (nearly always: no clock read)
        now = self._now()
        state = circuit.state(now)
        return state == "closed" or (state == "half_open" and now >= circuit.probe_until)

    def open_until(self, label: str) -> float | None:
        circuit = self._get(label)
        now = self._now()
        if circuit.state(now) == "closed":
            return None
        return max(circuit.until, circuit.probe_until)

    async def acquire(self, label: str) -> bool:
        """Claim the right to send one request: always when closed; the probe when half-open."""
        circuit = self._get(label)
        if not circuit.until:
            return True  # closed, whatever the time
        now = self._now()
        state = circuit.state(now)
        if state == "closed":
            return True
        if state == "open" or now < circuit.probe_until:
            return False
        circuit.probe_until = now + PROBE_TTL_S
        claimed = True
        if self._link is not None:
            try:
                claimed = await self._link.claim_probe(label, ttl=PROBE_TTL_S)
            except Exception:  # noqa: BLE001 - shared state unreachable: decide locally
                log.warning("could not claim a probe for %s in Redis", label, exc_info=True)
        circuit.probing = claimed
        return claimed

    def release(self, label: str) -> None:
        """The probe ended saying nothing about the deployment (the caller left, or the
        request itself was refused): let the next request probe. Other processes learn
        nothing and wait out their probe TTL."""
        circuit = self._get(label)
        if circuit.probing:
            circuit.probing, circuit.probe_until = False, 0.0

    # -- outcomes -------------------------------------------------------------------------

    async def failed(
        self, label: str, *, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        circuit = self._get(label)
        now = self._now()
        was = circuit.state(now)
        circuit.failures = await self._count_failure(label, circuit)
        if was == "open":
            return  # an attempt that started before the circuit opened: already handled
        wait = retry_after or 0.0
        rate, seen = self._health.of(label).error_rate(self._clock.monotonic())
        if was == "half_open":
            await self._open(label, grow=True, min_cooldown=wait, reason="the probe failed")
        elif rate_limited and retry_after:
            await self._open(
                label,
                grow=False,
                min_cooldown=wait,
                reason=f"rate limited (Retry-After {wait:g} s)",
            )
        elif circuit.failures >= self.policy.failures:
            await self._open(
                label, grow=True, min_cooldown=wait, reason=f"{circuit.failures} failures in a row"
            )
        elif seen >= self.policy.min_requests and rate >= self.policy.error_rate:
            await self._open(
                label,
                grow=True,
                min_cooldown=wait,
                reason=f"{rate:.0%} of {seen} requests failed",
            )

    async def succeeded(self, label: str) -> None:
        circuit = self._get(label)
        if circuit.until:  # closed needs no clock read (nearly every request)
            now = self._now()
            state = circuit.state(now)
            if state == "open":
                return  # began before the circuit opened; only the probe may close it
            if state == "half_open":
                self.apply_closed(label, now)
                if self._link is not None:
                    await self._shared("close", self._link.closed(label, now=now))
                return
        if circuit.failures:
            circuit.failures = 0
            if self._link is not None:
                await self._shared("reset", self._link.reset_failures(label))

    async def _count_failure(self, label: str, circuit: _Circuit) -> int:
        if self._link is None:
            return circuit.failures + 1
        try:
            return await self._link.count_failure(label)
        except Exception:  # noqa: BLE001 - shared state unreachable: count locally
            log.warning("could not count a failure of %s in Redis", label, exc_info=True)
            return circuit.failures + 1

    async def _open(self, label: str, *, grow: bool, min_cooldown: float, reason: str) -> None:
        now = self._now()
        if self._link is not None:
            try:
                opened = await self._link.open(
                    label, grow=grow, min_cooldown=min_cooldown, reason=reason, now=now
                )
            except Exception:  # noqa: BLE001 - shared state unreachable: open locally
                log.warning("could not share the opened circuit of %s", label, exc_info=True)
            else:
                self.apply_open(opened)
                return
        circuit = self._get(label)
        opens = circuit.opens
        if grow:
            forgotten = circuit.closed_at and now - circuit.closed_at > self.policy.cooldown_max_s
            opens = (0 if forgotten else opens) + 1
        until = now + self.policy.cooldown(opens if grow else 0, min_cooldown)
        self.apply_open(OpenedCircuit(label, until, opens, reason))

    async def _shared(self, what: str, call: Awaitable[None]) -> None:
        try:
            await call
        except Exception:  # noqa: BLE001 - the local state is already right
            log.warning("could not share a circuit %s", what, exc_info=True)

    # -- state changes (local, and announced by other processes) ---------------------------

    def apply_open(self, opened: OpenedCircuit) -> None:
        circuit = self._get(opened.label)
        if circuit.until and opened.until < circuit.until:
            return  # an older announcement
        first = circuit.state(self._now()) == "closed"
        circuit.until, circuit.opens, circuit.reason = opened.until, opened.opens, opened.reason
        circuit.failures, circuit.probe_until, circuit.probing = 0, 0.0, False
        if first:
            log.warning(
                "circuit of %s opened until %s: %s",
                opened.label,
                datetime.fromtimestamp(opened.until, UTC).isoformat(timespec="seconds"),
                opened.reason,
            )
        self._changed(opened.label)

    def apply_closed(self, label: str, now: float) -> None:
        circuit = self._get(label)
        was_open = bool(circuit.until)
        circuit.until, circuit.failures, circuit.probe_until = 0.0, 0, 0.0
        circuit.closed_at, circuit.reason, circuit.probing = now, "", False
        if was_open:
            log.info("circuit of %s closed", label)
            self._changed(label)

    def apply_failures(self, label: str, failures: int) -> None:
        self._get(label).failures = failures

    # -- the read API (admin API, `hub deployments`, metrics) -----------------------------

    def view(self, label: str) -> CircuitView:
        circuit = self._get(label)
        now = self._now()
        state = circuit.state(now)
        until = None
        if state != "closed":
            until = datetime.fromtimestamp(circuit.until, UTC)
        return CircuitView(
            label=label,
            state=state,
            until=until,
            opens=circuit.opens,
            consecutive_failures=circuit.failures,
            reason=circuit.reason,
        )

    def retry_after(self, labels: list[str]) -> float:
        """Seconds until the first of these deployments takes traffic again."""
        now = self._now()
        waits = [u - now for u in (self.open_until(label) for label in labels) if u is not None]
        return max(1.0, math.ceil(min(waits))) if waits else 1.0
