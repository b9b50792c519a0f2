"""The OpenAI-compatible API's part of /openapi.json."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("OpenAIError")}},
    }


_TEXT_PART: Schema = {
    "type": "object",
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
    "required": ["type", "text"],
}
_IMAGE_PART: Schema = {
    "type": "object",
    "properties": {
        "type": {"const": "image_url"},
        "image_url": {
            "type": "object",
            "properties": {
                "url": {"type": "string", "description": "https URL or base64 data URL"}
            },
            "required": ["url"],
        },
    },
    "required": ["type", "image_url"],
}
_USAGE: Schema = {
    "type": "object",
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
    },
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
}

SCHEMAS: dict[str, Schema] = {
    "OpenAIMessage": {
        "type": "object",
        "properties": {
            "role": {"type": "string", "enum": ["system", "developer", "user", "assistant"]},
            "content": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "minItems": 1, "items": {"anyOf": [_TEXT_PART, _IMAGE_PART]}},
                    {"type": "null", "description": "Only on assistant messages."},
                ]
            },
        },
        "required": ["role", "content"],
    },
    "OpenAIChatRequest": {
        "type": "object",
        "properties": {
            "model": {
                "type": "string",
                "minLength": 1,
                "description": "A model alias (/v1/models).",
            },
            "messages": {"type": "array", "minItems": 1, "items": _ref("OpenAIMessage")},
            "stream": {"type": "boolean", "default": False},
            "stream_options": {
                "type": "object",
                "properties": {"include_usage": {"type": "boolean"}},
            },
            "max_tokens": {"type": "integer", "minimum": 1},
            "max_completion_tokens": {"type": "integer", "minimum": 1},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
            "stop": {
                "anyOf": [
                    {"type": "string"},
                    {"type": "array", "maxItems": 4, "items": {"type": "string"}},
                ]
            },
            "user": {"type": "string", "description": "Your end user, for usage reports."},
        },
        "required": ["model", "messages"],
    },
    "OpenAIChatCompletion": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "chat.completion"},
            "created": {"type": "integer"},
            "model": {"type": "string"},
            "choices": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "index": {"type": "integer"},
                        "message": {
                            "type": "object",
                            "properties": {
                                "role": {"const": "assistant"},
                                "content": {"type": "string"},
                            },
                        },
                        "finish_reason": {"type": "string"},
                    },
                },
            },
            "usage": _USAGE,
        },
        "required": ["id", "object", "created", "model", "choices", "usage"],
    },
    "OpenAIModelList": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "object": {"const": "model"},
                        "created": {"type": "integer"},
                        "owned_by": {"type": "string"},
                    },
                    "required": ["id", "object"],
                },
            },
        },
        "required": ["object", "data"],
    },
    "OpenAIError": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": "string"},
                },
                "required": ["message", "type", "code"],
            }
        },
        "required": ["error"],
    },
}

_SECURITY: list[dict[str, list[str]]] = [{"teamKeyBearer": []}]
_ERRORS = {
    "400": _error("Invalid request; `error.param` names the field"),
    "401": _error("Missing, unknown, expired or revoked key"),
    "403": _error("The key's role or client address is not allowed"),
}


def fragment() -> dict[str, Any]:
    chat = {
        "tags": ["openai"],
        "summary": "Chat completion (OpenAI-compatible), as JSON or as server-sent events",
        "operationId": "openai_chat_completions",
        "security": _SECURITY,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("OpenAIChatRequest")}},
        },
        "responses": {
            "200": {
                "description": "The completion; with `stream: true`, `chat.completion.chunk` "
                "events ending with `data: [DONE]`",
                "content": {
                    "application/json": {"schema": _ref("OpenAIChatCompletion")},
                    "text/event-stream": {"schema": {"type": "string"}},
                },
            },
            **_ERRORS,
            "404": _error("Unknown model alias"),
            "429": _error("Rate limit or quota reached (Retry-After says when to retry)"),
            "502": _error("The provider failed"),
            "503": _error("The provider is unavailable or rate limited"),
        },
    }
    models = {
        "tags": ["openai"],
        "summary": "The model aliases this hub serves",
        "operationId": "openai_models",
        "security": _SECURITY,
        "responses": {
            "200": {
                "description": "Model aliases",
                "content": {"application/json": {"schema": _ref("OpenAIModelList")}},
            },
            "401": _ERRORS["401"],
            "403": _ERRORS["403"],
        },
    }
    return {
        "paths": {"/v1/chat/completions": {"post": chat}, "/v1/models": {"get": models}},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "teamKeyBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A team API key (`uh-...`), as any OpenAI SDK sends it.",
                }
            },
        },
        "tags": [{"name": "openai", "description": "OpenAI-compatible API"}],
    }
