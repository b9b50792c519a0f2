"""The `[connectors.openai_api]` section: the OpenAI-compatible API under /v1."""

from __future__ import annotations

from pydantic import Field

from hub.config import MIB, ConnectorSection, body_limit


class OpenAIApiSettings(ConnectorSection):
    enabled: bool = Field(
        True, description="Serve /v1 (chat completions, models) for any OpenAI SDK."
    )
    # Images and files travel inline as base64, so chat bodies are large; the key is checked
    # before any of it is read.
    max_body_bytes: int = body_limit(20 * MIB, route="/v1/chat/completions or /v1/embeddings")
