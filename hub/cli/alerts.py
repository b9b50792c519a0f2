"""`hub alert`: the `[[alerts]]` rules, what they see now, their incidents, and a test send.

hub alert list                 rules, with their open incidents
hub alert check                evaluate every rule now (fires and resolves as the job does)
hub alert history              the latest incidents, newest first
hub alert test NAME            send a test message to NAME's targets
"""

from __future__ import annotations

import json

import click

from hub.alerts.delivery import deliver
from hub.alerts.evaluator import AlertEvaluator
from hub.alerts.incidents import Transition
from hub.cli.context import pass_hub
from hub.cli.table import echo_table
from hub.errors import NotFound
from hub.service import Hub


@click.group("alert")
def alert() -> None:
    """Alert rules ([[alerts]] in the config) and their incidents."""


@alert.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@pass_hub
async def list_rules(hub: Hub, as_json: bool) -> None:
    """The configured rules and their open incidents."""
    evaluator = AlertEvaluator(hub)
    open_by_rule: dict[str, list[str]] = {}
    for incident in await evaluator.incidents.open():
        open_by_rule.setdefault(incident.rule, []).append(incident.subject)
    rows = [
        {
            "name": r.name,
            "kind": r.kind,
            "severity": r.severity,
            "threshold": r.limit,
            "window_s": r.window_s,
            "teams": list(r.teams),
            "targets": list(r.targets),
            "firing": open_by_rule.get(r.name, []),
        }
        for r in evaluator.rules
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No alert rules: add [[alerts]] tables to the config.")
        return
    echo_table(
        ("rule", "kind", "severity", "firing for"),
        [
            (row["name"], row["kind"], row["severity"], ", ".join(row["firing"]) or "ok")  # type: ignore[arg-type]
            for row in rows
        ],
    )


@alert.command("check")
@pass_hub
async def check(hub: Hub) -> None:
    """Evaluate every rule now; new incidents fire and finished ones resolve, once each."""
    transitions = await AlertEvaluator(hub).evaluate()
    await hub.notices.drain()
    for t in transitions:
        click.echo(f"{t.state}: {t.rule.name} ({t.subject}): {t.summary}")
    if not transitions:
        click.echo("No change.")


@alert.command("history")
@click.option("--limit", default=20, show_default=True)
@pass_hub
async def history(hub: Hub, limit: int) -> None:
    """The latest incidents, newest first."""
    incidents = await AlertEvaluator(hub).incidents.history(limit=limit)
    if not incidents:
        click.echo("No incidents yet.")
        return
    echo_table(
        ("id", "rule", "severity", "subject", "fired (UTC)", "resolved", "summary"),
        [
            (
                f"#{i.id}",
                i.rule,
                i.severity,
                i.subject,
                f"{i.fired_at:%Y-%m-%d %H:%M:%S}",
                f"{i.resolved_at:%Y-%m-%d %H:%M:%S}" if i.resolved_at else "open",
                i.summary,
            )
            for i in incidents
        ],
    )


@alert.command("test")
@click.argument("name")
@click.option("--team", "team_name", help="Budget alerts: the team to send the test to.")
@pass_hub
async def test_send(hub: Hub, name: str, team_name: str | None) -> None:
    """Send a test message to the targets of alert NAME."""
    rule = next((r for r in hub.settings.alerts if r.name == name), None)
    if rule is None:
        raise NotFound(f"No alert rule named '{name}'.")
    if team_name is not None:
        await hub.teams.get(team_name)
        rule = rule.model_copy(update={"teams": (team_name,)})
    if not rule.teams:
        raise click.UsageError("this alert goes to the team concerned: name one with --team")
    summary = "this is a test of the alert's delivery."
    await deliver(hub, Transition(rule, "fired", "test", summary, 0, hub.clock.now()))
    await hub.notices.drain()
    click.echo(f"Sent a test of '{name}' to {', '.join(rule.teams)}.")
