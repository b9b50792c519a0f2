"""`hub slack install-link`: a signed, expiring link that binds the install to a team."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import click
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from connectors.slack.cli import slack_group
from connectors.slack.install import install_link_path
from hub.cli.admin import team
from hub.cli.context import CliContext
from hub.cli.serve import migrate

SLACK_SECTION = (
    '[connectors.slack]\nsigning_secret = "s"\nclient_id = "1.2"\nclient_secret = "cs"\n'
)


def runner_for(tmp_path: Path, slack_section: str) -> Callable[..., click.testing.Result]:
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/cli.db"\n'
        f'[security]\nsecret_key = "{Fernet.generate_key().decode()}"\n'
        '[providers.demo]\ntype = "demo"\n'
        '[models.demo]\ndeployments = [{ provider = "demo", model = "demo-1", '
        "input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 }]\n" + slack_section
    )

    @click.group()
    @click.pass_context
    def root(ctx: click.Context) -> None:
        ctx.obj = CliContext(str(config))

    for command in (migrate, team, slack_group):
        root.add_command(command)

    def invoke(*args: str) -> click.testing.Result:
        return CliRunner().invoke(root, list(args), catch_exceptions=False)

    assert invoke("migrate").exit_code == 0
    assert invoke("team", "create", "acme").exit_code == 0
    return invoke


def test_install_link_is_signed_for_the_team(tmp_path: Path) -> None:
    invoke = runner_for(tmp_path, SLACK_SECTION)
    result = invoke(
        "slack", "install-link", "--team", "acme", "--hours", "2", "--base-url", "https://hub.x/"
    )
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "hub.x", "/slack/install")
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["team"] == "acme"
    expected = install_link_path(key="cs", team="acme", expires=int(query["exp"]))
    assert result.output.strip().endswith(expected)


@pytest.mark.parametrize(
    ("section", "args", "message"),
    [
        (SLACK_SECTION, ("--team", "nobody"), "No team named 'nobody'."),
        (
            '[connectors.slack]\nsigning_secret = "s"\nbot_token = "xoxb-1"\n',
            ("--team", "acme"),
            "install links need connectors.slack.client_id and client_secret",
        ),
    ],
)
def test_install_link_refusals(
    tmp_path: Path, section: str, args: tuple[str, ...], message: str
) -> None:
    result = runner_for(tmp_path, section)("slack", "install-link", *args)
    assert result.exit_code != 0
    assert message in result.output
