"""`POST /discord/interactions`: verify, then answer within Discord's 3 seconds.

PING gets PONG; `/usage`, `/model` and `/quota` are answered in the response itself; `/ask` gets a
deferred response at once and its answer streams afterwards (see ask.py); the Stop button
cancels a running answer.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from connectors.discord.answer_surface import InteractionTarget
from connectors.discord.ask import STOP_PREFIX, AskRunner
from connectors.discord.billing import PLATFORM, alias_for, caller_for
from connectors.discord.config import DiscordConfig
from connectors.discord.errors import user_sentence
from connectors.discord.feedback import FEEDBACK_PREFIX, feedback_reply
from connectors.discord.interaction_model import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    PING,
    Interaction,
    parse_interaction,
)
from connectors.discord.slash import (
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    message,
    model_reply,
    quota_reply,
    usage_reply,
)
from connectors.discord.verify import InteractionVerifier, signed_headers
from hub.errors import BadRequest, HubError
from hub.model import ChatRequest, Message
from hub.request_body import BodyTooLarge, read_body
from hub.service import Hub
from hub.untrusted import load_json

log = logging.getLogger("connectors.discord.interactions")
PATH = "/discord/interactions"


class InteractionsEndpoint:
    def __init__(self, hub: Hub, config: DiscordConfig, runner: AskRunner) -> None:
        self._hub = hub
        self._config = config
        self._runner = runner
        self._verifier = InteractionVerifier(config.public_key)

    def definitions(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.handle)]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # The headers first: a request that cannot be Discord's is not read at all.
        signed = signed_headers(
            signature=request.headers.get("X-Signature-Ed25519"),
            timestamp=request.headers.get("X-Signature-Timestamp"),
            now=self._hub.clock.now(),
        )
        if signed is None:
            return web.json_response({"error": "invalid request signature"}, status=401)
        try:
            body = await read_body(request, limit=self._config.max_body_bytes)
        except BodyTooLarge as exc:
            return web.json_response({"error": exc.user_message}, status=413)
        if not self._verifier.check(signed, body):
            return web.json_response({"error": "invalid request signature"}, status=401)
        try:
            interaction = parse_interaction(load_json(body))
        except (ValueError, BadRequest) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if interaction.type == PING:
            return web.json_response({"type": PING})
        received_at = self._hub.clock.monotonic()
        try:
            if interaction.type == MESSAGE_COMPONENT:
                return web.json_response(await self._component(interaction))
            if interaction.type != APPLICATION_COMMAND:
                return web.json_response({"error": "unsupported interaction type"}, status=400)
            if interaction.command == "ask":
                return await self._ask(request, interaction, received_at)
            if interaction.command == "usage":
                return web.json_response(await usage_reply(self._hub, self._config, interaction))
            if interaction.command == "model":
                return web.json_response(await model_reply(self._hub, self._config, interaction))
            if interaction.command == "quota":
                return web.json_response(await quota_reply(self._hub, self._config, interaction))
            return web.json_response(message("I don't know that command.", ephemeral=True))
        except HubError as exc:
            return web.json_response(message(user_sentence(exc), ephemeral=True))

    async def _component(self, interaction: Interaction) -> dict[str, Any]:
        if interaction.custom_id.startswith(FEEDBACK_PREFIX):
            return await feedback_reply(self._hub, interaction)
        if not interaction.custom_id.startswith(STOP_PREFIX):
            return message("That button is no longer in use.", ephemeral=True)
        refusal = await self._runner.stop(interaction.custom_id, user_id=interaction.user_id)
        if refusal is not None:
            return message(refusal, ephemeral=True)
        # The answer's own task removes the button and marks the message as stopped.
        return {"type": DEFERRED_UPDATE_MESSAGE}

    async def _ask(
        self, request: web.Request, interaction: Interaction, received_at: float
    ) -> web.StreamResponse:
        prompt = interaction.options.get("prompt", "").strip()
        if not prompt:
            return web.json_response(message("Ask something: `/ask prompt:...`", ephemeral=True))
        place = interaction.place
        caller = await caller_for(self._hub, self._config, place)
        alias = await alias_for(self._hub, self._config, place, interaction.options.get("model"))
        chat = ChatRequest(
            caller=caller,
            origin=place.origin(user_id=interaction.user_id, external_id=interaction.id),
            messages=(Message.text("user", prompt),),
            model=alias,
        )
        stream = self._hub.chat(chat)
        first = await self._hub.deliveries.claim(PLATFORM, f"interaction:{interaction.id}")
        response = web.json_response({"type": DEFERRED_CHANNEL_MESSAGE})
        if not first:
            # A redelivery: the first delivery's task is already answering into the same
            # original response, so acknowledge again and do nothing else.
            return response
        # Discord must have our deferred response before the first edit of @original.
        await response.prepare(request)
        await response.write_eof()
        target = InteractionTarget(
            application_id=interaction.application_id,
            token=interaction.token,
            channel_id=place.thread_id or place.channel_id,
            interaction_id=interaction.id,
        )
        self._runner.start(stream, target, user_id=interaction.user_id, received_at=received_at)
        return response
