"""`hub simulate PLATFORM --url URL ...`: send a running hub what a platform would send, signed
as the platform signs it, and print what came back, so a deployment can be tried without the
real platform. Each connector brings its subcommand through the optional plugin hook
`simulate_command()`; this module holds the group and what the subcommands share."""

from __future__ import annotations

import json
from collections.abc import Mapping

import click
import httpx

from hub.connector import discover

TIMEOUT_S = 30.0


class SimulateGroup(click.Group):
    """Subcommands come from the connectors, loaded when the group is used."""

    _loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for plugin in discover().values():
            hook = getattr(plugin, "simulate_command", None)
            if callable(hook):
                self.add_command(hook())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)


@click.group(cls=SimulateGroup)
def simulate() -> None:
    """Send a running hub a signed request as Slack, Discord, a webhook sender or Zapier
    would, and print the answer."""


def endpoint(base: str, path: str) -> str:
    base = base.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise click.BadParameter(f"'{base}' is not an http(s) URL", param_hint="'--url'")
    return base + path


async def post(
    url: str, *, body: bytes, headers: Mapping[str, str], timeout_s: float = TIMEOUT_S
) -> httpx.Response:
    """POST as the platform would; a connection failure reaches the CLI's error boundary."""
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        return await client.post(url, content=body, headers=dict(headers))


def show(response: httpx.Response) -> None:
    """`<- HTTP 200` and the body, JSON indented."""
    click.echo(f"<- HTTP {response.status_code} {response.reason_phrase}")
    text = response.text
    if not text:
        click.echo("   (empty body)")
        return
    try:
        click.echo(json.dumps(response.json(), indent=2, ensure_ascii=False))
    except ValueError:
        click.echo(text)


def sent(method: str, url: str, what: str) -> None:
    click.echo(f"-> {method} {url}  ({what})")


def require_ok(response: httpx.Response, *, expected: tuple[int, ...] = (200,)) -> None:
    """Exit 1 (after the answer was shown) when the hub did not accept the request."""
    if response.status_code not in expected:
        raise SimulationRefused(
            f"the hub answered HTTP {response.status_code}, not "
            f"{' or '.join(str(code) for code in expected)}"
        )


class SimulationRefused(click.ClickException):
    exit_code = 1
