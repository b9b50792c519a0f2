"""`[ledger]`: how much of a budget a request holds before its provider answers."""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import Field, model_validator

from hub.config.base import Section

log = logging.getLogger("hub.config")


class LedgerSettings(Section):
    min_answer_tokens: int = Field(
        16,
        ge=1,
        le=1_000_000,
        description="A request is refused only when its prompt plus this many answer tokens "
        "does not fit the budget or quota left; below a deployment's max_output_tokens, the "
        "answer is capped to what is left.",
    )
    default_max_tokens: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="Deprecated (one release): read as the max_output_tokens of every "
        "deployment that sets none. Set `max_output_tokens` on deployments instead.",
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
    settings_cache_s: float = Field(
        5.0,
        ge=0,
        le=300,
        description="Seconds the quotas and event subscriptions read on every request are "
        "served from memory (0: read each time). A change the hub makes drops them at once in "
        "this process and, with Redis, in every process; without Redis another process's "
        "change (`hub quota set` from the CLI) is seen within this many seconds.",
    )
    state_dir: Path = Field(
        Path("var"),
        description="This machine's own state: the journal of settlements the database could "
        "not take in time (replayed at every start). Relative to the working directory, like "
        "the default SQLite database.",
    )

    @model_validator(mode="after")
    def _deprecated(self) -> LedgerSettings:
        if self.default_max_tokens is not None:
            log.warning(
                "[ledger] default_max_tokens is deprecated and no longer caps answers: it is "
                "read as the max_output_tokens of deployments that set none; set "
                "max_output_tokens on [models.<alias>] deployments instead"
            )
        return self
