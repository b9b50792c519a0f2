"""Quotas (cost and tokens per day or month) and rate limits (requests and tokens per
minute) on the team, its members and its keys, through hub.teams and hub.rate_limits.

A scope is chosen from the team's own members and keys; another team's is not found. Money
is typed in US dollars and kept in micro-dollars, exactly."""

from __future__ import annotations

from decimal import Decimal

from aiohttp import web

from connectors.dashboard.admin_forms import MAX_PER_MINUTE, MAX_TOKENS, Form, FormError
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_, Numbers
from hub.ledger.money import MICROS_PER_USD
from hub.ledger.teams import QuotaSpec

PAGE = "/team/limits"
WINDOWS = ("day", "month")
NOTICES = {
    "quota": N_("Quota saved."),
    "rate": N_("Rate limit saved."),
    "cleared": N_("Rate limit removed: the defaults apply again."),
}


class LimitsPages:
    def __init__(self, guard: AdminGuard) -> None:
        self._guard = guard

    def routes(self) -> list[web.RouteDef]:
        g = self._guard
        return [
            web.get(PAGE, g(self.show, section="limits")),
            web.post("/team/quotas", g(self.set_quota, section="limits", form=True)),
            web.post("/team/rate-limits", g(self.set_rate, section="limits", form=True)),
            web.post("/team/rate-limits/clear", g(self.clear_rate, section="limits", form=True)),
        ]

    async def show(
        self, admin: Admin, *, form: Form | None = None, error: FormError | None = None
    ) -> web.Response:
        hub = admin.kit.hub
        names = await self._scope_names(admin)
        quotas = await hub.teams.quotas_of(admin.team.id)
        rates = await hub.rate_limits.of_team(admin.team.id)
        defaults = hub.settings.rate_limits
        unlimited = admin._("no limit")
        num = admin.kit.numbers(admin.request)

        def label(scope: str, scope_id: int) -> str:
            return names.get(_scope_value(scope, scope_id), f"{scope}:{scope_id}")

        return admin.page(
            "admin_limits.html", title=admin._("Quotas and limits"),
            status=200 if error is None else error.status,
            state=None if form is None or error is None else form.state(error),
            notices={k: admin._(v) for k, v in NOTICES.items()},
            quotas=[{
                "scope": label(q.scope, q.scope_id), "window": q.window,
                "cost": unlimited if q.cost_limit_micros is None
                else num.usd_exact(q.cost_limit_micros),
                "tokens": unlimited if q.token_limit is None else num.integer(q.token_limit),
            } for q in quotas],
            rates=[{
                "scope": label(r.scope, r.scope_id), "value": _scope_value(r.scope, r.scope_id),
                "rpm": unlimited if r.rpm is None else num.integer(r.rpm),
                "tpm": unlimited if r.tpm is None else num.integer(r.tpm),
            } for r in rates],
            defaults=[
                (admin._("Each key"), _limit(defaults.key_rpm, unlimited, num),
                 _limit(defaults.key_tpm, unlimited, num)),
                (admin._("Each member"), _limit(defaults.member_rpm, unlimited, num),
                 _limit(defaults.member_tpm, unlimited, num)),
                (admin._("The team"), _limit(defaults.team_rpm, unlimited, num),
                 _limit(defaults.team_tpm, unlimited, num)),
            ],
            scopes=list(names.items()),
            windows=[("month", admin._("per month")), ("day", admin._("per day"))],
        )  # fmt: skip

    async def _scope_names(self, admin: Admin) -> dict[str, str]:
        """The scopes a limit may be set on: the team, each member, each key."""
        hub = admin.kit.hub
        names = {_scope_value("team", admin.team.id): admin._("The whole team")}
        for member, _ in await hub.members.list(admin.team):
            names[_scope_value("member", member.id)] = admin._("Member %(name)s") % {
                "name": member.name
            }
        for key, _ in await hub.keys.list(admin.team):
            label = key.prefix if not key.name else f"{key.name} ({key.prefix})"
            names[_scope_value("key", key.id)] = admin._("Key %(name)s") % {"name": label}
        return names

    async def _scope(self, admin: Admin, form: Form) -> tuple[str, int]:
        """The chosen scope, checked to be this team's own (404 otherwise)."""
        raw = form.raw("scope")
        kind, _, ident = raw.partition(":")
        if kind == "team":
            return "team", admin.team.id
        if kind == "member":
            return "member", (await admin.member(ident)).id
        if kind == "key":
            return "key", (await admin.key(ident)).id
        raise FormError("scope", admin._("Choose one of the options."))

    async def set_quota(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("quota", await admin.request.post(), admin._, admin.language)
        try:
            scope, scope_id = await self._scope(admin, form)
            spec = QuotaSpec(
                scope=scope,
                scope_id=scope_id,
                window=form.choice("window", WINDOWS),
                cost_limit_micros=form.usd_micros("cost_usd"),
                token_limit=form.integer("tokens", low=0, high=MAX_TOKENS),
            )
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.teams.set_quota(spec, team_id=admin.team.id)
        raise admin.done(PAGE, "quota")

    async def set_rate(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("rate", await admin.request.post(), admin._, admin.language)
        try:
            scope, scope_id = await self._scope(admin, form)
            rpm = form.integer("rpm", low=1, high=MAX_PER_MINUTE)
            tpm = form.integer("tpm", low=1, high=MAX_PER_MINUTE)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.rate_limits.set(
            scope=scope, scope_id=scope_id, team_id=admin.team.id, rpm=rpm, tpm=tpm
        )
        raise admin.done(PAGE, "rate")

    async def clear_rate(self, admin: Admin) -> web.StreamResponse:
        form = Form.of("clear", await admin.request.post(), admin._, admin.language)
        try:
            scope, scope_id = await self._scope(admin, form)
        except FormError as error:
            return await self.show(admin, form=form, error=error)
        await admin.kit.hub.rate_limits.clear(scope=scope, scope_id=scope_id, team_id=admin.team.id)
        raise admin.done(PAGE, "cleared")


def _scope_value(scope: str, scope_id: int) -> str:
    return scope if scope == "team" else f"{scope}:{scope_id}"


def _limit(per_minute: int, unlimited: str, num: Numbers) -> str:
    return num.integer(per_minute) if per_minute else unlimited


def usd_exact(micros: int) -> str:
    """A limit as it was set, to the micro-dollar ($1,250.125), never rounded for show."""
    whole, _, cents = f"{Decimal(micros) / MICROS_PER_USD:,.6f}".partition(".")
    return f"${whole}.{cents.rstrip('0').ljust(2, '0')}"
