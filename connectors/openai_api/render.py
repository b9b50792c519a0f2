"""`ChatResult`s and chunks out in OpenAI's shapes; the hub's errors as OpenAI error bodies."""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from hub.errors import HubError, LimitError, ProviderError
from hub.model import ChatResult, Usage

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def completion_json(result: ChatResult, created: int) -> dict[str, Any]:
    return {
        "id": result.request_id,
        "object": "chat.completion",
        "created": created,
        "model": result.alias,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": result.text},
                "finish_reason": result.finish_reason or "stop",
            }
        ],
        "usage": usage_json(result.usage),
    }


def chunk_json(
    result: ChatResult,
    created: int,
    *,
    delta: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    usage: Usage | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "id": result.request_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": result.alias,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = usage_json(usage)
    return sse(body)


def sse(body: Any) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\n\n"


def error_body(error: HubError) -> dict[str, Any]:
    return {
        "error": {
            "message": error.user_message,
            "type": _TYPES.get(error.status, "api_error"),
            "param": getattr(error, "param", None),
            "code": error.code,
        }
    }


def error_response(error: HubError) -> web.Response:
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, LimitError | ProviderError) and retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    status = error.status if error.status != 499 else 400
    return web.json_response(error_body(error), status=status, headers=headers)
