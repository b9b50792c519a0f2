"""The SQL a hub's engine sends, as the driver sees it: how the cache tests show that a hit
reads nothing."""

from __future__ import annotations

from sqlalchemy import event

from hub.service import Hub


class Statements:
    def __init__(self, hub: Hub) -> None:
        self.sent: list[str] = []
        event.listen(hub.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.sent.append(statement)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.sent if table in s]

    def reading(self, table: str) -> list[str]:
        return [s for s in self.sent if s.lstrip().startswith("SELECT") and f"FROM {table}" in s]
