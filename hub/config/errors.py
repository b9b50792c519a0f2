"""The one error a configuration mistake raises: every problem found, each one sentence."""

from __future__ import annotations

from collections.abc import Sequence


class ConfigError(ValueError):
    """The configuration cannot be used. `problems` holds one sentence per mistake, each
    naming the file and the dotted path of the key; `str()` is the first, with a count."""

    def __init__(self, message: str, *, problems: Sequence[str] | None = None) -> None:
        self.problems: tuple[str, ...] = tuple(problems) if problems else (message,)
        super().__init__(message)

    @classmethod
    def of(cls, problems: Sequence[str]) -> ConfigError:
        first = problems[0]
        if len(problems) > 1:
            first += f" (and {len(problems) - 1} more: run `hub config check`)"
        return cls(first, problems=problems)
