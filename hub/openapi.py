"""The OpenAPI 3.1 document of the running hub: its own endpoints plus each mounted connector's
fragment, so a disabled connector's paths are not described."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

JSON = "application/json"


class DocumentConflict(ValueError):
    """Two fragments describe the same path or component differently."""


_CHECK_DETAIL = {"type": "string", "description": "`ok`, or why the dependency is not ready."}


def _health_paths() -> dict[str, Any]:
    status = {
        "type": "object",
        "properties": {"status": {"type": "string", "const": "ok"}},
        "required": ["status"],
    }
    ready = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ready", "not ready"]},
            "checks": {"type": "object", "additionalProperties": _CHECK_DETAIL},
        },
        "required": ["status", "checks"],
    }
    return {
        "/healthz": {
            "get": {
                "tags": ["health"],
                "summary": "Liveness: the process answers",
                "operationId": "healthz",
                "responses": {"200": _json("Alive", status)},
            }
        },
        "/readyz": {
            "get": {
                "tags": ["health"],
                "summary": "Readiness: database and (when configured) the shared rate-limit store",
                "operationId": "readyz",
                "responses": {
                    "200": _json("Ready", ready),
                    "503": _json("A dependency is not ready", ready),
                },
            }
        },
        "/metrics": {
            "get": {
                "tags": ["health"],
                "summary": "Prometheus metrics (Authorization: Bearer <[metrics] bearer_token>)",
                "operationId": "metrics",
                "responses": {
                    "200": {
                        "description": "The Prometheus text format (OpenMetrics if asked)",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "401": _json("No or wrong metrics token", {"type": "object"}),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "tags": ["docs"],
                "summary": "This document",
                "operationId": "openapi",
                "responses": {"200": _json("The OpenAPI 3.1 document", {"type": "object"})},
            }
        },
        "/docs": {
            "get": {
                "tags": ["docs"],
                "summary": "This document, browsable (HTML, no external resources)",
                "operationId": "docs",
                "responses": {
                    "200": {
                        "description": "An HTML page",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }


def _json(description: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": dict(schema)}}}


def build_document(
    fragments: Iterable[Mapping[str, Any]], *, title: str = "UniLLM Hub", version: str = "1"
) -> dict[str, Any]:
    """Merge the fragments; two fragments describing the same path or component differently
    is a programming error, raised at start-up rather than served."""
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Every public HTTP endpoint of this hub. Paths of connectors that "
            "are not enabled here are not listed.",
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "paths": _health_paths(),
        "components": {},
        "tags": [
            {"name": "health", "description": "Liveness and readiness probes"},
            {"name": "docs", "description": "This API description"},
        ],
    }
    for fragment in fragments:
        _merge_into(document["paths"], fragment.get("paths", {}), "paths")
        for section, entries in fragment.get("components", {}).items():
            target = document["components"].setdefault(section, {})
            _merge_into(target, entries, f"components.{section}")
        known = {t["name"] for t in document["tags"]}
        document["tags"] += [t for t in fragment.get("tags", ()) if t["name"] not in known]
    if not document["components"]:
        del document["components"]
    return document


def _merge_into(target: dict[str, Any], entries: Mapping[str, Any], where: str) -> None:
    for name, value in entries.items():
        if name in target and target[name] != value:
            raise DocumentConflict(f"Two connectors describe {where} '{name}' differently.")
        target[name] = value
