"""Deployment health: circuit state (shared by every hub process), in-flight requests,
PeakEWMA time to first token and latency, error rates (as measured by the answering process).
Operator only: deployments serve every team."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import ok
from connectors.admin_api.schemas import Schema, nullable, obj

_COUNT: Schema = {"type": "integer", "minimum": 0}
_MS: Schema = nullable({"type": "number", "minimum": 0})
_TEXT: Schema = {"type": "string"}
CIRCUIT = obj(
    {
        "state": {"type": "string", "enum": ["closed", "open", "half_open"]},
        "until": nullable({"type": "string", "format": "date-time"}),
        "opens": _COUNT,
        "consecutive_failures": _COUNT,
        "reason": nullable(_TEXT),
    },
    required=("state", "until", "opens", "consecutive_failures", "reason"),
    description="Open: no process sends it traffic until `until`; half-open: one probe may go.",
)
DEPLOYMENT = obj(
    {
        "deployment": {**_TEXT, "description": "provider/model, as in X-UniLLM-Deployment"},
        "provider": _TEXT,
        "model": _TEXT,
        "aliases": {"type": "array", "items": _TEXT},
        "circuit": CIRCUIT,
        "in_flight": _COUNT,
        "requests": _COUNT,
        "failures": _COUNT,
        "error_rate": {"type": "number", "minimum": 0, "maximum": 1},
        "window_requests": _COUNT,
        "ttft_ms": _MS,
        "latency_ms": _MS,
        "last_error": nullable(_TEXT),
    },
    required=(
        "deployment", "provider", "model", "aliases", "circuit", "in_flight", "requests",
        "failures", "error_rate", "window_requests", "ttft_ms", "latency_ms", "last_error",
    ),
)  # fmt: skip
LISTING = obj({"data": {"type": "array", "items": DEPLOYMENT}}, required=("data",))


async def deployments(call: Call) -> web.Response:
    return ok({"data": [status.as_json() for status in call.hub.deployment_status()]})


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/deployments", deployments,
            "Every deployment's circuit state, in-flight requests, EWMA latency and error rate",
            description="Circuit state is shared by every hub process (through Redis when "
            "configured); latency, in-flight and error figures are the answering process's.",
            action="operator", tag="deployments", response=LISTING, errors=(401, 403),
        ),
    ]  # fmt: skip
