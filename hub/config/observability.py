"""`[metrics]`, `[errors]` and what the standard OTEL_* variables ask for.

`[metrics] bearer_token` protects GET /metrics; `[metrics] listen` serves it, unprotected, on
an address of its own (a private interface Prometheus scrapes) instead of the hub's port.
Tracing is off unless an OTLP endpoint is named in the environment, the way every
OpenTelemetry SDK is configured (OTEL_EXPORTER_OTLP_ENDPOINT or ..._TRACES_ENDPOINT). The hub
always emits the GenAI conventions as `gen_ai_latest_experimental` defines them, so
OTEL_SEMCONV_STABILITY_OPT_IN needs no value.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote

from pydantic import Field, field_validator

from hub.config.base import SECRET, Section


class MetricsSettings(Section):
    bearer_token: str = Field(
        default="",
        repr=False,
        json_schema_extra=SECRET,
        description="GET /metrics needs `Authorization: Bearer <this>`; empty: always 401.",
    )
    listen: str = Field(
        default="",
        description="host:port serving /metrics alone, without a token (a private address).",
    )
    per_key: bool = Field(
        default=False,
        description="Add a `key` label (the key id) to request, token and spend counters.",
    )

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        if value:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError("[metrics] listen must be host:port, e.g. 127.0.0.1:9464")
        return value

    @property
    def listen_address(self) -> tuple[str, int] | None:
        if not self.listen:
            return None
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


class ErrorSettings(Section):
    sentry_dsn: str = Field(
        default="",
        repr=False,
        json_schema_extra=SECRET,
        description="Report unexpected exceptions to Sentry (scrubbed); empty: not reported.",
    )
    environment: str = Field(
        default="production", max_length=64, description="Sentry's environment tag."
    )


class OtelSettings(Section):
    """Read from the standard OpenTelemetry environment variables, never from the file."""

    traces_endpoint: str = ""
    metrics_endpoint: str = ""
    headers: Mapping[str, str] = Field(default_factory=dict, repr=False)
    service_name: str = "unillm-hub"
    capture_content: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.traces_endpoint)


class OtelConfigError(ValueError):
    pass


def otel_from_env(env: Mapping[str, str]) -> OtelSettings:
    """OTLP over HTTP/protobuf when an endpoint is set; anything else is refused by name."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return OtelSettings()
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip().rstrip("/")
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    metrics = env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "").strip()
    if not (base or traces):
        return OtelSettings()
    for name in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        protocol = env.get(name, "http/protobuf").strip() or "http/protobuf"
        if protocol != "http/protobuf":
            raise OtelConfigError(
                f"{name}={protocol} is not supported: the hub exports OTLP as http/protobuf"
            )
    if env.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() == "none":
        return OtelSettings()
    return OtelSettings(
        traces_endpoint=traces or f"{base}/v1/traces",
        metrics_endpoint=metrics or (f"{base}/v1/metrics" if base else ""),
        headers=_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", "")),
        service_name=env.get("OTEL_SERVICE_NAME", "").strip() or "unillm-hub",
        capture_content=env.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
        .strip()
        .lower()
        == "true",
    )


def _headers(raw: str) -> dict[str, str]:
    """`key1=value1,key2=value2`, values URL-encoded (the OTLP exporter spec)."""
    headers: dict[str, str] = {}
    for pair in raw.split(","):
        name, sep, value = pair.partition("=")
        if sep and name.strip():
            headers[name.strip().lower()] = unquote(value.strip())
    return headers
