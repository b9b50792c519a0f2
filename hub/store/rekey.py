"""Re-encrypting every stored secret under the newest `HUB_SECRET_KEY` (after rotation).

Put the new key first (`HUB_SECRET_KEY=new,old`), run `hub rotate-secrets`, then drop the
old key. Each value is decrypted with whichever key fits and encrypted with the first.
"""

from __future__ import annotations

from sqlalchemy import Column, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.store.event_tables import InboundHook, Subscription
from hub.store.governance_tables import ProviderKey
from hub.store.platform_tables import Installation
from hub.store.secretbox import SecretBox
from hub.store.signin_tables import TotpFactor

# Every column that holds a secret-box token. A new one must be added here.
ENCRYPTED_COLUMNS = (
    (Installation, "data_encrypted"),
    (InboundHook, "secret_encrypted"),
    (InboundHook, "previous_secret_encrypted"),
    (Subscription, "secret_encrypted"),
    (ProviderKey, "secret_encrypted"),
    (TotpFactor, "secret_encrypted"),
)


async def rotate_secrets(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> int:
    """Re-encrypt all stored secrets under the first key, in one transaction; the count."""
    rotated = 0
    async with sessions.begin() as session:
        for table, name in ENCRYPTED_COLUMNS:
            column: Column[str] = getattr(table, name)
            key = table.__mapper__.primary_key[0]
            rows = await session.execute(select(key, column).where(column.is_not(None)))
            for row_id, token in rows.all():
                await session.execute(
                    update(table).where(key == row_id).values({name: box.rotate(token)})
                )
                rotated += 1
    return rotated
