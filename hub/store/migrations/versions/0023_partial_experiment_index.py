"""usage records' experiment index holds only the records an experiment routed

Most records have no experiment (`experiment_id` NULL), yet each one's INSERT wrote an entry
for it in `ix_usage_records_experiment_id`: index pages in the settlement's WAL frames
(SQLite) and index maintenance (PostgreSQL) on every chat request, for a key no query looks
up. The only readers (hub/experiments/report.py) ask for `experiment_id = ?`, which implies
`experiment_id IS NOT NULL`, so both planners still use the partial index.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 02:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_NAME = "ix_usage_records_experiment_id"
_ROUTED = sa.text("experiment_id IS NOT NULL")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="usage_records")
    op.create_index(
        _NAME,
        "usage_records",
        ["experiment_id"],
        unique=False,
        sqlite_where=_ROUTED,
        postgresql_where=_ROUTED,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="usage_records")
    op.create_index(_NAME, "usage_records", ["experiment_id"], unique=False)
