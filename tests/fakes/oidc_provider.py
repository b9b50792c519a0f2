"""A fake OpenID Connect provider on 127.0.0.1, speaking the wire format of OpenID Connect
Core and Discovery: the discovery document, a JWKS with a real RSA key, the authorization
endpoint (which signs in `fake.user` at once, without a login page), the token endpoint
(authorization code with PKCE S256, client_secret_basic or client_secret_post) and UserInfo.

async with FakeOpenIdProvider(now=clock_seconds) as idp:   # [..oidc] issuer = idp.issuer
    idp.user = {"sub": "u-1", "email": "ada@example.com", "email_verified": True}
    idp.slack(user="U1", team="T1")       # Slack's claims, and {"ok": true} in token answers
    idp.deny = True                       # the next authorization answers error=access_denied
    idp.tamper = {"nonce": "other"}       # claims put into (over) the next ID token
    idp.sign_with_other_key = True        # the next ID token is signed by a key not in JWKS
    idp.rotate()                          # a new signing key, published in the JWKS
    idp.requests                          # (method, path) of every request, in order

Every check a real provider makes is made here too, and a failure answers the documented
error (`invalid_grant`, `invalid_client`, ...), so the hub's client is tested against them.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

CLIENT_ID = "hub-dashboard"
CLIENT_SECRET = "fake-oidc-client-secret"


class FakeOpenIdProvider:
    def __init__(
        self,
        *,
        now: Callable[[], int],
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        auth_method: str = "client_secret_basic",
    ) -> None:
        self._now = now
        self.client_id = client_id
        self.client_secret = client_secret
        self.auth_method = auth_method
        self.user: dict[str, Any] = {"sub": "subject-1", "name": "Ada"}
        self.slack_mode = False
        self.deny = False
        self.tamper: dict[str, Any] = {}
        self.sign_with_other_key = False
        self.requests: list[tuple[str, str]] = []
        self.redirect_uris: set[str] | None = None  # None: any (the hub's port is random)
        self._key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._server: TestServer | None = None

    @property
    def issuer(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("")).rstrip("/")

    def slack(self, *, user: str, team: str) -> None:
        self.slack_mode = True
        self.user = {
            **self.user,
            "https://slack.com/user_id": user,
            "https://slack.com/team_id": team,
        }

    def rotate(self) -> None:
        kid = f"k{secrets.token_hex(3)}"
        self._key = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig"})

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._log])
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/userinfo", self._userinfo)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=0.5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    @web.middleware
    async def _log(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        response: web.StreamResponse = await handler(request)
        return response

    async def _discovery(self, request: web.Request) -> web.Response:
        issuer = self.issuer
        return web.json_response({
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [self.auth_method],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "name"],
        })  # fmt: skip

    async def _jwks(self, request: web.Request) -> web.Response:
        return web.json_response(KeySet([self._key]).as_dict(private=False))

    async def _authorize(self, request: web.Request) -> web.Response:
        q = request.query
        redirect = q.get("redirect_uri", "")
        if (
            q.get("client_id") != self.client_id
            or not redirect
            or (self.redirect_uris is not None and redirect not in self.redirect_uris)
        ):  # never redirect to an unregistered URI: answer here (RFC 6749 4.1.2.1)
            return web.Response(status=400, text="invalid client_id or redirect_uri")
        back: dict[str, str] = {"state": q.get("state", ""), "iss": self.issuer}
        scopes = q.get("scope", "").split()
        if self.deny:
            self.deny = False
            back |= {"error": "access_denied", "error_description": "The user said no."}
        elif q.get("response_type") != "code" or "openid" not in scopes:
            back |= {"error": "invalid_request"}
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            back |= {"error": "invalid_request", "error_description": "PKCE S256 is required."}
        else:
            code = secrets.token_urlsafe(24)
            self._codes[code] = {
                "redirect_uri": redirect,
                "challenge": q["code_challenge"],
                "nonce": q.get("nonce"),
                "user": dict(self.user),
            }
            back["code"] = code
        raise web.HTTPFound(f"{redirect}?{urlencode(back)}")

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._client_authenticated(request, form):
            return self._error(401, "invalid_client")
        if form.get("grant_type") != "authorization_code":
            return self._error(400, "unsupported_grant_type")
        grant = self._codes.pop(str(form.get("code", "")), None)  # a code works once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return self._error(400, "invalid_grant")
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant["challenge"]:
            return self._error(400, "invalid_grant", "PKCE verification failed")
        access = secrets.token_urlsafe(24)
        self._tokens[access] = grant["user"]
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self._id_token(grant["user"], grant["nonce"]),
        }
        if self.slack_mode:
            answer["ok"] = True  # Slack's openid.connect.token says so
        return web.json_response(answer, headers={"Cache-Control": "no-store"})

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self._tokens.get(token)
        if user is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response(user)

    def _client_authenticated(self, request: web.Request, form: Any) -> bool:
        if self.auth_method == "client_secret_basic":
            raw = request.headers.get("Authorization", "").removeprefix("Basic ")
            try:
                client, _, secret = base64.b64decode(raw).decode().partition(":")
            except ValueError:
                return False
        else:
            client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        return client == self.client_id and secret == self.client_secret

    def _error(self, status: int, error: str, description: str = "") -> web.Response:
        if self.slack_mode:  # Slack's Web API: HTTP 200, {"ok": false, "error": "invalid_code"}
            slack_error = {"invalid_grant": "invalid_code", "invalid_client": "invalid_client_id"}
            return web.json_response({"ok": False, "error": slack_error.get(error, error)})
        body = {"error": error, **({"error_description": description} if description else {})}
        return web.json_response(body, status=status)

    def _id_token(self, user: dict[str, Any], nonce: str | None) -> str:
        now = self._now()
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **({"nonce": nonce} if nonce else {}),
            **user,
            **self.tamper,
        }
        self.tamper = {}
        key = self._key
        if self.sign_with_other_key:
            self.sign_with_other_key = False
            key = RSAKey.generate_key(2048, parameters={"kid": self._key.kid})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
