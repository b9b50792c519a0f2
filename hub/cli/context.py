"""What every subcommand shares: the settings, and a hub opened for the command's duration.

Connector packages use `pass_hub` for their own subcommands (`hub discord ...`).
"""

from __future__ import annotations

import asyncio
import functools
import re
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import click

from hub.audit import Actor, acting_as
from hub.cli.boundary import CliFailure
from hub.config import ConfigError, Settings, load_settings
from hub.errors import HubError
from hub.service import Hub
from hub.store.migrate import schema_problem
from hub.store.secretbox import SecretBoxError

T = TypeVar("T")


@dataclass
class CliContext:
    config_path: str
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def loaded_database_url(self) -> str | None:
        """The database URL, when the settings were loaded (for error messages)."""
        return self._settings.database.url if self._settings is not None else None

    def run(self, work: Callable[[Hub], Awaitable[T]], *, check_schema: bool = True) -> T:
        async def go() -> T:
            hub = Hub.open(self.settings)
            try:
                problem = await schema_problem(hub.engine) if check_schema else None
                if problem is not None:
                    raise CliFailure(problem)
                # Changes made from the command line are audited as the OS user's.
                with acting_as(Actor.cli()):
                    return await work(hub)
            finally:
                await hub.close()

        return asyncio.run(go())


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def pass_hub(func: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    """Run an async command body as `func(hub, **options)`, turning hub errors into messages."""

    def wrapper(ctx: CliContext, /, **kwargs: Any) -> Any:
        try:
            return ctx.run(lambda hub: func(hub, **kwargs))
        except (HubError, ConfigError, SecretBoxError) as exc:
            # A refusal, worded for the operator; chained so `--debug` still shows the cause.
            raise CliFailure(getattr(exc, "user_message", str(exc))) from exc

    functools.update_wrapper(wrapper, func)
    return click.pass_obj(wrapper)


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d` (or `0`)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match:
        raise click.BadParameter(f"'{text}' is not a duration like 30m, 24h or 7d")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 3600}[match.group(2)]
    return timedelta(seconds=int(match.group(1)) * unit)


def parse_moment(text: str, now: datetime) -> datetime:
    """An ISO date or time (UTC), or a duration from now (`30d`)."""
    try:
        return now + parse_duration(text)
    except click.BadParameter:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"'{text}' is neither a date (2027-01-31) nor a duration") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
