"""Where a slash-command answer goes: the interaction's messages, then the channel if needed.

An interaction token lives 15 minutes. An answer still streaming after that (or whose token
Discord reports as unknown) is finished as a normal channel message posted as the bot,
replying to the original response, so it is never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.discord.pages import NO_MENTIONS, PagedMessages
from connectors.discord.rest import DiscordAPIError, DiscordRest
from hub.clock import Clock

log = logging.getLogger("connectors.discord.answer")

TOKEN_LIFETIME_S = 15 * 60
# Switch a little early so no call races the token's expiry.
TOKEN_MARGIN_S = 15
EPHEMERAL = 64


@dataclass(frozen=True, slots=True)
class InteractionTarget:
    application_id: str
    token: str
    channel_id: str
    interaction_id: str


class WebhookSink:
    """Page 0 is the deferred original response; later pages are follow-up messages."""

    def __init__(self, rest: DiscordRest, target: InteractionTarget) -> None:
        self._rest = rest
        self._target = target
        self.original_id: str | None = None

    async def create(self, index: int, body: dict[str, Any]) -> str:
        app, token = self._target.application_id, self._target.token
        if index == 0:
            message = await self._rest.edit_original(app, token, body)
            self.original_id = _message_id(message)
            return "@original"
        return _message_id(await self._rest.followup(app, token, body)) or ""

    async def edit(self, index: int, handle: str, body: dict[str, Any]) -> None:
        app, token = self._target.application_id, self._target.token
        if index == 0:
            await self._rest.edit_original(app, token, body)
        else:
            await self._rest.edit_followup(app, token, handle, body)


class ChannelSink:
    """Messages posted as the bot; the first replies to `reply_to` when there is one."""

    def __init__(self, rest: DiscordRest, channel_id: str, reply_to: str | None) -> None:
        self._rest = rest
        self._channel_id = channel_id
        self._reply_to = reply_to

    async def create(self, index: int, body: dict[str, Any]) -> str:
        if index == 0 and self._reply_to:
            body = {
                **body,
                "message_reference": {"message_id": self._reply_to, "fail_if_not_exists": False},
            }
        return _message_id(await self._rest.send_message(self._channel_id, body)) or ""

    async def edit(self, index: int, handle: str, body: dict[str, Any]) -> None:
        await self._rest.edit_message(self._channel_id, handle, body)


class InteractionSurface:
    def __init__(
        self,
        rest: DiscordRest,
        target: InteractionTarget,
        *,
        clock: Clock,
        received_at: float,
        controls: list[dict[str, Any]] | None = None,
    ) -> None:
        self._rest = rest
        self._target = target
        self._clock = clock
        self._deadline = received_at + TOKEN_LIFETIME_S - TOKEN_MARGIN_S
        self._controls = controls
        self._webhook = WebhookSink(rest, target)
        self._primary = PagedMessages(self._webhook, controls=controls)
        self._fallback: PagedMessages[str] | None = None

    @property
    def in_channel(self) -> bool:
        return self._fallback is not None

    async def show(
        self, pages: Sequence[str], *, final: bool, closing: list[dict[str, Any]] | None = None
    ) -> None:
        if self._fallback is None and self._clock.monotonic() >= self._deadline:
            self._switch("the interaction token is about to expire")
        if self._fallback is None:
            try:
                await self._primary.show(pages, final=final, closing=closing)
                return
            except DiscordAPIError as exc:
                if not exc.interaction_expired:
                    raise
                self._switch(f"Discord no longer accepts the interaction token ({exc.code})")
        assert self._fallback is not None
        await self._fallback.show(pages, final=final, closing=closing)

    async def error(self, sentence: str) -> None:
        """One sentence only the asker sees; in the channel when the token is gone."""
        if self._fallback is None and self._clock.monotonic() < self._deadline:
            app, token = self._target.application_id, self._target.token
            try:
                if not self._primary.shown_anything:
                    # A follow-up to a deferred response would replace the public "thinking"
                    # message and stay public; deleting it first lets the error be ephemeral.
                    await self._rest.delete_original(app, token)
                body = {"content": sentence, "flags": EPHEMERAL, "allowed_mentions": NO_MENTIONS}
                await self._rest.followup(app, token, body)
                return
            except DiscordAPIError as exc:
                if not exc.interaction_expired:
                    raise
                self._switch(f"Discord no longer accepts the interaction token ({exc.code})")
        reply_to = self._webhook.original_id
        await ChannelSink(self._rest, self._target.channel_id, reply_to).create(
            0, {"content": sentence, "allowed_mentions": NO_MENTIONS}
        )

    def _switch(self, why: str) -> None:
        log.warning(
            "interaction %s: %s; finishing the answer as a channel message",
            self._target.interaction_id,
            why,
        )
        sink = ChannelSink(self._rest, self._target.channel_id, self._webhook.original_id)
        self._fallback = PagedMessages(sink, controls=self._controls)


def _message_id(message: Any) -> str | None:
    if isinstance(message, dict) and message.get("id") is not None:
        return str(message["id"])
    return None
