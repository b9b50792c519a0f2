"""usage records indexed by (team_id, id): the requests log's "latest 50 of a team"

`WHERE team_id = ? ORDER BY id DESC LIMIT 50` had only (team_id, created_at) to use: SQLite
read every record of the team and sorted them (0.4-1 s at 1M records); with this index it
reads 50 entries.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 20:55:00
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_usage_team_id", "usage_records", ["team_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_usage_team_id", table_name="usage_records")
