"""teams.archived_at: `hub team archive`

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:00:00
"""

import sqlalchemy as sa
from alembic import op

import hub.store.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("archived_at", hub.store.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("teams", schema=None) as batch_op:
        batch_op.drop_column("archived_at")
