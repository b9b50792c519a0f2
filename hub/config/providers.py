"""`[providers.<name>]`: one upstream each, spoken to in its own wire protocol."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from hub.config.base import Secret, Section

ProviderType = Literal["openai", "anthropic", "demo"]
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}


class ProviderSettings(Section):
    # Filled from the table's name ([providers.<name>]); not a key of its own.
    name: str = Field(json_schema_extra={"from_table_name": True})
    type: ProviderType = Field(
        description="`openai` (any OpenAI-compatible server), `anthropic` or `demo`."
    )
    base_url: str = Field(
        "",
        description="The API's base URL; default https://api.openai.com/v1 for openai, "
        "https://api.anthropic.com for anthropic (vLLM, Ollama, Groq, OpenRouter: their /v1).",
    )
    api_key: Secret = Field("", description='The upstream\'s API key, e.g. "${OPENAI_API_KEY}".')
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Seconds per upstream request.")
    anthropic_version: str = Field(
        "2023-06-01", description="The `anthropic-version` header (anthropic only)."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_base_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("base_url"):
            data = {**data, "base_url": DEFAULT_BASE_URLS.get(str(data.get("type")), "")}
        return data

    @model_validator(mode="after")
    def _check_base_url(self) -> ProviderSettings:
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url '{self.base_url}' must be an http(s) URL")
        if self.base_url.endswith("/"):
            return self.model_copy(update={"base_url": self.base_url.rstrip("/")})
        return self
