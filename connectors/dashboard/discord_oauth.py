"""Sign in with Discord: OAuth2's authorization code flow (scope `identify`, with state and
PKCE, which Discord supports), then GET /users/@me with the access token. The Discord user id
finds the member it is linked to (`hub member link --platform discord`).
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from connectors.dashboard.config import DiscordOAuthSettings
from connectors.dashboard.federation import FederationError, Flow, Identity, callback_errors
from connectors.dashboard.oauth_client import AsyncOAuth2Client, OAuthError
from connectors.dashboard.refusal import N_


class DiscordProvider:
    name = "discord"
    label = "Discord"

    def __init__(self, settings: DiscordOAuthSettings) -> None:
        self._settings = settings
        self._base = settings.base_url.rstrip("/")

    async def start(self, flow: Flow) -> str:
        async with self._client(flow) as client:
            url, _ = client.create_authorization_url(
                f"{self._base}/oauth2/authorize",
                state=flow.state,
                code_verifier=flow.verifier,
                prompt="none",  # no second consent screen for someone who approved before
            )
        return str(url)

    async def finish(self, query: Mapping[str, str], flow: Flow) -> Identity:
        code = callback_errors(query, flow)
        async with self._client(flow) as client:
            try:
                await client.fetch_token(
                    f"{self._base}/oauth2/token", code=code, code_verifier=flow.verifier
                )
                response = await client.get(f"{self._base}/users/@me")
                response.raise_for_status()
                user = response.json()
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                reason = exc.error if isinstance(exc, OAuthError) else type(exc).__name__
                raise FederationError(
                    N_("Discord did not accept the sign-in (%(reason)s); start again."),
                    reason=reason,
                ) from None
        if not isinstance(user, dict) or not isinstance(user.get("id"), str):
            raise FederationError(N_("Discord did not say who signed in; start again."))
        shown = str(user.get("global_name") or user.get("username") or user["id"])
        return Identity(links=(("discord", None, user["id"]),), shown_as=shown)

    def _client(self, flow: Flow) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            client_id=self._settings.client_id,
            client_secret=self._settings.client_secret,
            token_endpoint_auth_method="client_secret_post",
            scope="identify",
            redirect_uri=flow.redirect_uri,
            code_challenge_method="S256",
            timeout=10.0,
        )
