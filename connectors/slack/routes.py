"""`POST /slack/events`: verify the signature, then hand the request to Bolt.

Events, slash commands and interactivity all arrive here, as Slack's app settings point them
all at one URL. A request that fails verification gets 401 and touches nothing.
"""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from connectors.slack.verify import SignatureError, verify_request
from hub.clock import Clock

log = logging.getLogger("connectors.slack.routes")


class EventRoutes:
    def __init__(self, app: AsyncApp, *, signing_secret: str, clock: Clock) -> None:
        self._app = app
        self._secret = signing_secret
        self._clock = clock

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [web.post("/slack/events", self.events)]

    async def events(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verify_request(
                secret=self._secret,
                headers=request.headers,
                body=body,
                now=self._clock.now().timestamp(),
            )
        except SignatureError as exc:
            log.warning("refused a request to /slack/events: %s", exc)
            return web.json_response({"error": "invalid_signature"}, status=401)
        bolt_response = await self._app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)
