"""`[router]`: retries and backoff before falling over to the next deployment, and the
deadlines every attempt and every request run within."""

from __future__ import annotations

from pydantic import Field

from hub.config.base import Section


class RouterSettings(Section):
    max_retries: int = Field(
        2, ge=0, le=20, description="Retries per deployment before the next one is tried."
    )
    backoff_base_s: float = Field(
        0.5, ge=0, le=60, description="Exponential backoff with jitter: base * 2^attempt."
    )
    backoff_max_s: float = Field(8.0, ge=0, le=600, description="The backoff's cap.")
    retry_after_max_s: float = Field(
        30.0, ge=0, le=3600, description="An upstream Retry-After is honoured up to this."
    )
    # Deadlines (hub/deadlines.py), on the event loop's clock; a provider's own `timeout_s`
    # stays its connect and per-read timeout.
    attempt_deadline_s: float = Field(
        600.0, gt=0, le=86400, description="One upstream attempt, first byte to last, at most."
    )
    idle_timeout_s: float = Field(
        120.0,
        gt=0,
        le=86400,
        description="Longest wait for the next data chunk of an attempt; keep-alive comments "
        "(`: ping`) do not count as data.",
    )
    request_deadline_s: float = Field(
        900.0,
        gt=0,
        le=86400,
        description="A whole request, every attempt and fallback included (Slack, Discord, "
        "webhook callbacks have no client to hang up; it applies to every connector).",
    )
    # Circuit breakers and latency estimates (hub/routing/circuits.py, hub/routing/health.py).
    circuit_failures: int = Field(
        5, ge=1, le=1000, description="Consecutive failures that open a deployment's circuit."
    )
    circuit_cooldown_s: float = Field(
        30.0, ge=0.1, le=86400, description="No traffic this long; doubled on each repeat..."
    )
    circuit_cooldown_max_s: float = Field(
        600.0, ge=0.1, le=86400, description="...up to this (never below a Retry-After)."
    )
    circuit_error_rate: float = Field(
        0.5, ge=0.01, le=1.0, description="Or this share of failed attempts in the window..."
    )
    circuit_window_s: float = Field(60.0, ge=1, le=3600, description="...over this window...")
    circuit_min_requests: int = Field(
        20, ge=1, le=100_000, description="...once this many attempts were seen in it."
    )
    latency_decay_s: float = Field(
        10.0, ge=0.1, le=3600, description="Latency strategy: how fast an idle EWMA fades."
    )
    drop_params: bool = Field(
        False,
        description="Leave out parameters a deployment cannot honour (listed in "
        "X-UniLLM-Dropped-Params) instead of a 400 naming them.",
    )
