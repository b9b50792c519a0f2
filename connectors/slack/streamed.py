"""An answer streamed into a thread with Slack's text streaming (`chat_stream`), paced to one
append a second, cut into several messages at clean boundaries, with a Stop button on a small
control message above it.

When Slack ends a stream itself (`message_not_in_streaming_state`, the ~5 minute cap) or the
workspace has no streaming, the rest of the answer continues as edited messages: no text lost.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_chat_stream import AsyncChatStream
from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.client import api_error
from connectors.slack.messages import THINKING
from connectors.slack.pacing import Pacer
from connectors.slack.split import CLOSE_ROOM, choose_cut, close_fence, open_fence
from connectors.slack.updated import UpdatedReply, section, stop_button
from hub.clock import Clock

log = logging.getLogger("connectors.slack.streamed")
STREAM_LIMIT = 3_500
STREAM_GONE = frozenset(
    {
        "message_not_in_streaming_state",
        "streaming_state_conflict",
        "unknown_method",
        "method_not_supported_for_channel_type",
        "not_allowed_token_type",
        "feature_not_enabled",
    }
)


class StreamedReply:
    def __init__(
        self,
        client: AsyncWebClient,
        clock: Clock,
        *,
        channel: str,
        thread_ts: str,
        team_id: str | None,
        user_id: str | None,
        stop_value: str | None,
        limit: int = STREAM_LIMIT,
    ) -> None:
        self._client = client
        self._clock = clock
        self._channel = channel
        self._thread_ts = thread_ts
        self._team_id = team_id
        self._user_id = user_id
        self._stop_value = stop_value
        self._limit = limit
        self._pacer = Pacer(clock, self.render)
        self._stream: AsyncChatStream | None = None
        self._prefix = ""  # a fence reopened at the top of the current message
        self._start = 0  # where the current message begins in the answer text
        self._sent = 0  # characters of the current message (prefix included) already sent
        self._fallback: UpdatedReply | None = None
        self._fallback_from = 0
        self._fallback_prefix = ""
        self._control_ts: str | None = None
        self._closing: dict[str, Any] | None = None  # a block under the finished answer
        self.begun = False

    async def begin(self) -> None:
        blocks = [section(THINKING)]
        if self._stop_value is not None:
            blocks.append(stop_button(self._stop_value))
        response = await self._client.chat_postMessage(
            channel=self._channel, thread_ts=self._thread_ts, text=THINKING, blocks=blocks
        )
        self._control_ts = str(response["ts"])
        self._pacer.start()
        self.begun = True

    def offer(self, text: str) -> None:
        self._pacer.offer(text)

    async def finish(
        self, text: str, *, footer: str | None = None, closing: dict[str, Any] | None = None
    ) -> None:
        self._closing = closing
        if self._fallback is not None:
            self._fallback.close_with(closing)
        # No rstrip: streamed text cannot be taken back, so the footer goes after all of it.
        full = (text + "\n\n" + footer if text else footer) if footer else text
        full = full or "_(no answer)_"
        if self.begun:
            await self._pacer.finish(full)
        else:
            await self.render(full, True)
        await self._drop_control()

    async def abort(self) -> None:
        await self._pacer.abort()
        await self._drop_control()

    async def _drop_control(self) -> None:
        if self._control_ts is None:
            return
        ts, self._control_ts = self._control_ts, None
        try:
            await self._client.chat_delete(channel=self._channel, ts=ts)
        except SlackApiError as exc:
            log.info("could not remove the control message: %s", api_error(exc))

    async def render(self, text: str, final: bool) -> None:
        if self._fallback is not None:
            await self._fallback.render(self._fallback_prefix + text[self._fallback_from :], final)
            return
        try:
            await self._stream_render(text, final)
        except SlackApiError as exc:
            if api_error(exc) not in STREAM_GONE:
                raise
            log.info("slack ended the stream (%s); continuing with edits", api_error(exc))
            shown = self._prefix + text[self._start : self._start + self._sent - len(self._prefix)]
            opener = open_fence(shown) if self._sent else None
            self._fallback_prefix = opener + "\n" if opener else ""
            self._fallback_from = self._start + max(0, self._sent - len(self._prefix))
            self._fallback = UpdatedReply(
                self._client, self._clock, channel=self._channel, thread_ts=self._thread_ts
            )
            self._fallback.close_with(self._closing)
            self._stream = None
            await self._fallback.render(self._fallback_prefix + text[self._fallback_from :], final)

    async def _stream_render(self, text: str, final: bool) -> None:
        while True:
            body = self._prefix + text[self._start :]
            if len(body) <= self._limit:
                delta = body[self._sent :]
                if final:
                    await self._stop(delta, closing=self._closing)
                elif delta:
                    await self._append(delta)
                return
            cut = choose_cut(
                body, lo=max(self._sent, len(self._prefix)), hi=self._limit - CLOSE_ROOM
            )
            head = body[:cut]
            opener = open_fence(head)
            closing = ""
            if opener is not None:
                closing = ("" if head.endswith("\n") else "\n") + close_fence(opener)
            await self._stop(body[self._sent : cut] + closing)
            self._start += cut - len(self._prefix)
            self._prefix = opener + "\n" if opener else ""
            self._sent = 0

    async def _open(self) -> AsyncChatStream:
        if self._stream is None:
            # buffer_size=1: the pacer decides when to send, not the SDK's buffer.
            self._stream = await self._client.chat_stream(
                channel=self._channel,
                thread_ts=self._thread_ts,
                recipient_team_id=self._team_id,
                recipient_user_id=self._user_id,
                buffer_size=1,
            )
        return self._stream

    async def _append(self, delta: str) -> None:
        stream = await self._open()
        await stream.append(markdown_text=delta)
        self._sent += len(delta)

    async def _stop(self, tail: str, *, closing: dict[str, Any] | None = None) -> None:
        stream = await self._open()
        # Blocks given to chat.stopStream are shown under the finished message.
        await stream.stop(markdown_text=tail or None, blocks=[closing] if closing else None)
        self._sent += len(tail)
        self._stream = None
