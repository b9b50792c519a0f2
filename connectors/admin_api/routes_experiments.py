"""Experiments, read-only: their definitions and reports (per-variant metrics with 95%
intervals and verdicts), as `hub experiment list|report --json` print them. Operator only:
an experiment splits an alias's traffic for every team."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.auth import OPERATOR
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import ok
from connectors.admin_api.schemas import Schema, nullable, obj

_TEXT: Schema = {"type": "string"}
_TIME: Schema = nullable({"type": "string", "format": "date-time"})
_NUMBER: Schema = nullable({"type": "number"})
VARIANT = obj(
    {"name": _TEXT, "target": _TEXT, "share": {"type": "integer", "minimum": 1, "maximum": 100}},
    required=("name", "target", "share"),
)
EXPERIMENT = obj(
    {
        "name": _TEXT,
        "alias": _TEXT,
        "status": {"type": "string", "enum": ["draft", "running", "stopped"]},
        "sticky": {"type": "string", "enum": ["user", "thread", "team", "none"]},
        "variants": {"type": "array", "items": VARIANT},
        "created_at": {"type": "string", "format": "date-time"},
        "started_at": _TIME,
        "stopped_at": _TIME,
    },
    required=("name", "alias", "status", "sticky", "variants", "created_at", "started_at",
              "stopped_at"),
)  # fmt: skip
ESTIMATE = obj(
    {"value": _NUMBER, "low": _NUMBER, "high": _NUMBER, "n": {"type": "integer"}},
    required=("value", "low", "high", "n"),
    description="The metric with its 95% interval (null where the sample gives none).",
)
REPORT = obj(
    {
        "experiment": EXPERIMENT,
        "confidence": {"type": "number"},
        "variants": {
            "type": "array",
            "items": obj(
                {
                    "name": _TEXT, "target": _TEXT, "share": {"type": "integer"},
                    "requests": {"type": "integer"},
                    "votes": obj({"up": {"type": "integer"}, "down": {"type": "integer"}},
                                 required=("up", "down")),
                    "metrics": {"type": "object", "additionalProperties": ESTIMATE},
                },
                required=("name", "target", "share", "requests", "votes", "metrics"),
            ),
        },
        "comparisons": {
            "type": "array",
            "items": obj(
                {
                    "metric": {"type": "string", "enum": ["feedback", "error_rate", "latency_ms",
                                                          "ttft_ms", "cost_usd"]},
                    "control": _TEXT, "variant": _TEXT, "p_value": _NUMBER,
                    "significant": {"type": "boolean"}, "better": nullable(_TEXT),
                    "verdict": _TEXT,
                },
                required=("metric", "control", "variant", "p_value", "significant", "better",
                          "verdict"),
            ),
        },
    },
    required=("experiment", "confidence", "variants", "comparisons"),
)  # fmt: skip
LISTING = obj({"data": {"type": "array", "items": EXPERIMENT}}, required=("data",))


async def experiments(call: Call) -> web.Response:
    return ok({"data": [e.as_json() for e in await call.hub.experiments.list()]})


async def report(call: Call) -> web.Response:
    name = call.path_text("name", max_len=40)
    return ok((await call.hub.experiments.report(name)).as_json())


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/experiments", experiments, "Every A/B experiment and its state",
            action=OPERATOR, tag="experiments", response=LISTING, errors=(401, 403),
        ),
        Endpoint(
            "GET", "/experiments/{name}/report", report,
            "An experiment's per-variant feedback, error rate, latency, TTFT and cost with 95% "
            "intervals, and which differences are significant",
            action=OPERATOR, tag="experiments", response=REPORT,
        ),
    ]  # fmt: skip
