"""`[providers.<name>]`: one upstream each, spoken to in its own wire protocol."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from hub.config.base import Secret, Section

ProviderType = Literal["openai", "anthropic", "demo"]
# The longest answer a deployment of each kind may give when its table sets no
# `max_output_tokens`: what the reservation holds, and (Anthropic, which needs a limit) what is
# sent. OpenAI's gpt-4.1 family writes up to 32,768 tokens (gpt-4o 16,384; o-series and gpt-5
# more: set theirs); Anthropic's Claude 3.5 Haiku 8,192 (newer models more, Claude 3 Haiku
# 4,096: set theirs); the demo's canned answer is far shorter than 1,024.
DEFAULT_MAX_OUTPUT_TOKENS: dict[str, int] = {"openai": 32_768, "anthropic": 8_192, "demo": 1_024}
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
    max_connections: int = Field(
        100,
        ge=1,
        le=10_000,
        description="Connections this provider's own pool may open (open and idle together); "
        "no provider shares a pool with another, so one that stalls cannot take the others' "
        "connections.",
    )
    max_in_flight: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="Requests to this provider at once (default: max_connections). A request "
        "over the limit waits up to in_flight_wait_s for a slot, then goes to the alias's next "
        "deployment, or is answered 503 with Retry-After when none is left.",
    )
    in_flight_wait_s: float = Field(
        1.0,
        ge=0,
        le=60,
        description="Seconds a request waits for a free slot under max_in_flight.",
    )
    anthropic_version: str = Field(
        "2023-06-01", description="The `anthropic-version` header (anthropic only)."
    )

    @model_validator(mode="before")
    @classmethod
    def _default_base_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("base_url"):
            data = {**data, "base_url": DEFAULT_BASE_URLS.get(str(data.get("type")), "")}
        return data

    @property
    def in_flight_limit(self) -> int:
        return self.max_in_flight if self.max_in_flight is not None else self.max_connections

    @model_validator(mode="after")
    def _check_base_url(self) -> ProviderSettings:
        if self.base_url and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url '{self.base_url}' must be an http(s) URL")
        if self.base_url.endswith("/"):
            return self.model_copy(update={"base_url": self.base_url.rstrip("/")})
        return self
