"""Showing an answer's pages as Discord messages: create what is new, edit what changed.

A sink knows how to create and edit one message on some surface (interaction webhook,
channel as the bot, discord.py message); `PagedMessages` keeps track of what each shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, Protocol, TypeVar

H = TypeVar("H")
EMPTY_PAGE = "…"
# An LLM must never be able to ping @everyone, roles or users through the bot.
NO_MENTIONS: dict[str, Any] = {"parse": [], "replied_user": False}


class Surface(Protocol):
    async def show(
        self, pages: Sequence[str], *, final: bool, closing: list[dict[str, Any]] | None = None
    ) -> None: ...


class PageSink(Protocol[H]):
    async def create(self, index: int, body: dict[str, Any]) -> H: ...
    async def edit(self, index: int, handle: H, body: dict[str, Any]) -> None: ...


def stop_button(custom_id: str) -> list[dict[str, Any]]:
    """An action row with one red "Stop" button (message components)."""
    button = {"type": 2, "style": 4, "label": "Stop", "custom_id": custom_id}
    return [{"type": 1, "components": [button]}]


class PagedMessages(Generic[H]):
    def __init__(self, sink: PageSink[H], *, controls: list[dict[str, Any]] | None = None) -> None:
        self._sink = sink
        self._controls = controls or []
        self._handles: list[H] = []
        self._shown: list[tuple[str, bool, bool]] = []

    @property
    def shown_anything(self) -> bool:
        return bool(self._handles)

    async def show(
        self, pages: Sequence[str], *, final: bool, closing: list[dict[str, Any]] | None = None
    ) -> None:
        """Show the pages; on the final pass the last page carries `closing` (feedback)."""
        order = list(range(len(pages)))
        if final and self._handles:
            # The first message is finished last, so its losing the controls means "done".
            order = order[1:] + order[:1]
        for index in order:
            page = pages[index]
            content = page if page.strip() else EMPTY_PAGE
            # While streaming, the first message carries the controls; the final pass removes them.
            controls = bool(self._controls) and index == 0 and not final
            closes = bool(closing) and final and index == len(pages) - 1
            wanted = (content, controls, closes)
            body: dict[str, Any] = {
                "content": content,
                "allowed_mentions": NO_MENTIONS,
            }
            if self._controls or closes:
                body["components"] = (
                    self._controls if controls else closing if closes and closing else []
                )
            if index < len(self._handles):
                if self._shown[index] != wanted:
                    await self._sink.edit(index, self._handles[index], body)
                    self._shown[index] = wanted
            else:
                self._handles.append(await self._sink.create(index, body))
                self._shown.append(wanted)
