"""Sign in with an OpenID Connect provider (Slack's "Sign in with Slack", Google, Okta,
Keycloak, ...): discovery, the authorization code flow with PKCE, state and nonce, and the ID
token verified against the provider's JWKS.

authlib's OAuth2 client builds the authorization URL (with the S256 code challenge) and
exchanges the code; joserfc (authlib's JOSE library) checks the ID token's signature with a
key of the provider's key set and its claims: issuer, audience (and `azp` when there are
several), expiry and issue time on the hub's clock, and the nonce this browser was given.
The provider's metadata and keys are read once per process; an unknown key id reads the key
set again (the provider rotated its keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from connectors.dashboard.config import SLACK_ISSUER, OidcSettings
from connectors.dashboard.federation import FederationError, Flow, Identity, callback_errors
from connectors.dashboard.oauth_client import AsyncOAuth2Client, OAuthError
from connectors.dashboard.refusal import N_

SLACK_USER = "https://slack.com/user_id"
SLACK_TEAM = "https://slack.com/team_id"
# Asymmetric algorithms only: an ID token signed with the client secret (HS256) or unsigned
# (`none`) is refused.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_S = 60


class OpenIdProvider:
    name = "oidc"

    def __init__(
        self, settings: OidcSettings, *, http: httpx.AsyncClient, now: Callable[[], int]
    ) -> None:
        self._settings = settings
        self._http = http
        self._now = now
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None
        self.label = settings.label or (
            "Slack" if settings.issuer == SLACK_ISSUER else urlsplit(settings.issuer).netloc
        )

    async def start(self, flow: Flow) -> str:
        metadata = await self._discover()
        async with self._client(flow, metadata) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=flow.state,
                nonce=flow.nonce,
                code_verifier=flow.verifier,
            )
        return str(url)

    async def finish(self, query: Mapping[str, str], flow: Flow) -> Identity:
        code = callback_errors(query, flow)
        metadata = await self._discover()
        if "iss" in query and query["iss"] != self._settings.issuer:  # RFC 9207: mix-up
            raise FederationError(N_("That answer came from another provider; start again."))
        async with self._client(flow, metadata) as client:
            try:
                token = await client.fetch_token(
                    metadata["token_endpoint"], code=code, code_verifier=flow.verifier
                )
            except (OAuthError, httpx.HTTPError, ValueError) as exc:
                raise FederationError(
                    N_("%(name)s did not accept the sign-in (%(reason)s); start again."),
                    name=self.label,
                    reason=_reason(exc),
                ) from None
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise FederationError(
                    N_("%(name)s sent no ID token; start again."), name=self.label
                )
            claims = await self._verified(id_token, flow.nonce)
            if self._settings.mapping in ("email", "auto") and "email" not in claims:
                claims = {**await self._userinfo(client, metadata, claims["sub"]), **claims}
        return self._identity(claims)

    def _client(self, flow: Flow, metadata: Mapping[str, Any]) -> AsyncOAuth2Client:
        methods = metadata.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        method = "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post"
        scopes = dict.fromkeys(("openid", *self._settings.scopes))
        return AsyncOAuth2Client(
            client_id=self._settings.client_id,
            client_secret=self._settings.client_secret,
            token_endpoint_auth_method=method,
            scope=" ".join(scopes),
            redirect_uri=flow.redirect_uri,
            code_challenge_method="S256",
            timeout=10.0,
        )

    async def _discover(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self._settings.issuer}/.well-known/openid-configuration"
            metadata = await self._get_json(url)
            if metadata.get("issuer", "").rstrip("/") != self._settings.issuer:
                raise FederationError(
                    N_(
                        "The provider's discovery document names another issuer; ask the "
                        "operator to check [connectors.dashboard.oidc] issuer."
                    )
                )
            for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(metadata.get(needed), str):
                    raise FederationError(
                        N_("The provider's discovery document has no %(field)s."), field=needed
                    )
            self._metadata = metadata
        return self._metadata

    async def _key_set(self, *, fresh: bool) -> KeySet:
        if self._keys is None or fresh:
            metadata = await self._discover()
            try:
                self._keys = KeySet.import_key_set(await self._get_json(metadata["jwks_uri"]))  # type: ignore[arg-type]
            except (JoseError, ValueError, TypeError, KeyError):
                raise FederationError(N_("The provider's key set cannot be read.")) from None
        return self._keys

    async def _verified(self, id_token: str, nonce: str) -> dict[str, Any]:
        allowed = self._algorithms()
        cached = self._keys is not None
        try:
            token = jwt.decode(id_token, await self._key_set(fresh=False), algorithms=allowed)
        except JoseError:
            if not cached:
                raise FederationError(N_("The ID token's signature is not valid.")) from None
            try:  # the provider may have rotated its keys since they were read
                token = jwt.decode(id_token, await self._key_set(fresh=True), algorithms=allowed)
            except JoseError:
                raise FederationError(N_("The ID token's signature is not valid.")) from None
        settings = self._settings
        registry = jwt.JWTClaimsRegistry(
            now=self._now,
            leeway=LEEWAY_S,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(token.claims)
        except JoseError as exc:
            raise FederationError(
                N_("The ID token was refused: %(reason)s."), reason=exc.description
            ) from None
        audience = token.claims["aud"]
        if isinstance(audience, list) and len(audience) > 1:
            if token.claims.get("azp") != settings.client_id:  # OpenID Connect Core 3.1.3.7
                raise FederationError(N_("The ID token was issued to another party."))
        return dict(token.claims)

    def _algorithms(self) -> list[str]:
        offered = (self._metadata or {}).get("id_token_signing_alg_values_supported", ["RS256"])
        return [a for a in ALGORITHMS if a in offered] or ["RS256"]

    async def _userinfo(
        self, client: AsyncOAuth2Client, metadata: Mapping[str, Any], subject: str
    ) -> dict[str, Any]:
        endpoint = metadata.get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        try:
            response = await client.get(endpoint)
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError, OAuthError):
            return {}
        # OpenID Connect Core 5.3.2: a UserInfo answer about someone else is not used.
        return info if isinstance(info, dict) and info.get("sub") == subject else {}

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        mapping = self._settings.mapping
        shown = str(claims.get("email") or claims.get("name") or claims["sub"])
        if mapping == "slack":
            user, team = claims.get(SLACK_USER), claims.get(SLACK_TEAM)
            if not isinstance(user, str) or not isinstance(team, str):
                raise FederationError(N_("Slack did not say which user and workspace signed in."))
            return Identity(links=(("slack", team, user),), shown_as=shown)
        links: list[tuple[str, str | None, str]] = []
        if mapping in ("subject", "auto"):
            links.append(("oidc", self._settings.issuer, str(claims["sub"])))
        verified = claims.get("email_verified") in (True, "true")
        if mapping in ("email", "auto") and isinstance(claims.get("email"), str) and verified:
            links.append(("email", None, str(claims["email"]).strip().lower()))
        return Identity(links=tuple(links), shown_as=shown)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, timeout=10.0)
            response.raise_for_status()
            found = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise FederationError(
                N_("%(name)s cannot be reached just now (%(reason)s); try again later."),
                name=self.label,
                reason=_reason(exc),
            ) from None
        if not isinstance(found, dict):
            raise FederationError(
                N_("%(name)s answered with something unexpected."), name=self.label
            )
        return found


def _reason(exc: Exception) -> str:
    if isinstance(exc, OAuthError):
        return exc.error or "refused"
    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    return type(exc).__name__
