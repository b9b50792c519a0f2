"""Circuit state shared through Redis: counters and opens atomically, changes by pub/sub.

Keys (under the hub's key prefix): `circuit:<label>` (a hash: until, opens, reason,
closed_at), `circuit-fails:<label>` (consecutive failures, expiring with the error window) and
`circuit-probe:<label>` (the half-open probe's claim, SET NX with a TTL). Opening runs as one
Lua script, so two processes tripping the same circuit at once open it once, with one cooldown.
Every change is published on the `circuits` signal channel (hub/signals.py), and each process
applies it to its memory, which is what routing reads.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from hub.redis_lazy import redis_client, redis_errors
from hub.signals import Signals, Subscription

if TYPE_CHECKING:
    from hub.routing.circuits import CircuitPolicy, Circuits

from hub.routing.circuits import OpenedCircuit

log = logging.getLogger("hub.routing.circuit_link")
CHANNEL = "circuits"

_OPEN = """
local now, base, max = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local min_cooldown, grow, reason = tonumber(ARGV[4]), ARGV[5] == '1', ARGV[6]
local h = redis.call('HMGET', KEYS[1], 'until', 'opens', 'closed_at', 'reason')
local till, opens = tonumber(h[1]) or 0, tonumber(h[2]) or 0
if till > now then return {tostring(till), opens, h[4] or reason} end
local cooldown = 0
if grow then
  local closed_at = tonumber(h[3]) or 0
  if closed_at > 0 and now - closed_at > max then opens = 0 end
  opens = opens + 1
  cooldown = math.min(base * 2 ^ (opens - 1), max)
end
cooldown = math.max(cooldown, min_cooldown)
till = now + cooldown
redis.call('HSET', KEYS[1], 'until', tostring(till), 'opens', opens, 'reason', reason)
redis.call('EXPIRE', KEYS[1], math.ceil(cooldown + 2 * max))
redis.call('DEL', KEYS[2], KEYS[3])
return {tostring(till), opens, reason}
"""

_CLOSE = """
redis.call('HSET', KEYS[1], 'until', '0', 'closed_at', ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(2 * tonumber(ARGV[2])))
redis.call('DEL', KEYS[2], KEYS[3])
return 1
"""


class RedisCircuitLink:
    def __init__(
        self,
        *,
        redis_url: str,
        key_prefix: str,
        signals: Signals,
        policy: CircuitPolicy,
        window_s: float,
    ) -> None:
        self._redis: Any = redis_client(redis_url)
        self._prefix = key_prefix.rstrip(":") + ":"
        self._signals = signals
        self._policy = policy
        self._window_s = window_s
        self._subscription: Subscription | None = None
        self._circuits: Circuits | None = None
        self._open_script = self._redis.register_script(_OPEN)
        self._close_script = self._redis.register_script(_CLOSE)

    def _keys(self, label: str) -> list[str]:
        return [
            f"{self._prefix}circuit:{label}",
            f"{self._prefix}circuit-fails:{label}",
            f"{self._prefix}circuit-probe:{label}",
        ]

    async def start(self, circuits: Circuits) -> None:
        self._circuits = circuits
        self._subscription = await self._signals.subscribe(CHANNEL, self._on_message)
        # Circuits opened before this process started (pub/sub only tells what comes next).
        try:
            async for key in self._redis.scan_iter(match=f"{self._prefix}circuit:*"):
                state = await self._redis.hgetall(key)
                label = str(key)[len(f"{self._prefix}circuit:") :]
                if float(state.get("until") or 0) > 0:
                    circuits.apply_open(_opened(label, state))
        except redis_errors() as exc:
            log.warning("could not read open circuits from Redis: %s", exc)

    async def close(self) -> None:
        if self._subscription is not None:
            await self._subscription.close()
            self._subscription = None
        await self._redis.aclose()

    async def count_failure(self, label: str) -> int:
        key = self._keys(label)[1]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(1, int(self._window_s)))
            count, _ = await pipe.execute()
        await self._publish({"e": "failures", "label": label, "n": int(count)})
        return int(count)

    async def reset_failures(self, label: str) -> None:
        await self._redis.delete(self._keys(label)[1])
        await self._publish({"e": "failures", "label": label, "n": 0})

    async def open(
        self, label: str, *, grow: bool, min_cooldown: float, reason: str, now: float
    ) -> OpenedCircuit:
        policy = self._policy
        until, opens, said = await self._open_script(
            keys=self._keys(label),
            args=[
                repr(now),
                repr(policy.cooldown_s),
                repr(policy.cooldown_max_s),
                repr(min_cooldown),
                "1" if grow else "0",
                reason,
            ],
        )
        opened = OpenedCircuit(label, float(until), int(opens), str(said))
        await self._publish(
            {
                "e": "open",
                "label": label,
                "until": opened.until,
                "opens": opened.opens,
                "reason": opened.reason,
            }
        )
        return opened

    async def closed(self, label: str, *, now: float) -> None:
        await self._close_script(
            keys=self._keys(label), args=[repr(now), repr(self._policy.cooldown_max_s)]
        )
        await self._publish({"e": "closed", "label": label, "at": now})

    async def claim_probe(self, label: str, *, ttl: float) -> bool:
        key = self._keys(label)[2]
        return bool(await self._redis.set(key, "1", nx=True, px=int(ttl * 1000)))

    async def _publish(self, message: dict[str, Any]) -> None:
        await self._signals.publish(CHANNEL, json.dumps(message))

    async def _on_message(self, raw: str) -> None:
        circuits = self._circuits
        if circuits is None:
            return
        try:
            message = json.loads(raw)
            label = str(message["label"])
            if message["e"] == "open":
                circuits.apply_open(
                    OpenedCircuit(
                        label,
                        float(message["until"]),
                        int(message["opens"]),
                        str(message["reason"]),
                    )
                )
            elif message["e"] == "closed":
                circuits.apply_closed(label, float(message["at"]))
            elif message["e"] == "failures":
                circuits.apply_failures(label, int(message["n"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed circuit message: %.200s", raw)


def _opened(label: str, state: dict[str, str]) -> OpenedCircuit:
    return OpenedCircuit(
        label,
        float(state.get("until") or 0),
        int(state.get("opens") or 0),
        state.get("reason", ""),
    )
