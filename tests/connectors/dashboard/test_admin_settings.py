"""Quotas, rate limits, chat platform bindings, the notice channel and event subscriptions
through the dashboard: each through its hub service with the signed-in key as the audit
actor; bad input drawn again as typed; another team's things not found."""

from __future__ import annotations

import re

import pytest

from hub.events.subscriptions import Subscriptions
from tests.connectors.dashboard.admin_support import (
    AdminHub,
    csrf,
    field_error,
    input_value,
)
from tests.connectors.dashboard.support import OPERATOR_KEY

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_quotas_and_rate_limits(h: AdminHub) -> None:
    team, hub = h.dash.running.team, h.hub
    key = f"key:{h.dash.member.id}"
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/limits")
        last = await h.last_audit_id()
        quota = {"csrf": token, "scope": "team", "window": "month", "tokens": "2,000,000"}
        saved = await client.post("/team/quotas", data=quota | {"cost_usd": "$1,250.125"})
        assert (saved.status_code, saved.headers["location"]) == (303, "/team/limits?done=quota")
        [row] = await hub.teams.quotas_for("team", team.id)
        assert (row.window, row.cost_limit_micros, row.token_limit) == (
            "month",
            1_250_125_000,
            2_000_000,
        )
        page = await client.get("/team/limits")
        assert "$1,250.125" in page.text and "2,000,000" in page.text
        rate = await client.post(
            "/team/rate-limits", data={"csrf": token, "scope": key, "rpm": "60", "tpm": ""}
        )
        assert rate.status_code == 303
        limit = await hub.rate_limits.get(scope="key", scope_id=h.dash.member.id)
        assert limit is not None and (limit.rpm, limit.tpm) == (60, None)
        cleared = await client.post("/team/rate-limits/clear", data={"csrf": token, "scope": key})
        assert cleared.status_code == 303
        assert await hub.rate_limits.get(scope="key", scope_id=h.dash.member.id) is None
        # Bad input: the reason beside the field, and what was typed.
        for data, field, message in (
            ({"cost_usd": "lots"}, "quota-cost_usd", "Enter an amount in US dollars"),
            ({"cost_usd": "0.0000001"}, "quota-cost_usd", "at most six decimals"),
            ({"cost_usd": "", "tokens": "-4"}, "quota-tokens", "whole number"),
            ({"cost_usd": "", "window": "year"}, "quota-window", "Choose one"),
        ):
            refused = await client.post("/team/quotas", data=quota | data)
            assert refused.status_code == 400, data
            assert message in field_error(refused.text, field), data
        typed = await client.post("/team/quotas", data=quota | {"cost_usd": "lots"})
        assert input_value(typed.text, "quota-tokens") == "2,000,000"
        huge = await client.post(
            "/team/rate-limits", data={"csrf": token, "scope": "team", "rpm": "99999999999"}
        )
        assert huge.status_code == 400 and field_error(huge.text, "rate-rpm")
        theirs = f"key:{h.dash.other.id}"
        for path in ("/team/rate-limits", "/team/quotas", "/team/rate-limits/clear"):
            response = await client.post(
                path, data={"csrf": token, "scope": theirs, "window": "day", "rpm": "1"}
            )
            assert response.status_code == 404, path
    actor = f"key:{h.dash.admin.id}"
    assert [(e.action, e.actor) for e in await h.audit_after(last)] == [
        ("quota.set", actor),
        ("rate_limit.set", actor),
        ("rate_limit.clear", actor),
    ]


