"""What a provider is: something that streams chunks for a request in its wire protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from hub.config import DeploymentSettings
from hub.model import ChatChunk, ChatRequest


class Provider(Protocol):
    """Streams `ChatChunk`s; usage arrives on a chunk (usually the last). Errors are
    `ProviderError`s. Closing the iterator early (the caller went away) must close the
    upstream request.
    """

    def unsupported(self, deployment: DeploymentSettings, request: ChatRequest) -> list[str]:
        """The parameters of `request` this deployment cannot honour, named as the client
        named them (`logprobs`, `messages[2].content[0]`); empty when it can do it all."""
        ...

    def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int | None,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]:
        """`max_tokens` None: send no limit upstream (a provider that needs one, Anthropic,
        uses the deployment's own). With `request.drop_unsupported`, leave out what
        `unsupported` names."""
        ...
