"""Team administration for admins: members and roles, keys, quotas and rate limits, chat
platform bindings, event subscriptions and the audit log, one module each (admin_*.py).

Every page needs a role that may change things (admin, owner, the operator); a viewer is
refused (403) and does not see the "Team" entry. Every change goes through the hub's
services with the signed-in viewer as the audit actor, exactly as the admin API does.
"""

from __future__ import annotations

from aiohttp import web

from connectors.dashboard.admin_audit import AuditPages
from connectors.dashboard.admin_bindings import BindingsPages
from connectors.dashboard.admin_events import EventsPages
from connectors.dashboard.admin_keys import KeysPages
from connectors.dashboard.admin_limits import LimitsPages
from connectors.dashboard.admin_members import MembersPages
from connectors.dashboard.admin_scope import Admin, AdminGuard
from connectors.dashboard.i18n import N_
from connectors.dashboard.kit import Kit, NavItem, Section

NAV = NavItem("/team", N_("Team"), changes=True)


class AdminPages:
    def __init__(self, kit: Kit) -> None:
        self._guard = AdminGuard(kit)
        kit.nav.append(NAV)
        self._parts: list[Section] = [
            MembersPages(self._guard),
            KeysPages(self._guard),
            LimitsPages(self._guard),
            BindingsPages(self._guard),
            EventsPages(self._guard),
            AuditPages(self._guard),
        ]

    def routes(self) -> list[web.RouteDef]:
        routes = [web.get("/team", self._guard(self.landing, section=""))]
        for part in self._parts:
            routes.extend(part.routes())
        return routes

    async def landing(self, admin: Admin) -> web.Response:
        raise web.HTTPSeeOther(admin.url("/team/members"))
