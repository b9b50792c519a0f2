"""A team's API keys: create (the secret is on that one page, never again), rotate with a
grace period, revoke, and restrict (client networks, expiry).

As in the admin API, keys with the admin or owner role are an owner's business, and a key
may always rotate or restrict itself."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from aiohttp import web

from connectors.dashboard.admin_forms import Form, FormError
from connectors.dashboard.admin_once import Once
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_, ROLE_NAMES
from hub.errors import BadRequest, Forbidden, InvalidField
from hub.ledger.keys import IssuedKey, key_view
from hub.roles import ROLES
from hub.store.ledger_tables import ApiKey

PAGE = "/team/keys"
# The grace periods offered on rotation: how long the previous secret keeps working.
GRACES = (("0", N_("None: the old secret stops now")), ("3600", N_("1 hour")),
          ("86400", N_("24 hours")), ("604800", N_("7 days")))  # fmt: skip
NOTICES = {"updated": N_("Key saved."), "revoked": N_("Key revoked.")}


class KeysPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        item = PAGE + "/{key_id}"
        return [
            web.get(PAGE, g(self.show, section="keys")),
            web.post(PAGE, g(self.create, section="keys", form=True)),
            web.get(item, g(self.detail, section="keys")),
            web.post(item, g(self.update, section="keys", form=True)),
            web.post(item + "/rotate", g(self.rotate, section="keys", form=True)),
            web.post(item + "/revoke", g(self.revoke, section="keys", form=True)),
        ]

    async def show(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        hub = admin.kit.hub
        keys = [row for row, _ in await hub.keys.list(admin.team)]
        members = {m.id: m.name for m, _ in await hub.members.list(admin.team)}
        grantable = [r for r in ROLES if r not in ("admin", "owner") or admin.may_manage_admins]
        now = hub.clock.now()
        return admin.page(
            "admin_keys.html", title=admin._("Keys"),
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            keys=[_row(k, members, now) for k in keys],
            roles=[(r, admin._(ROLE_NAMES[r])) for r in grantable],
            member_options=[("", admin._("(none: the team)"))]
            + [(str(i), n) for i, n in members.items()],
        )  # fmt: skip

    async def detail(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        row = await admin.key(admin.request.match_info["key_id"])
        return await self._detail(admin, row, form=form, error=error)

    async def _detail(
        self, admin: Admin, row: ApiKey, *, form: Form | None, error: FormError | None
    ) -> web.Response:
        members = {m.id: m.name for m, _ in await admin.kit.hub.members.list(admin.team)}
        view = _row(row, members, admin.kit.hub.clock.now())
        return admin.page(
            "admin_key.html", title=admin._("Key %(name)s") % {"name": view["label"]},
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            key=view, graces=[(v, admin._(text)) for v, text in GRACES],
            own=row.id == admin.viewer.key_id,
        )  # fmt: skip

    async def create(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("create", await admin.request.post(), admin._)
        once = Once(admin, form)
        repeat = await once.begin()
        if repeat is not None:
            return repeat
        try:
            name = form.text("name", max_len=200)
            role = form.choice("role", ROLES)
            _owner_only(admin, role)
            member_id = None
            if form.raw("member"):
                member_id = (await admin.member(form.raw("member"))).id
            expires_at = form.moment("expires_at")
            networks = form.words("ip_allowlist")
            try:
                issued = await admin.kit.hub.keys.create(
                    admin.team, name=name, role=role, member_id=member_id,
                    expires_at=expires_at, ip_allowlist=networks,
                )  # fmt: skip
            except InvalidField as exc:
                raise FormError(exc.field, exc.user_message) from None
            except BadRequest as exc:  # the only other refusal: a network
                raise FormError("ip_allowlist", exc.user_message) from None
        except FormError as error:
            await once.release()
            return await self.show(admin, form=form, error=error)
        except BaseException:
            await once.release()
            raise
        await once.done(f"{PAGE}/{issued.id}")
        return self._secret(admin, issued, rotated=False)

    async def update(self, admin: Admin) -> web.StreamResponse:
        row = await admin.key(admin.request.match_info["key_id"])
        form = Form.of("restrict", await admin.request.post(), admin._)
        try:
            self._guard_key(admin, row)
            networks = form.words("ip_allowlist")
            expires_at = form.moment("expires_at")
            if expires_at is not None and expires_at <= admin.kit.hub.clock.now():
                raise FormError("expires_at", admin._("Choose a time in the future."))
            try:
                await admin.kit.hub.keys.update(
                    row.id, ip_allowlist=networks, expires_at=expires_at,
                    clear_expiry=expires_at is None,
                )  # fmt: skip
            except BadRequest as exc:
                raise FormError("ip_allowlist", exc.user_message) from None
        except FormError as error:
            return await self._detail(admin, row, form=form, error=error)
        raise admin.done(f"{PAGE}/{row.id}", "updated")

    async def rotate(self, admin: Admin) -> web.StreamResponse:
        row = await admin.key(admin.request.match_info["key_id"])
        form = Form.of("rotate", await admin.request.post(), admin._)
        once = Once(admin, form)
        repeat = await once.begin()
        if repeat is not None:
            return repeat
        try:
            self._guard_key(admin, row)
            grace = int(form.choice("grace", [v for v, _ in GRACES]))
            if row.revoked_at is not None:
                raise FormError("grace", admin._("This key is revoked; create a new one instead."))
            issued = await admin.kit.hub.keys.rotate(row.id, grace=timedelta(seconds=grace))
        except FormError as error:
            await once.release()
            return await self._detail(admin, row, form=form, error=error)
        except BaseException:
            await once.release()
            raise
        await once.done(f"{PAGE}/{row.id}")
        return self._secret(admin, issued, rotated=True)

    async def revoke(self, admin: Admin) -> web.StreamResponse:
        row = await admin.key(admin.request.match_info["key_id"])
        form = Form.of("revoke", await admin.request.post(), admin._)
        try:
            self._guard_key(admin, row)
        except FormError as error:
            return await self._detail(admin, row, form=form, error=error)
        await admin.kit.hub.keys.revoke(row.id)
        if row.id == admin.viewer.key_id:  # that was this session's key: it has ended
            raise web.HTTPSeeOther("/login")
        raise admin.done(f"{PAGE}/{row.id}", "revoked")

    def _guard_key(self, admin: Admin, row: ApiKey) -> None:
        if row.id != admin.viewer.key_id:
            _owner_only(admin, row.role)

    def _secret(self, admin: Admin, issued: IssuedKey, *, rotated: bool) -> web.Response:
        """The one page that shows a key's secret; it is not kept anywhere to show again."""
        title = admin._("Key rotated") if rotated else admin._("Key created")
        return admin.page(
            "admin_secret.html", title=title,
            secret=issued.key, secret_label=admin._("The new key"),
            back=admin.url(f"{PAGE}/{issued.id}"),
            back_label=admin._("Go to the key"),
            grace_until=issued.previous_valid_until,
        )  # fmt: skip


def _owner_only(admin: Admin, *roles: str) -> None:
    try:
        admin.require_owner_for(*roles)
    except Forbidden as exc:
        raise FormError("role", exc.user_message, status=403) from None


def _row(row: ApiKey, members: dict[int, str], now: datetime) -> dict[str, object]:
    view = key_view(row)
    networks: list[str] = json.loads(row.ip_allowlist) if row.ip_allowlist else []
    if row.revoked_at is not None:
        status = "revoked"
    elif row.expires_at is not None and row.expires_at <= now:
        status = "expired"
    else:
        status = "active"
    return view | {
        "label": row.name or row.prefix,
        "member": members.get(row.member_id, "") if row.member_id else "",
        "status": status,
        "networks": "\n".join(networks),
        "expires_input": "" if row.expires_at is None else f"{row.expires_at:%Y-%m-%dT%H:%M}",
    }
