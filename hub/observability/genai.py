"""The OpenTelemetry GenAI semantic conventions, as `gen_ai_latest_experimental` has them,
for the spans and metrics of one upstream attempt (`chat {model}`, kind CLIENT).

Only current attribute names are written: never `gen_ai.system` (now `gen_ai.provider.name`),
`gen_ai.usage.prompt_tokens`/`completion_tokens` (now `input_tokens`/`output_tokens`),
`gen_ai.prompt`/`gen_ai.completion` or their indexed `.0.content` forms (content, when
captured at all, goes to `gen_ai.input.messages`/`gen_ai.output.messages` as JSON).

Hub attributes, documented in README: `unillm.cost_usd` (what the attempt cost, in USD, at
the deployment's prices), `unillm.alias`, `unillm.deployment`, `unillm.attempt`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from hub.config import DeploymentSettings, ProviderSettings
from hub.ledger.money import micros_to_usd
from hub.model import ChatRequest, Origin, Usage

OPERATION = "chat"
# gen_ai.provider.name's well-known values for the provider types the hub speaks.
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "demo": "unillm.demo"}


def conversation_id(origin: Origin) -> str | None:
    return origin.conversation


def server_of(provider: ProviderSettings | None) -> dict[str, Any]:
    if provider is None or not provider.base_url:
        return {}
    parts = urlsplit(provider.base_url)
    if not parts.hostname:
        return {}
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return {"server.address": parts.hostname, "server.port": port}


def common_attributes(
    deployment: DeploymentSettings, provider: ProviderSettings | None
) -> dict[str, Any]:
    """What spans and gen_ai.client.* metrics share (low cardinality)."""
    kind = provider.type if provider is not None else deployment.provider
    return {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": PROVIDER_NAMES.get(kind, kind),
        "gen_ai.request.model": deployment.model,
        **server_of(provider),
    }


def request_attributes(
    request: ChatRequest, *, max_tokens: int | None, alias: str
) -> dict[str, Any]:
    options = request.options
    attributes: dict[str, Any] = {
        "gen_ai.request.stream": True,  # the hub always streams from the upstream
        "unillm.alias": alias,
    }
    if max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = max_tokens
    if options.temperature is not None:
        attributes["gen_ai.request.temperature"] = float(options.temperature)
    if options.top_p is not None:
        attributes["gen_ai.request.top_p"] = float(options.top_p)
    if options.stop:
        attributes["gen_ai.request.stop_sequences"] = list(options.stop)
    conversation = conversation_id(request.origin)
    if conversation:
        attributes["gen_ai.conversation.id"] = conversation
    return attributes


def usage_attributes(usage: Usage, deployment: DeploymentSettings) -> dict[str, Any]:
    return {
        "gen_ai.usage.input_tokens": usage.prompt_tokens,
        "gen_ai.usage.output_tokens": usage.completion_tokens,
        "gen_ai.usage.cache_read.input_tokens": usage.cached_tokens,
        "gen_ai.usage.cache_creation.input_tokens": usage.cache_write_tokens,
        "gen_ai.usage.reasoning.output_tokens": usage.reasoning_tokens,
        "unillm.cost_usd": micros_to_usd(deployment.cost_of(usage)),
    }


def input_messages(request: ChatRequest) -> str:
    """gen_ai.input.messages as JSON (spans cannot hold structured values yet)."""
    messages = []
    for message in request.messages:
        parts = [{"type": "text", "content": message.plain_text}]  # images are not recorded
        messages.append({"role": message.role, "parts": parts})
    return json.dumps(messages, ensure_ascii=False)


def output_messages(text: str, finish_reason: str | None) -> str:
    return json.dumps(
        [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": text}],
                "finish_reason": finish_reason or "stop",
            }
        ],
        ensure_ascii=False,
    )
