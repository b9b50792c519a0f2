"""hub.audit.page on both backends: newest first, keyed by id, a family matches its own
actions only (no LIKE wildcard leaks through `_` or `%`), and a team sees only its own."""

from __future__ import annotations

from hub.audit import Actor, acting_as
from tests.support.hubs import start_hub


async def test_pages_filters_and_families(database_url: str) -> None:
    running = await start_hub({}, database_url=database_url)
    hub, team = running.hub, running.team
    try:
        other = await hub.teams.create("globex")
        with acting_as(Actor("cli", "ops")):
            for action in ("a_b.create", "axb.create", "a%.x", "a_b", "a_bc.create"):
                await hub.audit.note(action=action, target="t:1", team_id=team.id)
            await hub.audit.note(action="a_b.create", target="t:2", team_id=other.id)
        family = await hub.audit.page(team_id=team.id, action="a_b")
        assert [e.action for e in family] == ["a_b", "a_b.create"]
        assert [e.action for e in await hub.audit.page(team_id=team.id, action="a%")] == ["a%.x"]
        everything = await hub.audit.page(team_id=team.id, action="", limit=100)
        assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
        older = await hub.audit.page(team_id=team.id, before_id=everything[1].id, limit=2)
        assert [e.id for e in older] == [e.id for e in everything[2:4]]
        assert all(e.team_id == team.id for e in everything)
        assert await hub.audit.page(team_id=team.id, actor="cli:nobody") == []
        assert len(await hub.audit.page(team_id=team.id, target="t:1", limit=100)) == len(
            [e for e in everything if e.target == "t:1"]
        )
        actions = await hub.audit.actions(team_id=team.id)
        assert {"a_b", "a_b.create", "axb.create", "a%.x"} <= set(actions)
    finally:
        await running.close()
