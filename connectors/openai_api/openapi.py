"""The OpenAI-compatible API's part of /openapi.json."""

from __future__ import annotations

from typing import Any

from connectors.openai_api.feedback import FeedbackRequest, FeedbackResponse
from connectors.openai_api.schema import ChatCompletionRequest, EmbeddingsRequest
from hub.idempotency_keys import OPENAPI_PARAMETER

Schema = dict[str, Any]
REF_TEMPLATE = "#/components/schemas/OpenAI{model}"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("OpenAIError")}},
    }


_USAGE: Schema = {
    "type": "object",
    "properties": {
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
        "prompt_tokens_details": {
            "type": "object",
            "properties": {"cached_tokens": {"type": "integer"}},
        },
        "completion_tokens_details": {
            "type": "object",
            "properties": {"reasoning_tokens": {"type": "integer"}},
        },
    },
    "required": ["prompt_tokens", "completion_tokens", "total_tokens"],
}
_TOOL_CALL: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
        },
    },
}


def request_schemas() -> dict[str, Schema]:
    """The request bodies' schemas and their parts, from the models that validate them."""
    schemas: dict[str, Schema] = {}
    for name, model in (
        ("OpenAIChatRequest", ChatCompletionRequest),
        ("OpenAIEmbeddingsRequest", EmbeddingsRequest),
        ("OpenAIFeedbackRequest", FeedbackRequest),
        ("OpenAIFeedback", FeedbackResponse),
    ):
        generated = model.model_json_schema(ref_template=REF_TEMPLATE)
        schemas |= {f"OpenAI{n}": part for n, part in generated.pop("$defs", {}).items()}
        schemas[name] = generated
    return schemas


SCHEMAS: dict[str, Schema] = {
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
                                "content": {"type": ["string", "null"]},
                                "refusal": {"type": ["string", "null"]},
                                "tool_calls": {"type": "array", "items": _TOOL_CALL},
                            },
                        },
                        "logprobs": {"type": ["object", "null"]},
                        "finish_reason": {"type": "string"},
                    },
                },
            },
            "usage": _USAGE,
        },
        "required": ["id", "object", "created", "model", "choices", "usage"],
    },
    "OpenAIEmbeddings": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "model": {"type": "string"},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "object": {"const": "embedding"},
                        "index": {"type": "integer"},
                        "embedding": {
                            "anyOf": [
                                {"type": "array", "items": {"type": "number"}},
                                {"type": "string", "description": "base64"},
                            ]
                        },
                    },
                },
            },
            "usage": {
                "type": "object",
                "properties": {
                    "prompt_tokens": {"type": "integer"},
                    "total_tokens": {"type": "integer"},
                },
            },
        },
        "required": ["object", "data"],
    },
    "OpenAIModel": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": {"type": "string"},
        },
        "required": ["id", "object"],
    },
    "OpenAIModelList": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": _ref("OpenAIModel")},
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
        "parameters": [OPENAPI_PARAMETER],
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
            "413": _error("The upstream found the request too large (its own error, passed on)"),
            "409": _error(
                "A request with this Idempotency-Key is still running (Retry-After says when "
                "to ask again)"
            ),
            "422": _error(
                "The upstream refused a parameter (its own error, passed on), or the "
                "Idempotency-Key was used with another body"
            ),
            "429": _error(
                "Rate limit or quota reached, the hub's or the upstream's after retries and "
                "fallbacks (Retry-After says when to retry)"
            ),
            "502": _error("The provider failed, or refused the hub's own credentials"),
            "503": _error("The provider is unavailable"),
        },
    }
    embeddings = {
        "tags": ["openai"],
        "summary": "Embeddings (OpenAI-compatible deployments), accounted like chat",
        "operationId": "openai_embeddings",
        "security": _SECURITY,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("OpenAIEmbeddingsRequest")}},
        },
        "responses": {
            "200": {
                "description": "The upstream's embeddings object, `model` shown as the alias",
                "content": {"application/json": {"schema": _ref("OpenAIEmbeddings")}},
            },
            **_ERRORS,
            "404": _error("Unknown model alias"),
            "429": _error("Rate limit or quota reached (Retry-After says when to retry)"),
            "502": _error("The provider failed"),
            "503": _error("The provider is unavailable"),
        },
    }
    feedback = {
        "tags": ["openai"],
        "summary": "👍 or 👎 on an answer, by its response id (also without experiments)",
        "operationId": "openai_feedback",
        "security": _SECURITY,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ref("OpenAIFeedbackRequest")}},
        },
        "responses": {
            "200": {
                "description": "The vote as stored; voting again replaces it",
                "content": {"application/json": {"schema": _ref("OpenAIFeedback")}},
            },
            **_ERRORS,
            "404": _error("No answer of this team with that response id"),
        },
    }
    one_model = {
        "tags": ["openai"],
        "summary": "One model alias",
        "operationId": "openai_model",
        "security": _SECURITY,
        "parameters": [
            {"name": "model", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {
                "description": "The alias",
                "content": {"application/json": {"schema": _ref("OpenAIModel")}},
            },
            "401": _ERRORS["401"],
            "403": _ERRORS["403"],
            "404": _error("No such alias"),
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
        "paths": {
            "/v1/chat/completions": {"post": chat},
            "/v1/embeddings": {"post": embeddings},
            "/v1/feedback": {"post": feedback},
            "/v1/models": {"get": models},
            "/v1/models/{model}": {"get": one_model},
        },
        "components": {
            "schemas": {**request_schemas(), **SCHEMAS},
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
