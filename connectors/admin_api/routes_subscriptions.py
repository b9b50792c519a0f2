"""A team's event subscriptions, through the events service (its validation, including the
refusal of private targets); the signing secret is in the creation answer only."""

from __future__ import annotations

from aiohttp import web

from connectors.admin_api.bodies import AdminSubscriptionCreate
from connectors.admin_api.endpoint import Call, Endpoint
from connectors.admin_api.render import no_content, ok, subscription_json
from connectors.admin_api.schemas import ref
from connectors.admin_api.validation import InvalidField
from hub.errors import BadRequest
from hub.events.subscriptions import Subscriptions
from hub.ssrf import TargetRefused

SOURCE = "api"


async def list_subscriptions(call: Call) -> web.Response:
    rows = await Subscriptions.for_hub(call.hub).list(team_id=call.own_team.id)
    return ok({"data": [subscription_json(row) for row in rows]})


async def create_subscription(call: Call) -> web.Response:
    body = await call.body(AdminSubscriptionCreate)
    url, events = body.url, body.events
    service = Subscriptions.for_hub(call.hub)
    try:
        created = await service.create(
            team_id=call.own_team.id, url=url, events=events, source=SOURCE
        )
    except TargetRefused as exc:
        raise InvalidField("url", exc.user_message) from exc
    except BadRequest as exc:
        raise InvalidField("events", exc.user_message) from exc
    view = subscription_json(await service.get(created.id, team_id=call.own_team.id))
    return ok(view | {"secret": created.secret}, status=201)


async def delete_subscription(call: Call) -> web.Response:
    service = Subscriptions.for_hub(call.hub)
    subscription_id = call.path_text("subscription_id")
    await service.delete(subscription_id, team_id=call.own_team.id)
    return no_content()


def endpoints() -> list[Endpoint]:
    return [
        Endpoint(
            "GET", "/teams/{team_id}/subscriptions", list_subscriptions,
            "List event subscriptions (never their secrets)",
            action="manage", tag="subscriptions", response=ref("AdminSubscriptionList"),
        ),
        Endpoint(
            "POST", "/teams/{team_id}/subscriptions", create_subscription,
            "Subscribe a URL to events; the signing secret is shown once",
            action="manage", tag="subscriptions", body=AdminSubscriptionCreate,
            response=ref("AdminSubscriptionCreated"), status=201,
            description="Targets on private or loopback addresses are refused unless the "
            "operator allows them ([webhooks] allow_private_targets).",
        ),
        Endpoint(
            "DELETE", "/teams/{team_id}/subscriptions/{subscription_id}", delete_subscription,
            "Delete a subscription; its pending deliveries are cancelled",
            action="manage", tag="subscriptions", status=204,
        ),
    ]  # fmt: skip
