"""`/ask` after the deferred ack: stream into the interaction's messages, with a Stop button.

Each answer runs the hub's chat in its own task; Stop cancels that task, which cancels the
upstream request and settles the usage record as cancelled.

The Stop button's custom id is `stop:<request id>:<asker>`, so whichever web process Discord
delivers the press to can refuse someone else's press at once; when the answer runs in
another process, the press is passed on through hub.signals and that process cancels it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

import httpx

from connectors.discord.answer_surface import InteractionSurface, InteractionTarget
from connectors.discord.errors import user_sentence
from connectors.discord.feedback import feedback_buttons
from connectors.discord.live import LiveAnswer
from connectors.discord.pages import stop_button
from connectors.discord.rest import DiscordAPIError, DiscordRest
from hub.answer_notes import answer_notes
from hub.chat_stream import ChatStream
from hub.errors import HubError
from hub.service import Hub

log = logging.getLogger("connectors.discord.ask")

STOP_PREFIX = "stop:"
SIGNAL_CHANNEL = "discord.runs"  # hub.signals channel every Discord web process listens on
CANCEL = "cancel:"
STOPPED_NOTE = "\n\n*Stopped.*"


@dataclass(slots=True)
class _Running:
    task: asyncio.Task[None]
    user_id: str


class AskRunner:
    def __init__(self, hub: Hub, rest: DiscordRest, *, feedback: bool = True) -> None:
        self._hub = hub
        self._rest = rest
        self._feedback = feedback  # 👍/👎 under finished answers
        self._running: dict[str, _Running] = {}
        self._workers: set[asyncio.Task[None]] = set()

    def start(
        self, stream: ChatStream, target: InteractionTarget, *, user_id: str, received_at: float
    ) -> None:
        worker = asyncio.create_task(self._answer(stream, target, user_id, received_at))
        self._workers.add(worker)
        worker.add_done_callback(self._workers.discard)

    async def stop(self, custom_id: str, *, user_id: str) -> str | None:
        """Cancel the answer a Stop button belongs to; a refusal sentence, or None when done
        (or passed on to the process that runs it)."""
        request_id, sep, asker = custom_id.removeprefix(STOP_PREFIX).partition(":")
        if sep and asker != user_id:
            return "Only the person who asked can stop this answer."
        running = self._running.get(request_id)
        if running is None:
            if not self._hub.signals.shared:
                return "This answer has already finished."
            await self._hub.signals.publish(SIGNAL_CHANNEL, CANCEL + request_id)
            return None
        if running.user_id != user_id:
            return "Only the person who asked can stop this answer."
        running.task.cancel()
        return None

    async def on_signal(self, message: str) -> None:
        """A Stop pressed in another process: cancel the answer if it runs here."""
        if message.startswith(CANCEL):
            running = self._running.get(message.removeprefix(CANCEL))
            if running is not None:
                running.task.cancel()

    async def close(self) -> None:
        for worker in list(self._workers):
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    async def _answer(
        self, stream: ChatStream, target: InteractionTarget, user_id: str, received_at: float
    ) -> None:
        with self._hub.observability.tracing.event("discord", "interaction"):
            await self._answer_traced(stream, target, user_id, received_at)

    async def _answer_traced(
        self, stream: ChatStream, target: InteractionTarget, user_id: str, received_at: float
    ) -> None:
        request_id = stream.result.request_id
        surface = InteractionSurface(
            self._rest,
            target,
            clock=self._hub.clock,
            received_at=received_at,
            controls=stop_button(f"{STOP_PREFIX}{request_id}:{user_id}"),
        )
        live = LiveAnswer(surface, self._hub.clock)
        chat = asyncio.create_task(_pump(stream, live))
        self._running[request_id] = _Running(chat, user_id)
        try:
            try:
                await chat
            finally:
                self._running.pop(request_id, None)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not chat.cancelled() or (current is not None and current.cancelling()):
                # The hub is shutting down, not a Stop: let the chat settle its usage first.
                await asyncio.wait([chat])
                await live.close()
                raise
            await self._quietly(live.finish(STOPPED_NOTE))
        except HubError as exc:
            await self._quietly(live.finish() if live.text else live.close())
            await self._quietly(surface.error(user_sentence(exc)))
        except Exception as exc:  # noqa: BLE001 - a background task must report, not vanish
            await live.close()
            await self._quietly(surface.error(user_sentence(exc)))
        else:
            settled = stream.result.usage_id is not None
            buttons = feedback_buttons(request_id) if self._feedback and settled else None
            notes = "".join(f"\n\n*{note}*" for note in answer_notes(stream.result))
            await self._quietly(live.finish(notes, closing=buttons))

    async def _quietly(self, step: Awaitable[object]) -> None:
        try:
            await step
        except (DiscordAPIError, httpx.HTTPError):
            log.warning("could not deliver the /ask answer to Discord", exc_info=True)
        except Exception:  # noqa: BLE001 - a background task must report, not vanish
            log.exception("delivering the /ask answer failed")


async def _pump(stream: ChatStream, live: LiveAnswer) -> None:
    async with stream:
        async for chunk in stream:
            live.add(chunk.text)
