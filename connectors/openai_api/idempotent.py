"""`Idempotency-Key` on POST /v1/chat/completions: the key is claimed through the hub
(`hub.idempotency`), the answer remembered, and a repeat answered from it with
`Idempotent-Replayed: true`: plain JSON as it was, a streamed answer re-streamed as SSE.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from connectors.openai_api.chunks import sse
from hub.idempotency_keys import (
    HEADER,
    REPLAYED_HEADER,
    Claim,
    Replay,
    StoredAnswer,
    check_key,
    fingerprint,
)
from hub.model import Caller
from hub.service import Hub

CONNECTOR = "openai_api"
SSE_TYPE = "text/event-stream"


async def begin(hub: Hub, request: web.Request, caller: Caller, body: Any) -> Claim | Replay | None:
    """None when the client sent no key; else this request's claim, or the stored answer."""
    value = request.headers.get(HEADER)
    if value is None:
        return None
    key = check_key(value)
    return await hub.idempotency.begin(
        CONNECTOR, caller.team_id, key, fingerprint(request.path, body)
    )


class Recorder:
    """What went out, so that a repeat can get it again."""

    def __init__(self) -> None:
        self.answer: StoredAnswer | None = None
        self.objects: list[dict[str, Any]] = []

    def plain(self, completion: dict[str, Any], headers: dict[str, str]) -> None:
        self.answer = StoredAnswer(200, completion, _kept(headers))

    def streamed(self, headers: dict[str, str]) -> None:
        """The stream ended with [DONE]: every object written is the answer."""
        self.answer = StoredAnswer(200, self.objects, {**_kept(headers), "Content-Type": SSE_TYPE})


async def replay(request: web.Request, answer: StoredAnswer) -> web.StreamResponse:
    headers = {**answer.headers, REPLAYED_HEADER: "true"}
    if headers.get("Content-Type") != SSE_TYPE:
        return web.json_response(answer.body, status=answer.status, headers=headers)
    response = web.StreamResponse(
        status=answer.status, headers={**headers, "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    for obj in answer.body:
        await response.write(sse(obj))
    await response.write(b"data: [DONE]\n\n")
    return response


def _kept(headers: dict[str, str]) -> dict[str, str]:
    # How the hub answered (deployment, dropped parameters) stays true; its overhead does not.
    return {k: v for k, v in headers.items() if k != "X-UniLLM-Overhead-Ms"}
