"""Rotating HUB_SECRET_KEY: stored secrets re-encrypted under the new key, readable without
the old one."""

from __future__ import annotations

from cryptography.fernet import Fernet

from hub.events.subscriptions import Subscriptions
from hub.service import Hub
from hub.store.rekey import rotate_secrets
from tests.support.hubs import SECRET_KEY, settings_from, start_hub


async def test_rotate_secrets_moves_every_secret_to_the_new_key(sqlite_url: str) -> None:
    running = await start_hub(
        {"webhooks": {"allow_private_targets": True}}, database_url=sqlite_url
    )
    await running.hub.provider_keys.set(running.team, "demo", "sk-team-own")
    await Subscriptions.for_hub(running.hub).create(
        team_id=running.team.id, url="http://127.0.0.1:9/x", events=["key.created"]
    )
    member = await running.hub.members.add(running.team, "ada")
    totp = await running.hub.two_factor.begin(member)
    await running.close()

    new_key = Fernet.generate_key().decode()
    both = Hub.open(
        settings_from(
            {"security": {"secret_key": f"{new_key},{SECRET_KEY}"}}, database_url=sqlite_url
        )
    )
    try:
        assert await rotate_secrets(both.sessions, both.secrets) == 3
    finally:
        await both.close()

    only_new = Hub.open(
        settings_from({"security": {"secret_key": new_key}}, database_url=sqlite_url)
    )
    try:
        assert await only_new.provider_keys.for_team(running.team.id) == {"demo": "sk-team-own"}
        assert await only_new.two_factor.pending(member) == totp
    finally:
        await only_new.close()


def test_every_encrypted_column_is_rotated() -> None:
    from hub.store.rekey import ENCRYPTED_COLUMNS
    from hub.store.schema import metadata

    rotated = {(table.__tablename__, name) for table, name in ENCRYPTED_COLUMNS}
    stored = {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if column.name.endswith("_encrypted")
    }
    assert stored == rotated
