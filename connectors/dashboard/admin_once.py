"""A resent form gets one answer: the forms that create something whose secret is shown
once (a key, a rotation, a subscription) carry a one-time token, claimed in the hub's
deliveries table (`hub.deliveries`, the same first-wins row the chat platforms' retries
use). Reloading the page that showed a secret, or a double click, finds the token already
claimed and says what was done, instead of creating a second key or rotating again; the
secret itself is never stored to be shown again.
"""

from __future__ import annotations

import json
import re

from aiohttp import web

from connectors.dashboard.admin_forms import Form
from connectors.dashboard.admin_scope import Admin, actor_of

FIELD = "once"  # the hidden field; admin_scope puts a fresh token in every page
CONNECTOR = "dashboard"  # the deliveries table's scope for these tokens
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Once:
    """One form submission: `begin` claims it (or answers the repeat), then exactly one of
    `done` (what was made, for the repeat's page) or `release` (refused: may be sent again)."""

    def __init__(self, admin: Admin, form: Form) -> None:
        self._admin = admin
        token = form.raw(FIELD)
        # Per viewer and team: another session cannot see or spend this one's token.
        who = actor_of(admin.viewer)
        self._id = f"{admin.team.id}:{who}:{token}" if _TOKEN.fullmatch(token) else None

    async def begin(self) -> web.Response | None:
        """None: this is the first time (go ahead); else the page for a repeat."""
        hub = self._admin.kit.hub
        if self._id is None or await hub.deliveries.claim(CONNECTOR, self._id):
            return None
        state = await hub.deliveries.get(CONNECTOR, self._id)
        made: dict[str, str] = {}
        if state is not None and state.status == "done" and state.response:
            made = json.loads(state.response)
        admin = self._admin
        return admin.page(
            "admin_repeat.html", title=admin._("Already sent"), status=409,
            link=admin.url(made["path"]) if made.get("path") else "",
        )  # fmt: skip

    async def done(self, path: str) -> None:
        if self._id is not None:
            await self._admin.kit.hub.deliveries.complete(
                CONNECTOR, self._id, json.dumps({"path": path})
            )

    async def release(self) -> None:
        if self._id is not None:
            await self._admin.kit.hub.deliveries.release(CONNECTOR, self._id)
