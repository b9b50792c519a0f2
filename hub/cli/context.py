"""What every subcommand shares: the settings, and a hub opened for the command's duration.

Connector packages use `pass_hub` for their own subcommands (`hub discord ...`).
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from hub.config import ConfigError, Settings, load_settings
from hub.errors import HubError
from hub.service import Hub
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

    def run(self, work: Callable[[Hub], Awaitable[T]]) -> T:
        async def go() -> T:
            hub = Hub.open(self.settings)
            try:
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
            fail(getattr(exc, "user_message", str(exc)))

    functools.update_wrapper(wrapper, func)
    return click.pass_obj(wrapper)
