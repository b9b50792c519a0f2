"""The admin API's OpenAPI fragment, generated from the endpoint table itself so the
description cannot drift from the routes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.admin_api.endpoint import Endpoint
from connectors.admin_api.schemas import ID, PLATFORM, SCHEMAS, ref
from hub.body_models import component_schemas

PATH_PARAMS: dict[str, dict[str, Any]] = {
    "team_id": ID,
    "member_id": ID,
    "key_id": ID,
    "platform": PLATFORM,
    "external_id": {"type": "string", "minLength": 1, "maxLength": 100},
    "provider": {"type": "string", "minLength": 1, "maxLength": 100},
    "subscription_id": {"type": "string", "minLength": 1, "maxLength": 100},
    "invoice_id": ID,
    "name": {"type": "string", "minLength": 1, "maxLength": 40},
}
_ERRORS = {
    400: "Invalid request; `error.field` names the field",
    401: "Missing, unknown, expired or revoked key",
    403: "The key's role may not do this (or its address is not allowed)",
    404: "No such resource in this team (another team's resources look missing too)",
    409: "Conflicts with the current state",
}
ROLE_NOTE = {
    "operator": "Operator key only.",
    "manage": "Team admin or owner keys (own team), or the operator key.",
    "read_usage": "Any team key from viewer up (own team), or the operator key.",
}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMS[name]}
        for name in endpoint.placeholders
    ]
    parameters += [
        {"name": q.name, "in": "query", "required": False, "schema": dict(q.schema)}
        | ({"description": q.description} if q.description else {})
        for q in endpoint.query
    ]
    success: dict[str, Any] = {"description": "Done"}
    if endpoint.response is not None:
        success["content"] = {endpoint.content_type: {"schema": dict(endpoint.response)}}
    responses: dict[str, Any] = {str(endpoint.status): success}
    for status in endpoint.errors:
        responses[str(status)] = {
            "description": _ERRORS[status],
            "content": {"application/json": {"schema": ref("AdminError")}},
        }
    operation: dict[str, Any] = {
        "tags": [endpoint.tag],
        "summary": endpoint.summary,
        "description": " ".join(filter(None, [endpoint.description, ROLE_NOTE[endpoint.action]])),
        "operationId": "admin_" + endpoint.handler.__name__.strip("_"),
        "security": [{"adminBearer": []}],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(endpoint.body.__name__)}},
        }
    return operation


def fragment(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.full_path, {})[endpoint.method.lower()] = _operation(endpoint)
    tags = sorted({e.tag for e in endpoints})
    bodies = {e.body.__name__: e.body for e in endpoints if e.body is not None}
    return {
        "paths": paths,
        "components": {
            "schemas": SCHEMAS | component_schemas(bodies, ref_prefix="Admin", null_defaults=True),
            "securitySchemes": {
                "adminBearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A team key whose role is admin or owner (viewer: usage "
                    "and audit only), scoped to its own team; or the operator key from "
                    "[security] operator_key, for every team.",
                }
            },
        },
        "tags": [{"name": t, "description": f"Admin API: {t}"} for t in tags],
    }
