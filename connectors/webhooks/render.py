"""Results, errors and stream events out, in the webhook's JSON shapes."""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from hub.errors import HubError, LimitError, ProviderError, UnknownModel


def error_json(
    error: HubError, *, request_id: str | None = None, metadata: Any = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"message": error.user_message, "code": error.code}}
    field = getattr(error, "field", None)
    if isinstance(error, UnknownModel):
        field = "model"
    if field:
        body["error"]["field"] = field
    if request_id is not None:
        body["id"] = request_id
        body["metadata"] = metadata
    return body


def error_status(error: HubError) -> int:
    if isinstance(error, UnknownModel):
        return 400  # a field of the body, not a missing resource
    return error.status if error.status != 499 else 400


def error_response(error: HubError) -> web.Response:
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if isinstance(error, LimitError | ProviderError) and retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return web.json_response(error_json(error), status=error_status(error), headers=headers)


def sse_event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def compact(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))
