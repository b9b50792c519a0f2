"""`hub experiment`: A/B tests on an alias, judged by feedback, errors, latency and cost.

hub experiment create NAME --alias A --variant a=X --variant b=Y [--split 50/50] [--sticky user]
hub experiment start NAME | stop NAME
hub experiment list
hub experiment report NAME [--json]
"""

from __future__ import annotations

import json

import click

from hub.cli.context import pass_hub
from hub.experiments.plan import STICKY_CHOICES, Experiment
from hub.experiments.report import render_text
from hub.service import Hub


@click.group("experiment")
def experiment() -> None:
    """A/B experiments on a model alias (variants: aliases or deployments)."""


def _line(e: Experiment) -> str:
    variants = ", ".join(f"{v.name}={v.target} {v.share}%" for v in e.variants)
    return f"{e.name}  {e.alias}  {e.status}  sticky={e.sticky}  {variants}"


@experiment.command("create")
@click.argument("name")
@click.option("--alias", required=True, help="The alias whose requests are split.")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    required=True,
    metavar="NAME=TARGET",
    help="A variant: an alias, or a deployment as provider/model (repeat; at least two).",
)
@click.option("--split", help="Shares in percent, in variant order: 50/50 (default: equal).")
@click.option(
    "--sticky",
    type=click.Choice(STICKY_CHOICES),
    default="user",
    show_default=True,
    help="What stays on one variant.",
)
@pass_hub
async def create(
    hub: Hub, name: str, alias: str, variants: tuple[str, ...], split: str | None, sticky: str
) -> None:
    """Define an experiment (not running until `start`)."""
    created = await hub.experiments.create(
        name, alias=alias, variants=list(variants), split=split, sticky=sticky
    )
    click.echo(f"Created {_line(created)}")
    click.echo(f"Start it with: hub experiment start {created.name}")


@experiment.command("start")
@click.argument("name")
@pass_hub
async def start(hub: Hub, name: str) -> None:
    """Assign requests to the alias to the variants (every process within 5 s)."""
    started = await hub.experiments.start(name)
    click.echo(f"Running {_line(started)}")


@experiment.command("stop")
@click.argument("name")
@pass_hub
async def stop(hub: Hub, name: str) -> None:
    """Stop assigning; the alias routes as configured again."""
    stopped = await hub.experiments.stop(name)
    click.echo(f"Stopped {stopped.name}; `hub experiment report {stopped.name}` still works.")


@experiment.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_hub
async def list_experiments(hub: Hub, as_json: bool) -> None:
    """Every experiment and its state."""
    found = await hub.experiments.list()
    if as_json:
        click.echo(json.dumps([e.as_json() for e in found], indent=2))
        return
    if not found:
        click.echo("No experiments: create one with `hub experiment create`.")
    for e in found:
        click.echo(_line(e))


@experiment.command("report")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_hub
async def report(hub: Hub, name: str, as_json: bool) -> None:
    """Per-variant metrics with 95% intervals, and which differences are significant."""
    built = await hub.experiments.report(name)
    if as_json:
        click.echo(json.dumps(built.as_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_text(built))