async def test_bindings_and_the_notice_channel(h: AdminHub) -> None:
    hub, team = h.hub, h.dash.running.team
    await hub.bindings.bind("discord", "G-GLOBEX", h.dash.other_team)
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/bindings")
        last = await h.last_audit_id()
        bound = await client.post(
            "/team/bindings", data={"csrf": token, "platform": "slack", "external_id": "T0AC"}
        )
        assert bound.status_code == 303
        assert (await hub.bindings.caller_for("slack", "T0AC")).team_id == team.id  # type: ignore[union-attr]
        taken = await client.post(
            "/team/bindings",
            data={"csrf": token, "platform": "discord", "external_id": "G-GLOBEX"},
        )
        assert taken.status_code == 409 and "bound to another team" in taken.text
        assert input_value(taken.text, "bind-external_id") == "G-GLOBEX"
        assert "G-GLOBEX" not in (await client.get("/team/bindings")).text.split("<tbody>")[1]
        steal = await client.post(
            "/team/bindings/remove",
            data={"csrf": token, "platform": "discord", "external_id": "G-GLOBEX"},
        )
        assert steal.status_code == 404
        notices = await client.post(
            "/team/notices", data={"csrf": token, "platform": "slack", "channel": "C0NOTE"}
        )
        assert notices.status_code == 303
        assert (await hub.teams.get_by_id(team.id)).notify_channel == "C0NOTE"
        missing = await client.post(
            "/team/notices", data={"csrf": token, "platform": "discord", "channel": ""}
        )
        assert missing.status_code == 400 and field_error(missing.text, "notices-channel")
        unbound = await client.post(
            "/team/bindings/remove",
            data={"csrf": token, "platform": "slack", "external_id": "T0AC"},
        )
        assert unbound.status_code == 303
    actor = f"key:{h.dash.admin.id}"
    assert [(e.action, e.actor) for e in await h.audit_after(last)] == [
        ("binding.set", actor),
        ("team.notify", actor),
        ("binding.remove", actor),
    ]
    assert (await hub.bindings.caller_for("discord", "G-GLOBEX")).team_id == h.dash.other_team.id  # type: ignore[union-attr]
    async with h.dash.signed_in(OPERATOR_KEY) as operator:  # the operator may move it
        token = await csrf(operator, "/team/bindings?team=acme")
        moved = await operator.post(
            "/team/bindings?team=acme",
            data={"csrf": token, "platform": "discord", "external_id": "G-GLOBEX"},
        )
        assert moved.status_code == 303
    assert (await hub.bindings.caller_for("discord", "G-GLOBEX")).team_id == team.id  # type: ignore[union-attr]


async def test_event_subscriptions(h: AdminHub) -> None:
    service = Subscriptions.for_hub(h.hub)
    theirs = await service.create(
        team_id=h.dash.other_team.id, url="https://93.184.216.34/hook", events=["key.created"]
    )
    async with h.dash.signed_in(h.dash.admin.key) as client:
        token = await csrf(client, "/team/events")
        last = await h.last_audit_id()
        form = {"csrf": token, "url": "https://93.184.216.34/hooks/hub"}
        created = await client.post(
            "/team/events",
            data=form | {"events": ["key.created", "key.revoked"]},
        )
        assert created.status_code == 200 and "Signing secret" in created.text
        found = re.search(r'id="secret" readonly value="([^"]+)"', created.text)
        assert found is not None
        [mine] = await service.list(team_id=h.dash.running.team.id)
        assert (mine.url, mine.events, mine.source) == (
            "https://93.184.216.34/hooks/hub",
            "key.created,key.revoked",
            "dashboard",
        )
        page = await client.get("/team/events")
        assert mine.id in page.text and found.group(1) not in page.text
        private = await client.post(
            "/team/events",
            data={"csrf": token, "url": "http://127.0.0.1/x", "events": ["key.created"]},
        )
        assert private.status_code == 400 and field_error(private.text, "subscribe-url")
        assert input_value(private.text, "subscribe-url") == "http://127.0.0.1/x"
        none = await client.post("/team/events", data=form)
        assert none.status_code == 400 and "at least one event" in none.text
        odd = await client.post("/team/events", data=form | {"events": ["moon.landed"]})
        assert odd.status_code == 400 and "Unknown event type" in odd.text
        other = await client.post(f"/team/events/{theirs.id}/delete", data={"csrf": token})
        assert other.status_code == 404
        gone = await client.post(f"/team/events/{mine.id}/delete", data={"csrf": token})
        assert gone.status_code == 303
    actor = f"key:{h.dash.admin.id}"
    entries = await h.audit_after(last)
    assert [(e.action, e.actor) for e in entries] == [
        ("subscription.create", actor),
        ("subscription.delete", actor),
    ]
    assert found.group(1) not in repr(entries)
    assert [s.id for s in await service.list(team_id=h.dash.other_team.id)] == [theirs.id]


async def test_a_resent_subscription_form_creates_one(h: AdminHub) -> None:
    service = Subscriptions.for_hub(h.hub)
    team_id = h.dash.running.team.id
    before = len(await service.list(team_id=team_id))
    async with h.dash.signed_in(h.dash.admin.key) as client:
        page = await client.get("/team/events")
        once = re.search(r'name="once" value="([^"]+)"', page.text)
        assert once is not None
        form = {"csrf": await csrf(client, "/team/events"), "once": once.group(1),
                "url": "https://93.184.216.34/again", "events": ["key.revoked"]}  # fmt: skip
        assert (await client.post("/team/events", data=form)).status_code == 200
        again = await client.post("/team/events", data=form)
        assert again.status_code == 409 and "Signing secret" not in again.text
    assert len(await service.list(team_id=team_id)) == before + 1
