"""The hub's errors as OpenAI error bodies and statuses, in one place.

An upstream 4xx the caller caused goes out with the upstream's status, message, type, code
and param. A 429 (the hub's limits, or the upstream's after retries and fallbacks) always
carries Retry-After.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from hub.errors import HubError, ProviderBadRequest

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    409: "invalid_request_error",
    422: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(error: HubError) -> dict[str, Any]:
    upstream = error.upstream if isinstance(error, ProviderBadRequest) else None
    if upstream is not None:
        return {
            "error": {
                "message": upstream.message,
                "type": upstream.type,
                "param": upstream.param,
                "code": upstream.code,
            }
        }
    return {
        "error": {
            "message": error.user_message,
            "type": _TYPES.get(error.status, "api_error"),
            "param": getattr(error, "param", None),
            "code": error.code,
        }
    }


def error_status(error: HubError) -> int:
    return error.status if error.status != 499 else 400


def error_headers(error: HubError) -> dict[str, str]:
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:  # limits, upstream errors, an Idempotency-Key in use
        return {
            "Retry-After": str(max(1, math.ceil(retry_after))),
            "retry-after-ms": str(max(0, math.ceil(retry_after * 1000))),
        }
    if error_status(error) == 429:
        return {"Retry-After": "1"}  # the upstream named no time: a second is a fair pause
    return {}


def error_response(error: HubError) -> web.Response:
    return web.json_response(
        error_body(error), status=error_status(error), headers=error_headers(error)
    )


def plain_error(
    status: int, message: str, *, code: str, headers: dict[str, str] | None = None
) -> web.Response:
    """An OpenAI error body for the API's own refusals (unknown paths, wrong methods)."""
    body = {
        "error": {
            "message": message,
            "type": "invalid_request_error",  # what OpenAI answers for an unknown URL
            "param": None,
            "code": code,
        }
    }
    return web.json_response(body, status=status, headers=headers)
