"""The admin API's request bodies, one model each: `Call.body(Model)` validates a body with it
and /openapi.json publishes its `model_json_schema` under the class name (openapi.py).

A field that is `X | None` takes null as "not given", as the API always has; fields made
with `optional()` may be left out but not sent as null.
"""

from __future__ import annotations

from typing import Annotated

from connectors.admin_api.fields import (
    EventType,
    HttpUrl,
    Id,
    Linkable,
    Moment,
    Name,
    Networks,
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
from hub.body_models import BodyModel, array, integer, optional, text

DEFAULT_GRACE_S = 24 * 3600
MAX_GRACE_S = 90 * 86400


class AdminTeamCreate(BodyModel):
    name: Name
    monthly_budget_usd: Usd | None = None
    monthly_tokens: Tokens | None = None


class NoticeChannel(BodyModel):
    platform: Platform
    channel: Name


class AdminTeamUpdate(BodyModel):
    """Fields left out are unchanged; notice_channel null stops budget notices."""

    member_policy: Policy = optional()
    notice_channel: NoticeChannel | None = None


class AdminMemberCreate(BodyModel):
    name: Text
    role: Role = "member"


class AdminMemberUpdate(BodyModel):
    role: Role


class AdminIdentityLink(BodyModel):
    platform: Linkable
    workspace: Annotated[str, text(0, 100)] | None = None
    user: Name


class AdminKeyCreate(BodyModel):
    name: Annotated[str, text(0, 200)] | None = None
    role: Role = "member"
    member_id: Id | None = None
    expires_at: Moment | None = None
    ip_allowlist: Networks | None = None


class AdminKeyUpdate(BodyModel):
    """Fields left out are unchanged; expires_at null removes the expiry."""

    expires_at: Moment | None = None
    ip_allowlist: Networks | None = None


class AdminKeyRotate(BodyModel):
    """How long the old secret keeps working (default 24 hours)."""

    grace_seconds: Annotated[int, integer(0, MAX_GRACE_S)] | None = DEFAULT_GRACE_S


class AdminQuotaSet(BodyModel):
    """scope_id names the member or key (the team's own id, or left out, for scope team); a
    null or missing limit means unlimited."""

    scope: Scope
    scope_id: Id | None = None
    window: Window
    cost_usd: Usd | None = None
    tokens: Tokens | None = None


class AdminRateLimitSet(BodyModel):
    """Requests and tokens per minute; null or missing means no limit."""

    scope: Scope
    scope_id: Id | None = None
    rpm: PerMinute | None = None
    tpm: PerMinute | None = None


class AdminSubscriptionCreate(BodyModel):
    url: HttpUrl
    events: Annotated[list[EventType], array(min_items=1, max_items=20, of="event types")]


class AdminProviderKeySet(BodyModel):
    """Stored encrypted; never shown again."""

    api_key: Annotated[str, text(1, 4000)]


BODIES: tuple[type[BodyModel], ...] = (
    AdminTeamCreate,
    AdminTeamUpdate,
    AdminMemberCreate,
    AdminMemberUpdate,
    AdminIdentityLink,
    AdminKeyCreate,
    AdminKeyUpdate,
    AdminKeyRotate,
    AdminQuotaSet,
    AdminRateLimitSet,
    AdminSubscriptionCreate,
    AdminProviderKeySet,
)
