"""Multi-workspace installs: `GET /slack/install` and `GET /slack/oauth_redirect`.

An install link may name the hub team that will pay (`/slack/install?team=NAME&exp=..&sig=..`).
The link is signed by an admin (`hub slack install-link --team NAME`) so that nobody can bind
their own workspace to someone else's team; the team then rides in the signed OAuth state and
the workspace is bound when Slack sends the installer back.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from urllib.parse import urlencode

from aiohttp import web
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow

from connectors.slack.stores import HubInstallationStore, HubOAuthStateStore
from hub.errors import NotFound
from hub.service import Hub

log = logging.getLogger("connectors.slack.install")
BOT_SCOPES = (
    "app_mentions:read",
    "assistant:write",
    "channels:history",
    "chat:write",
    "commands",
    "files:read",
    "groups:history",
    "im:history",
    "mpim:history",
)


def _link_signature(key: str, team: str, expires: int) -> str:
    message = f"slack-install|{team}|{expires}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def install_link_path(*, key: str, team: str, expires: int) -> str:
    """The path of a signed install link for `team`, valid until `expires` (unix seconds)."""
    query = {"team": team, "exp": str(expires), "sig": _link_signature(key, team, expires)}
    return "/slack/install?" + urlencode(query)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"</head><body><h1>{html.escape(title)}</h1><p>{html.escape(body)}</p></body></html>"
    )
    return web.Response(status=status, text=text, content_type="text/html")


class InstallRoutes:
    def __init__(
        self,
        hub: Hub,
        *,
        flow: AsyncOAuthFlow,
        states: HubOAuthStateStore,
        installations: HubInstallationStore,
        link_key: str,
    ) -> None:
        self._hub = hub
        self._flow = flow
        self._states = states
        self._installations = installations
        self._link_key = link_key

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [
            web.get("/slack/install", self.install),
            web.get("/slack/oauth_redirect", self.oauth_redirect),
        ]

    def _link_valid(self, request: web.Request, team: str) -> bool:
        try:
            expires = int(request.query.get("exp", ""))
        except ValueError:
            return False
        expected = _link_signature(self._link_key, team, expires)
        given = request.query.get("sig", "")
        fresh = expires > self._hub.clock.now().timestamp()
        return fresh and hmac.compare_digest(expected, given)

    async def install(self, request: web.Request) -> web.StreamResponse:
        team = request.query.get("team", "").strip() or None
        if team is not None:
            if not self._link_valid(request, team):
                return _page(
                    "Install link not valid",
                    "This install link is unsigned or has expired; ask a hub admin for a new one.",
                    403,
                )
            try:
                await self._hub.teams.get(team)
            except NotFound:
                return _page("Unknown team", f"The hub has no team named '{team}'.", 404)
        state = await self._states.async_issue(team=team)
        url = self._flow.settings.authorize_url_generator.generate(state)
        raise web.HTTPFound(url)

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        if request.query.get("error"):
            return _page("Installation cancelled", "Slack did not install the app.", 400)
        consumed = await self._states.consume(request.query.get("state", ""))
        if consumed is None:
            return _page(
                "Installation link expired",
                "This installation attempt expired or was already used; start again.",
                400,
            )
        installation = await self._flow.run_installation(request.query.get("code", ""))
        if installation is None:
            return _page("Installation failed", "Slack refused the installation code.", 400)
        await self._installations.async_save(installation)
        workspace = installation.team_id or installation.enterprise_id or ""
        if consumed.team is None:
            return _page(
                "Installed",
                f"The app is installed in {installation.team_name or workspace}. Ask a hub admin "
                f"to bind it to a team: hub bind slack {workspace} --team NAME",
            )
        await self._hub.bindings.bind("slack", workspace, await self._hub.teams.get(consumed.team))
        log.info("slack workspace %s installed and bound to team %s", workspace, consumed.team)
        return _page(
            "Installed",
            f"The app is installed in {installation.team_name or workspace} and its usage is "
            f"accounted to the hub team '{consumed.team}'.",
        )
