"""The slack-bolt `AsyncApp`: one workspace with the bot token from config, or many through
OAuth installs kept in the hub's database. Both talk to `api_base_url`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from connectors.slack.client import oauth_client, web_client
from connectors.slack.config import SlackSettings
from connectors.slack.install import BOT_SCOPES
from connectors.slack.stores import HubInstallationStore, HubOAuthStateStore
from hub.service import Hub

log = logging.getLogger("connectors.slack")


@dataclass(frozen=True, slots=True)
class BoltParts:
    app: AsyncApp
    flow: AsyncOAuthFlow | None
    installations: HubInstallationStore | None
    states: HubOAuthStateStore | None


def file_hosts(settings: SlackSettings) -> tuple[str, ...]:
    """Hosts the bot token may be sent to when fetching files: Slack's, or the configured API."""
    parts = urlsplit(settings.api_base_url)
    host = (parts.hostname or "").lower()
    configured = f"{host}:{parts.port}" if parts.port else host
    return tuple(dict.fromkeys(("slack.com", "slack-edge.com", configured)))


def build_bolt(hub: Hub, settings: SlackSettings) -> BoltParts:
    client = web_client(
        base_url=settings.api_base_url,
        clock=hub.clock,
        token=None if settings.multi_workspace else settings.bot_token,
    )
    common = {
        "logger": log,
        "name": "unillm-hub",
        "client": client,
        "signing_secret": settings.signing_secret,
        # Our own verify step runs first, on the hub clock (see routes.py); Bolt's copy would
        # read the system clock and duplicate the work.
        "request_verification_enabled": False,
        # Listeners only parse, claim and spawn, so running them before the response is fast
        # and leaves no untracked tasks behind.
        "process_before_response": True,
    }
    if not settings.multi_workspace:
        return BoltParts(AsyncApp(**common), None, None, None)  # type: ignore[arg-type]
    installations = HubInstallationStore(hub)
    states = HubOAuthStateStore(hub, key=settings.client_secret)
    flow = AsyncOAuthFlow(
        client=oauth_client(base_url=settings.api_base_url, clock=hub.clock),
        logger=log,
        settings=AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=list(BOT_SCOPES),
            user_scopes=[],
            installation_store=installations,
            state_store=states,
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
            logger=log,
        ),
    )
    app = AsyncApp(oauth_flow=flow, installation_store=installations, **common)  # type: ignore[arg-type]
    return BoltParts(app, flow, installations, states)
