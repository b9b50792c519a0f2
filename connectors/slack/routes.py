"""`POST /slack/events`: verify the signature, then hand the request to Bolt.

Events, slash commands and interactivity all arrive here, as Slack's app settings point them
all at one URL. The signature headers are checked before the body is read, and the body is
read only up to `[connectors.slack] max_body_bytes`: a request that is not Slack's costs no
memory. One that fails verification gets 401 and touches nothing.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from connectors.slack.payload_shape import check_shape
from connectors.slack.verify import SignatureError, check_signature, signed_headers
from hub.clock import Clock
from hub.errors import InvalidField
from hub.request_body import BodyTooLarge, read_body
from hub.untrusted import check_text, load_json

log = logging.getLogger("connectors.slack.routes")


class EventRoutes:
    def __init__(
        self, app: AsyncApp, *, signing_secret: str, clock: Clock, max_body_bytes: int
    ) -> None:
        self._app = app
        self._secret = signing_secret
        self._clock = clock
        self._max_body = max_body_bytes

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [web.post("/slack/events", self.events)]

    async def events(self, request: web.Request) -> web.Response:
        try:
            signed = signed_headers(request.headers, now=self._clock.now().timestamp())
            body = await read_body(request, limit=self._max_body)
            check_signature(self._secret, signed, body)
            text = body.decode("utf-8")
            check_payload(text, request.content_type)
        except SignatureError as exc:
            log.warning("refused a request to /slack/events: %s", exc)
            return web.json_response({"error": "invalid_signature"}, status=401)
        except BodyTooLarge as exc:
            log.warning("refused a request to /slack/events: %s", exc.user_message)
            return web.json_response(
                {"error": "payload_too_large", "message": exc.user_message}, status=413
            )
        except UnicodeDecodeError:
            log.warning("refused a signed request to /slack/events: the body is not UTF-8")
            return web.json_response({"error": "invalid_body"}, status=400)
        except InvalidField as exc:
            log.warning("refused a signed request to /slack/events: %s", exc.user_message)
            return web.json_response(
                {"error": "invalid_body", "message": exc.user_message}, status=400
            )
        try:
            bolt_request = AsyncBoltRequest(
                body=text,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (TypeError, AttributeError, KeyError, ValueError) as exc:
            # Bolt reads ids (user, team, channel, ...) out of the payload as Slack shapes
            # them; a signed payload shaped otherwise is not one Slack sends.
            log.warning(
                "refused a signed request to /slack/events: %s: %s", type(exc).__name__, exc
            )
            return web.json_response(
                {"error": "invalid_body", "message": "This is not a payload Slack sends."},
                status=400,
            )
        bolt_response = await self._app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)


def check_payload(text: str, content_type: str) -> None:
    """Refuse (InvalidField) a body Bolt would choke on, the way Bolt reads it: JSON for the
    Events API, a form whose `payload` is JSON for interactivity; each must be an object,
    nested sanely, without NULs or lone surrogates."""
    if content_type == "application/json":
        documents = [("body", text)]
    else:
        form = parse_qs(text, keep_blank_values=True)
        documents = [("payload", value) for value in form.get("payload", [])]
        for name, values in form.items():
            for value in values:
                check_text(value, field=name[:100])
    for field, document in documents:
        parsed = load_json(document, field=field)
        if not isinstance(parsed, dict):
            raise InvalidField(field, f"The {field} must be a JSON object.")
        check_shape(parsed, field=field)
