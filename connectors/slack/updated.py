"""An answer shown by editing messages: a placeholder updated with `chat.update`, at most once a
second, spilling into more thread messages when it outgrows one, with a Stop button while live.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from connectors.slack.client import api_error
from connectors.slack.markdown import to_mrkdwn
from connectors.slack.messages import THINKING
from connectors.slack.pacing import Pacer
from connectors.slack.split import split_message
from hub.clock import Clock

SECTION_LIMIT = 2_900  # a section block holds 3,000 characters; leave room for a closed fence
MIN_LIMIT = 400
STOP_ACTION = "stop_answer"


def stop_button(value: str) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "answer_controls",
        "elements": [
            {
                "type": "button",
                "action_id": STOP_ACTION,
                "text": {"type": "plain_text", "text": "Stop"},
                "style": "danger",
                "value": value,
            }
        ],
    }


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


class UpdatedReply:
    def __init__(
        self,
        client: AsyncWebClient,
        clock: Clock,
        *,
        channel: str,
        thread_ts: str | None,
        header: str | None = None,
        stop_value: str | None = None,
        limit: int = SECTION_LIMIT,
    ) -> None:
        self._client = client
        self._channel = channel
        self._thread_ts = thread_ts
        self._header = header
        self._stop_value = stop_value
        self._limit = limit
        self._ts: list[str] = []
        self._shown: list[tuple[str, bool]] = []
        self._pacer = Pacer(clock, self.render)
        self._closing: dict[str, Any] | None = None  # a block under the finished answer
        self.begun = False

    @property
    def message_ts(self) -> list[str]:
        return list(self._ts)

    async def begin(self) -> None:
        await self._show(0, "", live=True)
        self._pacer.mark()
        self._pacer.start()
        self.begun = True

    def offer(self, text: str) -> None:
        self._pacer.offer(text)

    def close_with(self, block: dict[str, Any] | None) -> None:
        """Put `block` (feedback buttons) under the last message once the answer is final."""
        self._closing = block

    async def finish(
        self, text: str, *, footer: str | None = None, closing: dict[str, Any] | None = None
    ) -> None:
        self._closing = closing or self._closing
        full = "\n\n".join(p for p in (text.rstrip(), footer) if p) or "_(no answer)_"
        if self.begun:
            await self._pacer.finish(full)
        else:
            await self.render(full, True)

    async def abort(self) -> None:
        await self._pacer.abort()

    async def render(self, text: str, final: bool) -> None:
        """Show `text` (Markdown) across as many messages as it needs."""
        for _ in range(4):
            parts = split_message(to_mrkdwn(text), self._limit) if text else [""]
            try:
                for i, part in enumerate(parts):
                    last = i == len(parts) - 1
                    await self._show(i, part, live=not final and last, closing=final and last)
                return
            except SlackApiError as exc:
                if api_error(exc) != "msg_too_long" or self._limit <= MIN_LIMIT:
                    raise
                # Slack counts differently from us (entities, emoji): cut smaller and redo.
                self._limit = max(MIN_LIMIT, self._limit // 2)
        raise RuntimeError("Slack kept refusing the answer as too long")

    def _blocks(self, index: int, part: str, live: bool, closing: bool) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if index == 0 and self._header:
            blocks.append(section(self._header))
        blocks.append(section(part or THINKING))
        if live and self._stop_value is not None:
            blocks.append(stop_button(self._stop_value))
        if closing and self._closing is not None:
            blocks.append(self._closing)
        return blocks

    async def _show(self, index: int, part: str, *, live: bool, closing: bool = False) -> None:
        closing = closing and self._closing is not None
        if index < len(self._shown) and self._shown[index] == (part, live) and not closing:
            return
        blocks = self._blocks(index, part, live, closing)
        fallback = (part or THINKING)[:3_000]
        if index < len(self._ts):
            await self._client.chat_update(
                channel=self._channel, ts=self._ts[index], text=fallback, blocks=blocks
            )
            self._shown[index] = (part, live)
            return
        thread = self._thread_ts or (self._ts[0] if self._ts else None)
        response = await self._client.chat_postMessage(
            channel=self._channel, thread_ts=thread, text=fallback, blocks=blocks
        )
        self._ts.append(str(response["ts"]))
        self._shown.append((part, live))
