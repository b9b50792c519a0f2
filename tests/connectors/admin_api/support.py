"""A served hub with the admin API and two teams, each with keys of every role: acme (A) and
globex (B). Tests talk to it over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.admin_api import plugin as admin_api
from hub.connector import ConnectorPlugin
from hub.ledger.keys import IssuedKey
from hub.store.ledger_tables import Team
from tests.support.hubs import SECRET_KEY, RunningHub, start_hub

OPERATOR_KEY = "operator-key-for-tests-0123456789abcdef"
API = "/admin/api/v1"


@dataclass
class TeamKeys:
    team: Team
    owner: IssuedKey
    admin: IssuedKey
    viewer: IssuedKey
    member: IssuedKey


@dataclass
class AdminHub:
    running: RunningHub
    a: TeamKeys
    b: TeamKeys

    def client(self, key: str | None) -> httpx.AsyncClient:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return self.running.client(headers=headers)

    def operator(self) -> httpx.AsyncClient:
        return self.client(OPERATOR_KEY)


def admin_config(**extra: Any) -> dict[str, Any]:
    return {
        "security": {"secret_key": SECRET_KEY, "operator_key": OPERATOR_KEY},
        "webhooks": {"allow_private_targets": True},
        **extra,
    }


async def team_keys(running: RunningHub, team: Team) -> TeamKeys:
    keys = running.hub.keys
    return TeamKeys(
        team=team,
        owner=await keys.create(team, name="owner", role="owner"),
        admin=await keys.create(team, name="admin", role="admin"),
        viewer=await keys.create(team, name="viewer", role="viewer"),
        member=await keys.create(team, name="member", role="member"),
    )


@asynccontextmanager
async def admin_hub(
    database_url: str,
    *,
    plugins: Sequence[ConnectorPlugin] = (admin_api,),
    config: dict[str, Any] | None = None,
) -> AsyncIterator[AdminHub]:
    running = await start_hub(config or admin_config(), database_url=database_url)
    try:
        a = await team_keys(running, running.team)
        b = await team_keys(running, await running.hub.teams.create("globex"))
        await running.serve(plugins=list(plugins))
        yield AdminHub(running, a, b)
    finally:
        await running.close()
