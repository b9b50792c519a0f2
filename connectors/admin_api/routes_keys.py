"""A team's API keys: list and get (never a secret or hash), create and rotate (the secret is in
that one answer), restrict (networks, expiry) and revoke.

Keys with the admin or owner role are an owner's business: an admin key could otherwise
mint or take over a stronger key. A key may always rotate or restrict itself."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from connectors.admin_api.bodies import (
    DEFAULT_GRACE_S,
    AdminKeyCreate,
    AdminKeyRotate,
    AdminKeyUpdate,
)
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import key_json, ok
from connectors.admin_api.routes_members import require_owner_for
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import InvalidField
from hub.errors import BadRequest
from hub.ledger.keys import IssuedKey
from hub.store.ledger_tables import ApiKey


async def _issued(call: Call, issued: IssuedKey) -> web.Response:
    row = await call.hub.keys.get(issued.id)
    return ok(key_json(row) | {"key": issued.key}, status=201)


def _guard(call: Call, row: ApiKey) -> None:
    if row.id != call.principal.key_id:
        require_owner_for(call, row.role)


async def list_keys(call: Call) -> web.Response:
    rows = await call.hub.keys.list(call.own_team)
    return ok({"data": [key_json(row) for row, _ in rows]})


async def get_key(call: Call) -> web.Response:
    return ok(key_json(await call.key(call.path_id("key_id"))))


async def create_key(call: Call) -> web.Response:
    body = await call.body(AdminKeyCreate)
    require_owner_for(call, body.role)
    if body.member_id is not None:
        await call.member(body.member_id)
    try:
        issued = await call.hub.keys.create(
            call.own_team,
            name=body.name or "",
            role=body.role,
            member_id=body.member_id,
            expires_at=body.expires_at,
            ip_allowlist=body.ip_allowlist,
        )
    except BadRequest as exc:  # the only thing the service can refuse here: a network
        raise InvalidField("ip_allowlist", exc.user_message) from exc
    return await _issued(call, issued)


async def update_key(call: Call) -> web.Response:
    row = await call.key(call.path_id("key_id"))
    _guard(call, row)
    body = await call.body(AdminKeyUpdate)
    if not body.model_fields_set:
        return ok(key_json(row))
    try:
        updated = await call.hub.keys.update(
            row.id,
            ip_allowlist=body.ip_allowlist,
            expires_at=body.expires_at,
            clear_expiry="expires_at" in body.model_fields_set and body.expires_at is None,
        )
    except BadRequest as exc:
        raise InvalidField("ip_allowlist", exc.user_message) from exc
    return ok(key_json(updated))


async def revoke_key(call: Call) -> web.Response:
    row = await call.key(call.path_id("key_id"))
    _guard(call, row)
    return ok(key_json(await call.hub.keys.revoke(row.id)))


async def rotate_key(call: Call) -> web.Response:
    row = await call.key(call.path_id("key_id"))
    _guard(call, row)
    body = await call.body(AdminKeyRotate)
    grace = DEFAULT_GRACE_S if body.grace_seconds is None else body.grace_seconds
    if row.revoked_at is not None:
        raise InvalidField("key_id", f"Key {row.id} is revoked; create a new one instead.")
    return await _issued(call, await call.hub.keys.rotate(row.id, grace=timedelta(seconds=grace)))


def endpoints() -> list[Endpoint]:
    item = "/teams/{team_id}/keys/{key_id}"
    return [
        Endpoint(
            "GET", "/teams/{team_id}/keys", list_keys, "List keys (never their secrets)",
            action="manage", tag="keys", response=ref("AdminKeyList"),
        ),
        Endpoint(
            "POST", "/teams/{team_id}/keys", create_key, "Create a key; the secret is shown once",
            action="manage", tag="keys", body=AdminKeyCreate,
            response=ref("AdminKeyIssued"), status=201,
            description="Keys with the admin or owner role need an owner key.",
        ),
        Endpoint(
            "GET", item, get_key, "Get a key (never its secret)", action="manage", tag="keys",
            response=ref("AdminKey"),
        ),
        Endpoint(
            "PATCH", item, update_key, "Set a key's allowed networks (CIDR) and expiry",
            action="manage", tag="keys", body=AdminKeyUpdate, response=ref("AdminKey"),
        ),
        Endpoint(
            "POST", item + "/revoke", revoke_key, "Revoke a key", action="manage", tag="keys",
            response=ref("AdminKey"),
        ),
        Endpoint(
            "POST", item + "/rotate", rotate_key,
            "Rotate a key: a new secret now, the old one valid for a grace period",
            action="manage", tag="keys", body=AdminKeyRotate,
            response=ref("AdminKeyIssued"), status=201,
            description="Same key id, so its limits, quotas and usage carry over.",
        ),
    ]  # fmt: skip
