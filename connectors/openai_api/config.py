"""The `[connectors.openai_api]` section: the OpenAI-compatible API under /v1."""

from __future__ import annotations

from pydantic import Field

from hub.config import ConnectorSection


class OpenAIApiSettings(ConnectorSection):
    enabled: bool = Field(
        True, description="Serve /v1 (chat completions, models) for any OpenAI SDK."
    )
