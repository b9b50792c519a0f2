"""Event subscriptions: a URL that receives the team's events, signed with a secret shown on
the page that creates it and never again; through the events service, with its refusal of
private and loopback targets (unless `[webhooks] allow_private_targets`)."""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import web

from connectors.dashboard.admin_forms import Form, FormError
from connectors.dashboard.admin_once import Once
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_
from hub.errors import BadRequest
from hub.events.outbox import EVENT_TYPES
from hub.events.subscriptions import Subscriptions
from hub.ssrf import TargetRefused

PAGE = "/team/events"
SOURCE = "dashboard"
NOTICES = {"deleted": N_("Subscription deleted; its pending deliveries are cancelled.")}


class EventsPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get(PAGE, g(self.show, section="events")),
            web.post(PAGE, g(self.create, section="events", form=True)),
            web.post(PAGE + "/{subscription_id}/delete", g(self.delete, section="events",
                                                            form=True)),
        ]  # fmt: skip

    async def show(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        rows = await Subscriptions.for_hub(admin.kit.hub).list(team_id=admin.team.id)
        return admin.page(
            "admin_events.html", title=admin._("Event subscriptions"),
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            subscriptions=[{
                "id": row.id, "url": row.url, "events": row.events.split(","),
                "source": row.source, "active": row.active,
                "disabled_reason": row.disabled_reason,
                "created_at": row.created_at,
            } for row in rows],
            event_types=[(e, e) for e in EVENT_TYPES],
        )  # fmt: skip

    async def create(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("subscribe", await admin.request.post(), admin._)
        service = Subscriptions.for_hub(admin.kit.hub)
        once = Once(admin, form)
        repeat = await once.begin()
        if repeat is not None:
            return repeat
        try:
            url = form.text("url", required=True, max_len=2000)
            if not _http_url(url):
                raise FormError("url", admin._("Enter an http or https URL, such as "
                                               "https://example.com/hooks/hub."))  # fmt: skip
            events = form.many("events")
            if not events:
                raise FormError("events", admin._("Choose at least one event."))
            try:
                created = await service.create(
                    team_id=admin.team.id, url=url, events=events, source=SOURCE
                )
            except TargetRefused as exc:
                raise FormError("url", exc.user_message) from None
            except BadRequest as exc:
                raise FormError("events", exc.user_message) from None
        except FormError as error:
            await once.release()
            return await self.show(admin, form=form, error=error)
        except BaseException:
            await once.release()
            raise
        await once.done(PAGE)
        return admin.page(
            "admin_secret.html", title=admin._("Subscription created"), secret=created.secret,
            secret_label=admin._("Signing secret"), back=admin.url(PAGE),
            back_label=admin._("Back to the subscriptions"), grace_until=None,
        )  # fmt: skip

    async def delete(self, admin: Admin) -> web.StreamResponse:
        subscription_id = admin.request.match_info["subscription_id"]
        # Another team's subscription is not found (the service checks the team).
        await Subscriptions.for_hub(admin.kit.hub).delete(subscription_id, team_id=admin.team.id)
        raise admin.done(PAGE, "deleted")


def _http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
