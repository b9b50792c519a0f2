"""The Zapier REST API's part of /openapi.json; the request bodies' schemas come from the models
that validate them (bodies.py)."""

from __future__ import annotations

from typing import Any

from connectors.zapier.bodies import EVENTS, ZapierAsk, ZapierSubscribe
from hub.body_models import component_schemas
from hub.idempotency_keys import OPENAPI_PARAMETER

Schema = dict[str, Any]
_SECURITY: list[dict[str, list[str]]] = [{"zapierApiKey": []}]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_EVENT: Schema = {
    "type": "string",
    "enum": list(EVENTS),
    "description": "A Zapier trigger name, or the hub event type it stands for.",
}

SCHEMAS: dict[str, Schema] = {
    **component_schemas({"ZapierAsk": ZapierAsk, "ZapierSubscribe": ZapierSubscribe}),
    "ZapierMe": {
        "type": "object",
        "properties": {
            "team": {"type": "string"},
            "key_name": {"type": "string"},
            "key_prefix": {"type": "string"},
        },
        "required": ["team", "key_name", "key_prefix"],
    },
    "ZapierAnswer": {
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
    "ZapierSubscribed": {
        "type": "object",
        "properties": {"id": {"type": "string"}, "event": {"type": "string"}},
        "required": ["id", "event"],
    },
    "ZapierError": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                    "field": {"type": "string"},
                },
                "required": ["message", "code"],
            }
        },
        "required": ["error"],
    },
}


def _operation(summary: str, op_id: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    error = _ref("ZapierError")
    return {
        "tags": ["zapier"],
        "summary": summary,
        "operationId": op_id,
        "security": _SECURITY,
        "responses": {
            **responses,
            "400": _json("Invalid request; `error.field` names the field", error),
            "401": _json("Missing, unknown, expired or revoked key", error),
            "403": _json("The key's client address is not allowed", error),
        },
        **extra,
    }


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def fragment() -> dict[str, Any]:
    error = _ref("ZapierError")
    hook_id = {"name": "hook_id", "in": "path", "required": True, "schema": {"type": "string"}}
    event = {"name": "event", "in": "path", "required": True, "schema": _EVENT}
    paths = {
        "/zapier/me": {
            "get": _operation(
                "Authentication test: the key's team", "zapier_me",
                {"200": _json("The key's team and name", _ref("ZapierMe"))},
            )
        },
        "/zapier/actions/ask": {
            "post": _operation(
                "Ask LLM action", "zapier_ask",
                {
                    "200": _json("The answer", _ref("ZapierAnswer")),
                    "409": _json("A request with this Idempotency-Key is still running", error),
                    "422": _json("The Idempotency-Key was used with another body", error),
                    "429": _json("Rate limit or quota reached", error),
                    "502": _json("The provider failed", error),
                },
                requestBody=_body("ZapierAsk"),
                parameters=[OPENAPI_PARAMETER],
            )
        },
        "/zapier/hooks": {
            "post": _operation(
                "Subscribe a REST hook (Zapier turns a Zap on)", "zapier_subscribe",
                {"201": _json("Subscribed", _ref("ZapierSubscribed"))},
                requestBody=_body("ZapierSubscribe"),
            )
        },
        "/zapier/hooks/{hook_id}": {
            "delete": _operation(
                "Unsubscribe a REST hook (Zapier turns a Zap off)", "zapier_unsubscribe",
                {"204": {"description": "Unsubscribed"},
                 "404": _json("No such subscription of this team", error)},
                parameters=[hook_id],
            )
        },
        "/zapier/triggers/{event}/samples": {
            "get": _operation(
                "Recent items of a trigger, newest first (performList)", "zapier_samples",
                {
                    "200": _json(
                        "Items, each with a stable id",
                        {"type": "array", "items": {"type": "object"}},
                    ),
                    "404": _json("No samples for this trigger", error),
                },
                parameters=[event],
            )
        },
    }  # fmt: skip
    return {
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "zapierApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "A team API key (`uh-...`).",
                }
            },
        },
        "tags": [{"name": "zapier", "description": "The Zapier app's REST API"}],
    }
