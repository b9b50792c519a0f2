"""The response cache as the chat path uses it: look up before routing, store after a whole
answer, and say what happened (`hit`, `miss`, `bypass`) for X-UniLLM-Cache.

Off unless the alias sets `cache_ttl_s`. Looked up: requests of such an alias, except those
the client asked to bypass (`Cache-Control: no-cache`) and those with `temperature > 0`
(sampling asks for a different answer each time) unless the alias sets `cache_sampled`; a
request that names no temperature is cached. Stored: only answers that ended by themselves
(`stop`, `tool_calls`) with a status `ok`; never errors, partial or cut answers, refusals
(`content_filter`) or answers cut at max_tokens (`length`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.cache.key import cache_key
from hub.cache.store import CachedAnswer, ResponseCache
from hub.config import ModelSettings
from hub.model import ChatRequest, ChatResult, Status

CacheOutcome = Literal["hit", "miss", "bypass"]
STORED_ENDINGS = frozenset({"stop", "tool_calls"})


@dataclass(frozen=True, slots=True)
class CacheLookup:
    outcome: CacheOutcome
    key: str | None = None
    answer: CachedAnswer | None = None
    ttl_s: int = 0


def bypass_reason(model: ModelSettings, request: ChatRequest) -> str | None:
    if request.no_cache:
        return "the client sent Cache-Control: no-cache"
    temperature = request.options.temperature
    if temperature is not None and temperature > 0 and not model.cache_sampled:
        return "temperature > 0"
    return None


class ResponseCaching:
    def __init__(self, store: ResponseCache) -> None:
        self.store = store

    async def lookup(self, model: ModelSettings, request: ChatRequest) -> CacheLookup | None:
        """None when the alias has no cache (no X-UniLLM-Cache header either)."""
        if model.cache_ttl_s <= 0:
            return None
        if bypass_reason(model, request) is not None:
            return CacheLookup("bypass")
        scope = "global" if model.cache_scope == "global" else f"team:{request.caller.team_id}"
        key = cache_key(request, alias=model.alias, scope=scope)
        answer = await self.store.get(key)
        return CacheLookup("hit" if answer else "miss", key, answer, model.cache_ttl_s)

    async def remember(self, lookup: CacheLookup, result: ChatResult) -> bool:
        """Store a whole answer after a miss; True if it was stored."""
        if lookup.outcome != "miss" or lookup.key is None or not storable(result):
            return False
        assert result.deployment is not None
        await self.store.put(
            lookup.key,
            CachedAnswer(
                text=result.text,
                finish_reason=result.finish_reason or "stop",
                usage=result.usage,
                deployment=result.deployment,
                cost_micros=result.cost_micros,
                request_id=result.request_id,
            ),
            ttl_s=lookup.ttl_s,
        )
        return True


def storable(result: ChatResult) -> bool:
    return (
        result.status == Status.OK
        and result.deployment is not None
        and (result.finish_reason or "stop") in STORED_ENDINGS
        and bool(result.text)
        and result.other_output_chars == 0  # tool calls, refusals, other choices: not replayable
    )


def replay(text: str, *, piece: int = 64) -> list[str]:
    """A cached answer as stream deltas: pieces cut after whitespace, joined back exactly."""
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(len(text), start + piece)
        if end < len(text):
            cut = text.rfind(" ", start, end)
            end = cut + 1 if cut > start else end
        pieces.append(text[start:end])
        start = end
    return pieces
