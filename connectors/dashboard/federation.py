"""What signing in through another site shares (OpenID Connect, Discord OAuth2): the state
the browser carries between leaving and coming back, and the identity that comes back.

The state, the nonce and the PKCE verifier travel in a short-lived cookie sealed with the
hub's secret key, scoped to /login: the callback accepts only the answer to the request this
browser started, once (the cookie is cleared on the way back).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Protocol

from authlib.common.security import generate_token
from yarl import URL

from connectors.dashboard.refusal import N_, Refusal
from hub.service import Hub
from hub.store.secretbox import SecretBoxError

FLOW_COOKIE = "hub_oauth"
FLOW_MINUTES = 10


class FederationError(Refusal):
    """A sign-in through another site that did not succeed; `shown()` is on the form."""


@dataclass(frozen=True, slots=True)
class Flow:
    provider: str
    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    expires: float

    @classmethod
    def new(cls, hub: Hub, *, provider: str, redirect_uri: str) -> Flow:
        return cls(
            provider=provider,
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=generate_token(64),  # RFC 7636: 43 to 128 characters
            redirect_uri=redirect_uri,
            expires=(hub.clock.now() + timedelta(minutes=FLOW_MINUTES)).timestamp(),
        )

    def seal(self, hub: Hub) -> str:
        return hub.secrets.encrypt(json.dumps(asdict(self)))

    @classmethod
    def unseal(cls, hub: Hub, raw: str | None, *, provider: str) -> Flow | None:
        if not raw or len(raw) > 4096:
            return None
        try:
            flow = cls(**json.loads(hub.secrets.decrypt(raw)))
        except (SecretBoxError, ValueError, TypeError):
            return None
        if flow.provider != provider or flow.expires < hub.clock.now().timestamp():
            return None
        return flow


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in there, as the identities linked to members say it: (platform,
    workspace or None for any, user), tried in order."""

    links: tuple[tuple[str, str | None, str], ...]
    shown_as: str  # for messages: the person's name or address there


class Provider(Protocol):
    """A site to sign in through."""

    name: str  # in the routes: /login/<name>
    label: str  # "Sign in with <label>"

    async def start(self, flow: Flow) -> str:
        """The URL to send the browser to."""
        ...

    async def finish(self, query: Mapping[str, str], flow: Flow) -> Identity:
        """Who came back, from the callback's query; refuses with FederationError."""
        ...


def callback_errors(query: Mapping[str, str], flow: Flow) -> str:
    """The code of a callback that answers this flow; FederationError otherwise."""
    if "error" in query:
        described = query.get("error_description") or query["error"]
        raise FederationError(
            N_("The sign-in was not completed there: %(reason)s"), reason=described[:200]
        )
    state = query.get("state", "")
    if not state or not hmac.compare_digest(state, flow.state):
        raise FederationError(N_("That sign-in answer was not for this browser; start again."))
    code = query.get("code", "")
    if not code:
        raise FederationError(N_("The answer carried no authorization code; start again."))
    return code


def redirect_uri(public_url: str, origin: URL, provider: str) -> str:
    base = public_url or str(origin)
    return f"{base.rstrip('/')}/login/{provider}/callback"
