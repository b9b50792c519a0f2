"""`[logging]`: how loud the hub is, and whether prompts may ever reach the log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from hub.config.base import Section


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG, INFO, WARNING or ERROR."
    )
    log_content: bool = Field(False, description="true logs prompts and answers: debugging only.")

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value
