"""`[ledger]`: how much of a budget a request holds before its provider answers."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from hub.config.base import Section


class LedgerSettings(Section):
    default_max_tokens: int = Field(
        1024,
        ge=1,
        le=10_000_000,
        description="max_tokens assumed when a request names none; the worst case reserved "
        "before each call.",
    )
    idempotency_wait_s: float = Field(
        10.0,
        ge=0,
        le=300,
        description="How long a repeat of a request with the same Idempotency-Key waits for "
        "the first to finish before it gets 409 with Retry-After.",
    )
    instance_lease_s: float = Field(
        15.0,
        ge=1,
        le=3600,
        description="A hub process renews its lease (a heartbeat in the database) every third "
        "of this; once a process's heartbeat is older, a live one releases its requests' "
        "holds and records them as `interrupted`.",
    )
    settle_wait_s: float = Field(
        30.0,
        ge=0.1,
        le=300,
        description="How long a finished request waits for a database that neither takes "
        "nor refuses its settlement (locked, hanging); past it, or at once when the database "
        "refuses, the settlement is journaled under state_dir and retried in the background, "
        "and the request is answered.",
    )
    state_dir: Path = Field(
        Path("var"),
        description="This machine's own state: the journal of settlements the database could "
        "not take in time (replayed at every start). Relative to the working directory, like "
        "the default SQLite database.",
    )
