"""Inbound webhooks' part of /openapi.json: Standard Webhooks headers, body, three answers.

The body's schema is generated from the model that validates it (adapter.WebhookCall)."""

from __future__ import annotations

from typing import Any

from connectors.webhooks.adapter import WebhookCall
from hub.body_models import component_schemas

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _header(name: str, description: str) -> Schema:
    return {
        "name": name,
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": description,
    }


SCHEMAS: dict[str, Schema] = {
    **component_schemas({"WebhookCall": WebhookCall}),
    "WebhookResult": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "output": {"type": "string"},
            "model": {"type": "string"},
            "usage": {
                "type": "object",
                "properties": {
                    "prompt_tokens": {"type": "integer"},
                    "completion_tokens": {"type": "integer"},
                },
            },
            "cost_usd": {"type": "number"},
            "metadata": {},
        },
        "required": ["id", "output", "model", "usage", "cost_usd"],
    },
    "WebhookError": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                    "field": {"type": "string"},
                },
                "required": ["message"],
            }
        },
        "required": ["error"],
    },
}


def fragment() -> dict[str, Any]:
    error = _ref("WebhookError")
    receive = {
        "tags": ["webhooks"],
        "summary": "Ask through an inbound webhook (signed with the Standard Webhooks scheme)",
        "description": "Sign `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 and the "
        "hook's secret. One answer per webhook-id: a retry gets the first answer again.",
        "operationId": "webhook_receive",
        "security": [],
        "parameters": [
            {"name": "hook_id", "in": "path", "required": True, "schema": {"type": "string"}},
            _header("webhook-id", "Unique per message; repeats are answered once."),
            _header("webhook-timestamp", "Unix seconds; within 5 minutes of the hub's clock."),
            _header("webhook-signature", "`v1,<base64 HMAC-SHA256>`, space-separated if several."),
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("WebhookCall")}},
        },
        "responses": {
            "200": {
                "description": "The answer; with `Accept: text/event-stream`, `delta` events "
                "then `done` (or `error`)",
                "content": {
                    "application/json": {"schema": _ref("WebhookResult")},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            "202": _json(
                "Accepted: the result will be POSTed to callback_url",
                {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            ),
            "400": _json("Invalid body; `error.field` names the field", error),
            "401": _json("Missing, stale or wrong signature", error),
            "404": _json("No webhook with this id", error),
            "409": _json("This webhook-id is still being answered; retry shortly", error),
            "429": _json("Rate limit or quota reached", error),
            "502": _json("The provider failed", error),
            "503": _json("The provider is unavailable", error),
        },
    }
    return {
        "paths": {"/hooks/{hook_id}": {"post": receive}},
        "components": {"schemas": SCHEMAS},
        "tags": [{"name": "webhooks", "description": "Inbound webhooks (Standard Webhooks)"}],
    }
