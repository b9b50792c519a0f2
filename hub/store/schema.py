"""Every table module, imported once so `Base.metadata` is complete (for Alembic and tests)."""

from hub.store import (
    billing_tables,
    event_tables,
    governance_tables,
    job_tables,
    ledger_tables,
    observability_tables,
    platform_tables,
    rollup_tables,
    routing_tables,
    signin_tables,
    suggestion_tables,
    view_tables,
)
from hub.store.base import Base

metadata = Base.metadata
__all__ = [
    "metadata",
    "billing_tables",
    "event_tables",
    "governance_tables",
    "job_tables",
    "ledger_tables",
    "observability_tables",
    "platform_tables",
    "rollup_tables",
    "routing_tables",
    "signin_tables",
    "suggestion_tables",
    "view_tables",
]
