"""What the team-administration tests share: a served dashboard hub with an owner key too,
a form's CSRF token, and the audit entries an action wrote."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from hub.audit import AuditRecord
from hub.ledger.keys import IssuedKey
from hub.service import Hub
from tests.connectors.dashboard.support import DashboardHub, dashboard_hub

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class AdminHub:
    dash: DashboardHub
    owner: IssuedKey  # acme's owner key

    @property
    def hub(self) -> Hub:
        return self.dash.running.hub

    async def last_audit_id(self) -> int:
        return max((e.id for e in await self.hub.audit.entries(limit=100_000)), default=0)

    async def audit_after(self, last: int) -> list[AuditRecord]:
        return [e for e in await self.hub.audit.entries(limit=100_000) if e.id > last]


@asynccontextmanager
async def admin_hub(database_url: str, **config: Any) -> AsyncIterator[AdminHub]:
    async with dashboard_hub(database_url, **config) as dash:
        hub = dash.running.hub
        owner = await hub.keys.create(dash.running.team, name="owner", role="owner")
        yield AdminHub(dash, owner)


async def csrf(client: httpx.AsyncClient, path: str = "/") -> str:
    page = await client.get(path)
    found = _CSRF.search(page.text)
    assert found is not None, (path, page.status_code, page.text[:500])
    return found.group(1)


def field_error(html: str, field_id: str) -> str:
    """The message shown next to a field (`<p class="error" id="<id>-error">`), or ''."""
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return "" if found is None else found.group(1)


def input_value(html: str, field_id: str) -> str:
    found = re.search(rf'id="{re.escape(field_id)}"[^>]*value="([^"]*)"', html)
    if found is None:  # a textarea
        found = re.search(rf'id="{re.escape(field_id)}"[^>]*>([^<]*)</textarea>', html)
    return "" if found is None else found.group(1)
