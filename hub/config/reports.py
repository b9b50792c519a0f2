"""`[reports]`: the weekly usage report each team gets in its notice channel and as a
`report.weekly` event (hub/weekly_report.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.config.base import Section

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class ReportSettings(Section):
    weekly: bool = Field(
        True,
        description="Post each team's report on the past week (Monday to Sunday, UTC) to its "
        "notice channel and send it as a `report.weekly` event; once across processes.",
    )
    weekly_day: Weekday = Field("mon", description="The day (UTC) the report goes out.")
    weekly_hour: int = Field(8, ge=0, le=23, description="The hour (UTC) the report goes out.")
    suggestions_cache_s: int = Field(
        600,
        ge=0,
        le=86_400,
        description="Serve a team's stored cost suggestions while younger than this; a job "
        "makes them at start and every half of it, once across processes (0: make them on "
        "every view): a month of prompt hashes is read to make them.",
    )
    suggestions: int = Field(
        3, ge=0, le=10, description="How many cost suggestions (hub/suggestions.py) it names."
    )
