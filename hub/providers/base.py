"""What a provider is: something that streams chunks for a request in its wire protocol."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from hub.config import DeploymentSettings
from hub.model import ChatChunk, ChatRequest


class Provider(Protocol):
    """Streams `ChatChunk`s; the last chunk carries the usage. Errors are `ProviderError`s.

    Closing the iterator early (the caller went away) must close the upstream request.
    """

    def stream(
        self,
        deployment: DeploymentSettings,
        request: ChatRequest,
        *,
        max_tokens: int,
        api_key: str | None = None,
    ) -> AsyncIterator[ChatChunk]: ...
