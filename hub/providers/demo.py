"""The built-in demo provider: no key, no network; streams a labelled canned answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

from hub.clock import Clock
from hub.config import DeploymentSettings, ProviderSettings
from hub.ledger.estimate import estimate_prompt_tokens
from hub.model import ChatChunk, ChatRequest, Usage
from hub.providers.capabilities import unsupported_by_text_only

ANSWER = (
    "[demo provider] This is a canned answer from UniLLM Hub's built-in demo provider, "
    'so you can try the hub with nothing configured. You asked: "{question}". '
    "Add a real provider in config/hub.toml to get real answers."
)


class DemoProvider:
    def __init__(self, settings: ProviderSettings, clock: Clock, word_delay_s: float = 0.02):
        self._settings = settings
        self._clock = clock
        self._delay = word_delay_s

    def unsupported(self, deployment: DeploymentSettings, request: ChatRequest) -> list[str]:
        """A canned answer: it honours only plain chat."""
        return unsupported_by_text_only(request)

    async def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int | None,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]:
        question = next((m.plain_text for m in reversed(request.messages) if m.role == "user"), "")
        if len(question) > 80:
            question = question[:77] + "..."
        every_word = ANSWER.format(question=question).split(" ")
        words = every_word[:max_tokens] if max_tokens is not None else every_word
        prompt_tokens = estimate_prompt_tokens(request.messages)
        for i, word in enumerate(words):
            await self._clock.sleep(self._delay)
            yield ChatChunk.delta(word if i == 0 else " " + word)
        yield ChatChunk.delta(
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(words)),
            finish_reason="length" if len(words) < len(every_word) else "stop",
        )
