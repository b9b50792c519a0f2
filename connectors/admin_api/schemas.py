"""JSON Schemas (2020-12, as OpenAPI 3.1 allows) of the admin API's answers, which render.py
builds and no validator reads; the request bodies are models (bodies.py)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from connectors.admin_api.fields import (
    Id,
    Moment,
    PerMinute,
    Platform,
    Policy,
    Role,
    Scope,
    Text,
    Tokens,
    Usd,
    Window,
)
from hub.events.outbox import EVENT_TYPES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: Schema, *, required: tuple[str, ...] = (), description: str = "") -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def listing(item: str) -> Schema:
    return obj({"data": {"type": "array", "items": ref(item)}}, required=("data",))


def _of(field_type: Any) -> Schema:
    """The schema of a field type of fields.py: answers, path and query parameters are
    described by the same definitions (and bounds) that check the bodies."""
    return TypeAdapter(field_type).json_schema()


ID = _of(Id)
TEXT = _of(Text)
TIME = _of(Moment)
USD = _of(Usd)
TOKENS = _of(Tokens)
PER_MINUTE = _of(PerMinute)
ROLE = _of(Role)
PLATFORM = _of(Platform)
SCOPE = _of(Scope)
WINDOW = _of(Window)
POLICY = _of(Policy)
CHANNEL = ref("AdminNoticeChannel")  # the body's model (bodies.py): what is set is what is read
TOTALS = obj(
    {
        "requests": {"type": "integer"},
        "prompt_tokens": {"type": "integer"},
        "completion_tokens": {"type": "integer"},
        "total_tokens": {"type": "integer"},
        "cost_usd": {"type": "number"},
        "cached_requests": {
            "type": "integer",
            "description": "Answered from the response cache (status `cached`).",
        },
        "saved_usd": {
            "type": "number",
            "description": "The provider cost that cache hits avoided.",
        },
    },
    required=(
        "requests", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd",
        "cached_requests", "saved_usd",
    ),
)  # fmt: skip
_KEY: Schema = {
    "id": ID,
    "team_id": ID,
    "member_id": nullable(ID),
    "name": {"type": "string"},
    "role": ROLE,
    "prefix": {"type": "string", "description": "The visible start of the secret."},
    "created_at": TIME,
    "expires_at": nullable(TIME),
    "revoked_at": nullable(TIME),
    "last_used_at": nullable(TIME),
    "previous_valid_until": nullable(TIME),
    "ip_allowlist": {"type": "array", "items": {"type": "string"}},
}
_SUBSCRIPTION: Schema = {
    "id": {"type": "string"},
    "team_id": ID,
    "url": {"type": "string"},
    "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
    "source": {"type": "string"},
    "active": {"type": "boolean"},
    "disabled_reason": nullable({"type": "string"}),
    "created_at": TIME,
}
_SECRET_ONCE = "The secret, shown in this response only; store it now."

SCHEMAS: dict[str, Schema] = {
    "AdminError": obj(
        {
            "error": obj(
                {
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                    "field": {"type": "string", "description": "The field at fault, on 400."},
                },
                required=("message", "code"),
            )
        },
        required=("error",),
    ),
    "AdminMe": obj(
        {
            "kind": {"type": "string", "enum": ["operator", "key"]},
            "role": ROLE,
            "team_id": nullable(ID),
            "key_id": nullable(ID),
        },
        required=("kind", "role", "team_id", "key_id"),
    ),
    "AdminTeam": obj(
        {
            "id": ID,
            "name": {"type": "string"},
            "member_policy": POLICY,
            "notice_channel": nullable(CHANNEL),
            "created_at": TIME,
        },
        required=("id", "name", "member_policy", "notice_channel", "created_at"),
    ),
    "AdminTeamList": listing("AdminTeam"),
    "AdminMember": obj(
        {
            "id": ID,
            "team_id": ID,
            "name": {"type": "string"},
            "role": ROLE,
            "identities": {"type": "array", "items": {"type": "string"}},
            "created_at": TIME,
        },
        required=("id", "team_id", "name", "role", "identities", "created_at"),
    ),
    "AdminMemberList": listing("AdminMember"),
    "AdminKey": obj(_KEY, required=tuple(_KEY)),
    "AdminKeyList": listing("AdminKey"),
    "AdminKeyIssued": obj(
        _KEY | {"key": {"type": "string", "description": _SECRET_ONCE}},
        required=(*_KEY, "key"),
    ),
    "AdminQuota": obj(
        {
            "scope": SCOPE,
            "scope_id": ID,
            "window": WINDOW,
            "cost_usd": nullable(USD),
            "tokens": nullable(TOKENS),
        },
        required=("scope", "scope_id", "window", "cost_usd", "tokens"),
    ),
    "AdminQuotaList": listing("AdminQuota"),
    "AdminRateLimit": obj(
        {"scope": SCOPE, "scope_id": ID, "rpm": nullable(PER_MINUTE), "tpm": nullable(PER_MINUTE)},
        required=("scope", "scope_id", "rpm", "tpm"),
    ),
    "AdminRateLimitList": listing("AdminRateLimit"),
    "AdminBinding": obj(
        {"platform": PLATFORM, "external_id": {"type": "string"}, "team_id": ID},
        required=("platform", "external_id", "team_id"),
    ),
    "AdminBindingList": listing("AdminBinding"),
    "AdminSubscription": obj(_SUBSCRIPTION, required=tuple(_SUBSCRIPTION)),
    "AdminSubscriptionList": listing("AdminSubscription"),
    "AdminSubscriptionCreated": obj(
        _SUBSCRIPTION | {"secret": {"type": "string", "description": _SECRET_ONCE}},
        required=(*_SUBSCRIPTION, "secret"),
    ),
    "AdminProviderKey": obj({"provider": {"type": "string"}}, required=("provider",)),
    "AdminProviderKeyList": listing("AdminProviderKey"),
    "AdminUsageGroup": obj(
        {"key": {"type": "string"}} | TOTALS["properties"],
        required=("key", *TOTALS["required"]),
    ),
    "AdminUsage": obj(
        {
            "totals": TOTALS,
            "group_by": nullable(
                {"type": "string", "enum": ["day", "model", "user", "connector", "status"]}
            ),
            "groups": {"type": "array", "items": ref("AdminUsageGroup")},
        },
        required=("totals", "group_by", "groups"),
    ),
    "AdminAuditEntry": obj(
        {
            "id": ID,
            "at": TIME,
            "actor": {"type": "string", "description": "key:<id>, operator:config, cli:<user>"},
            "team_id": nullable(ID),
            "action": {"type": "string"},
            "target": {"type": "string"},
            "before": nullable({"type": "object"}),
            "after": nullable({"type": "object"}),
        },
        required=("id", "at", "actor", "team_id", "action", "target", "before", "after"),
    ),
    "AdminAuditList": listing("AdminAuditEntry"),
    "AdminPlan": obj(
        {
            "name": {"type": "string"},
            "monthly_fee_usd": {"type": "number"},
            "included_usd": {"type": "number"},
            "markup_percent": {"type": "number"},
            "per_model_markup_percent": {
                "type": "object",
                "additionalProperties": {"type": "number"},
            },
            "monthly_budget_usd": nullable({"type": "number"}),
        },
        required=(
            "name",
            "monthly_fee_usd",
            "included_usd",
            "markup_percent",
            "per_model_markup_percent",
            "monthly_budget_usd",
        ),
    ),
    "AdminPlanList": listing("AdminPlan"),
    "AdminBillingStanding": obj(
        {
            "team": {"type": "string"},
            "name": {"type": "string"},
            "address": {"type": "string"},
            "email": {"type": "string"},
            "tax_id": {"type": "string"},
            "stripe_customer_id": nullable({"type": "string"}),
            "status": {"type": "string", "description": "active, past_due, cancelled or suspended"},
            "payment_failed_at": nullable(TIME),
            "plan": nullable({"type": "string"}),
        },
        required=(
            "team",
            "name",
            "address",
            "email",
            "tax_id",
            "stripe_customer_id",
            "status",
            "payment_failed_at",
            "plan",
        ),
    ),
    "AdminInvoiceSummary": obj(
        {
            "id": ID,
            "number": nullable({"type": "string"}),
            "team": {"type": "string"},
            "period": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "issued", "void"]},
            "total_usd": {"type": "number"},
        },
        required=("id", "number", "team", "period", "status", "total_usd"),
    ),
    "AdminInvoiceList": listing("AdminInvoiceSummary"),
    "AdminInvoiceLine": obj(
        {
            "description": {"type": "string"},
            "kind": {"type": "string", "enum": ["fee", "usage", "markup", "allowance"]},
            "model": nullable({"type": "string"}),
            "token_type": nullable({"type": "string"}),
            "quantity": {"type": "integer"},
            "unit_price_usd": {"type": "number"},
            "unit_price_usd_exact": {"type": "string"},
            "amount_usd": {"type": "number"},
            "amount_micros": {"type": "integer"},
        },
        required=(
            "description",
            "kind",
            "model",
            "token_type",
            "quantity",
            "unit_price_usd",
            "unit_price_usd_exact",
            "amount_usd",
            "amount_micros",
        ),
    ),
    "AdminInvoice": obj(
        {
            "id": ID,
            "number": nullable({"type": "string"}),
            "team": {"type": "string"},
            "period": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "issued", "void"]},
            "currency": {"type": "string"},
            "bill_to": {"type": "object", "additionalProperties": {"type": "string"}},
            "issued_at": nullable(TIME),
            "lines": {"type": "array", "items": ref("AdminInvoiceLine")},
            "subtotal_usd": {"type": "number"},
            "rounding_usd": {"type": "number"},
            "total_usd": {"type": "number"},
            "total_micros": {"type": "integer"},
        },
        required=(
            "id",
            "number",
            "team",
            "period",
            "status",
            "currency",
            "bill_to",
            "issued_at",
            "lines",
            "subtotal_usd",
            "rounding_usd",
            "total_usd",
            "total_micros",
        ),
    ),
    "AdminReconciliation": obj(
        {
            "team": {"type": "string"},
            "ledger_usd": {"type": "number"},
            "exported_usd": {"type": "number"},
            "difference_usd": {"type": "number"},
            "ledger_tokens": {"type": "integer"},
            "exported_tokens": {"type": "integer"},
            "pending_events": {"type": "integer"},
            "failed_events": {"type": "integer"},
        },
        required=(
            "team",
            "ledger_usd",
            "exported_usd",
            "difference_usd",
            "ledger_tokens",
            "exported_tokens",
            "pending_events",
            "failed_events",
        ),
    ),
    "AdminReconciliationList": listing("AdminReconciliation"),
}
