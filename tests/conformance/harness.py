"""What the conformance suites share: the cases, the hub's configuration for them, scripting
the fakes from a case, and the expected ledger figures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from tests.conformance.cases import CASES_DIR, PRICES
from tests.fakes.llm_script import Replay

JSON = dict[str, Any]
# What the hub sets in the upstream request; everything else must reach it unchanged.
HUB_SET = ("model", "stream", "stream_options", "max_tokens", "max_completion_tokens")
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-sonnet-4-5"


def load_cases() -> list[JSON]:
    return [json.loads(p.read_text()) for p in sorted(CASES_DIR.glob("*.json"))]


def _deployment(provider: str, model: str, prices: dict[str, float]) -> JSON:
    return {
        "provider": provider,
        "model": model,
        "input_usd_per_mtok": prices["input"],
        "output_usd_per_mtok": prices["output"],
        "cached_input_usd_per_mtok": prices["cached"],
        "cache_write_usd_per_mtok": prices["write"],
    }


def hub_config(openai_url: str, anthropic_url: str) -> JSON:
    claude = {
        "deployments": [_deployment("claude", ANTHROPIC_MODEL, PRICES["anthropic"])],
        "vision": True,
    }
    return {
        "providers": {
            "oa": {"type": "openai", "base_url": openai_url, "api_key": "sk-conformance"},
            "claude": {"type": "anthropic", "base_url": anthropic_url, "api_key": "sk-ant-c"},
        },
        "models": {
            "gpt": {
                "deployments": [_deployment("oa", OPENAI_MODEL, PRICES["openai"])],
                "vision": True,
            },
            "claude": claude,
            "claude-drop": {**claude, "drop_params": True},
        },
        # The cases fail on purpose, one after another: no circuit breaker may open on them
        # but a rate limit's, which the suites wait out on the fake clock.
        "router": {
            "max_retries": 0,
            "backoff_base_s": 0.01,
            "backoff_max_s": 0.01,
            "circuit_failures": 1000,
            "circuit_min_requests": 100_000,
            "circuit_error_rate": 1.0,
        },
    }


def replay(upstream: JSON) -> Replay:
    if "events" in upstream:
        return Replay(stream=tuple(tuple(e) for e in upstream["events"]))
    return Replay(
        stream=tuple(upstream.get("stream", ())),
        response=upstream.get("response"),
        status=upstream.get("status", 200),
        body=upstream.get("body"),
        headers=dict(upstream.get("headers", {})),
        raw_frames=tuple(upstream.get("raw_frames", ())),
    )


def upstream_request_matches(direct: JSON, through_hub: JSON) -> None:
    """The contract: every field but those the hub sets arrives as the client sent it."""
    assert {k: v for k, v in through_hub.items() if k not in HUB_SET} == {
        k: v for k, v in direct.items() if k not in HUB_SET
    }
    assert through_hub["model"] == OPENAI_MODEL
    assert through_hub["stream"] is True
    assert through_hub["stream_options"]["include_usage"] is True


def anthropic_request_matches(expected: JSON, sent: JSON) -> None:
    assert isinstance(sent.get("max_tokens"), int) and sent["max_tokens"] > 0
    assert {k: v for k, v in sent.items() if k != "max_tokens"} == expected


def expected_usage(case: JSON) -> tuple[int, int, int, int, int] | None:
    """(prompt, completion, cached, cache_write, reasoning) the upstream reported."""
    upstream = case["upstream"]
    if "events" in upstream:
        start = next((d for e, d in upstream["events"] if e == "message_start"), None)
        delta = next((d for e, d in upstream["events"] if e == "message_delta"), None)
        if start is None or delta is None:
            return None
        usage = start["message"]["usage"]
        read = usage.get("cache_read_input_tokens", 0)
        write = usage.get("cache_creation_input_tokens", 0)
        return (
            usage["input_tokens"] + read + write,
            delta["usage"]["output_tokens"],
            read,
            write,
            0,
        )
    usage = next((c["usage"] for c in upstream.get("stream", ()) if c.get("usage")), None)
    if usage is None:
        return None
    return (
        usage["prompt_tokens"],
        usage["completion_tokens"],
        usage.get("prompt_tokens_details", {}).get("cached_tokens", 0),
        0,
        usage.get("completion_tokens_details", {}).get("reasoning_tokens", 0),
    )


def expected_cost_micros(wire: str, usage: tuple[int, int, int, int, int]) -> int:
    """The cost by hand, from the stated USD prices per million tokens."""
    prompt, completion, cached, write, _ = usage
    p = PRICES[wire]
    usd = (
        (prompt - cached - write) * p["input"]
        + cached * p["cached"]
        + write * p["write"]
        + completion * p["output"]
    )
    return math.ceil(round(usd, 6))


def without(obj: JSON, *keys: str) -> JSON:
    return {k: v for k, v in obj.items() if k not in keys}


def accumulate(chunks: list[JSON]) -> JSON:
    """What an application builds from a stream: per choice the text, refusal, tool calls
    and finish reason, and the usage."""
    choices: dict[int, JSON] = {}
    usage = None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for position, choice in enumerate(chunk.get("choices") or ()):
            acc = choices.setdefault(
                choice.get("index", position),
                {"content": "", "refusal": "", "tool_calls": {}, "finish_reason": None},
            )
            delta = choice.get("delta") or {}
            acc["content"] += delta.get("content") or ""
            acc["refusal"] += delta.get("refusal") or ""
            for n, call in enumerate(delta.get("tool_calls") or ()):
                merged = acc["tool_calls"].setdefault(
                    call.get("index", n), {"id": None, "name": "", "arguments": ""}
                )
                merged["id"] = call.get("id") or merged["id"]
                function = call.get("function") or {}
                merged["name"] += function.get("name") or ""
                merged["arguments"] += function.get("arguments") or ""
            acc["finish_reason"] = choice.get("finish_reason") or acc["finish_reason"]
    return {"choices": choices, "usage": usage}


def fixtures_root() -> Path:
    return Path(__file__).parent
