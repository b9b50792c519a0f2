"""`hub ask`: one question from the terminal, streamed, accounted like any other request."""

from __future__ import annotations

import getpass

import click

from hub.cli.context import pass_hub
from hub.errors import HubError
from hub.ledger.money import format_usd
from hub.model import Caller, ChatOptions, ChatRequest, Message, Origin
from hub.service import Hub


@click.command()
@click.argument("prompt")
@click.option("--team", "team_name", required=True)
@click.option("--model", "alias", help="Model alias (default: the hub's default alias).")
@click.option("--max-tokens", type=int)
@pass_hub
async def ask(
    hub: Hub, prompt: str, team_name: str, alias: str | None, max_tokens: int | None
) -> None:
    """Ask PROMPT and stream the answer."""
    team = await hub.teams.get(team_name)
    request = ChatRequest(
        caller=Caller(team_id=team.id, team_name=team.name),
        origin=Origin(connector="cli", user=getpass.getuser()),
        messages=(Message.text("user", prompt),),
        model=alias,
        options=ChatOptions(stream=True, max_tokens=max_tokens),
    )
    stream = hub.chat(request)
    try:
        async with stream:
            async for chunk in stream:
                click.echo(chunk.text, nl=False)
    except HubError as exc:
        click.echo()
        raise exc
    result = stream.result
    click.echo()
    click.echo(
        f"[{result.alias} via {result.deployment}: {result.usage.prompt_tokens}+"
        f"{result.usage.completion_tokens} tokens, {format_usd(result.cost_micros)}]",
        err=True,
    )
