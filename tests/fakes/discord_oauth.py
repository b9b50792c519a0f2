"""A fake Discord OAuth2 server on 127.0.0.1, in Discord's documented wire format:
GET /api/oauth2/authorize (which approves for `fake.user` at once), POST /api/oauth2/token
(authorization code, client credentials in the form or Basic, PKCE S256 when a challenge was
sent) and GET /api/users/@me with the Bearer token.

async with FakeDiscordOAuth() as discord:  # [..discord_oauth] base_url = discord.base_url
    discord.user = {"id": "80351110224678912", "username": "nelly", "global_name": "Nelly"}
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any, Self
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer

CLIENT_ID = "1234567890"
CLIENT_SECRET = "fake-discord-client-secret"


class FakeDiscordOAuth:
    def __init__(self) -> None:
        self.user: dict[str, Any] = {
            "id": "80351110224678912",
            "username": "nelly",
            "discriminator": "0",
            "global_name": "Nelly",
            "avatar": None,
        }
        self.requests: list[tuple[str, str]] = []
        self._codes: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._server: TestServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/api"))

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get("/api/oauth2/authorize", self._authorize)
        app.router.add_post("/api/oauth2/token", self._token)
        app.router.add_get("/api/users/@me", self._me)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server(shutdown_timeout=0.5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            await self._server.close()

    async def _authorize(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path))
        q = request.query
        redirect = q.get("redirect_uri", "")
        if q.get("client_id") != CLIENT_ID or not redirect:
            return web.json_response({"message": "Invalid OAuth2 redirect_uri", "code": 50035},
                                     status=400)  # fmt: skip
        back = {"state": q.get("state", "")}
        if q.get("response_type") != "code" or "identify" not in q.get("scope", "").split():
            back["error"] = "invalid_scope"
        else:
            code = secrets.token_urlsafe(20)
            self._codes[code] = {"redirect_uri": redirect, "user": dict(self.user),
                                 "challenge": q.get("code_challenge")}  # fmt: skip
            back["code"] = code
        raise web.HTTPFound(f"{redirect}?{urlencode(back)}")

    async def _token(self, request: web.Request) -> web.Response:
        self.requests.append(("POST", request.path))
        form = await request.post()
        client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client != CLIENT_ID or secret != CLIENT_SECRET:
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self._codes.pop(str(form.get("code", "")), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if grant["challenge"] is not None:
            verifier = str(form.get("code_verifier", "")).encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            if digest.decode() != grant["challenge"]:
                return web.json_response({"error": "invalid_grant"}, status=400)
        access = secrets.token_urlsafe(24)
        self._tokens[access] = grant["user"]
        return web.json_response({
            "access_token": access, "token_type": "Bearer", "expires_in": 604800,
            "refresh_token": secrets.token_urlsafe(24), "scope": "identify",
        })  # fmt: skip

    async def _me(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self._tokens.get(token)
        if user is None:
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response(user)
