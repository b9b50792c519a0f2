"""`hub experiment` as a user runs it (forked `hub` processes): create, start, requests
routed to the variants, report, stop; mistakes as one `error:` line."""

from __future__ import annotations

import json

import pytest

from tests.hub.cli.test_cli import Cli


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    runner = Cli(tmp_path_factory.mktemp("experiment-cli"))
    with runner.config.open("a") as config:
        config.write(
            "[models.mini]\n"
            'deployments = [{ provider = "demo", model = "demo-mini", '
            "input_usd_per_mtok = 0.1, output_usd_per_mtok = 0.2 }]\n"
        )
    assert "up to date" in runner("migrate").stdout
    runner("team", "create", "acme")
    return runner


@pytest.mark.timeout(240)  # a dozen processes; slow when the machine is busy
def test_create_start_report_stop(cli: Cli) -> None:
    created = cli("experiment", "create", "tone", "--alias", "demo", "--variant", "a=mini",
                  "--variant", "b=demo/demo-1", "--split", "50/50",
                  "--sticky", "thread").stdout  # fmt: skip
    assert created.startswith(
        "Created tone  demo  draft  sticky=thread  a=mini 50%, b=demo/demo-1 50%"
    )
    assert "Running tone" in cli("experiment", "start", "tone").stdout
    for _ in range(3):
        cli("ask", "hello", "--team", "acme")  # one user, one "thread": one variant
    report = json.loads(cli("experiment", "report", "tone", "--json").stdout)
    assert report["experiment"]["status"] == "running"
    requests = {v["name"]: v["requests"] for v in report["variants"]}
    assert sorted(requests.values()) == [0, 3]
    assert {c["metric"] for c in report["comparisons"]} == {
        "feedback", "error_rate", "latency_ms", "ttft_ms", "cost_usd",
    }  # fmt: skip
    assert all(c["verdict"].startswith("not significant yet") for c in report["comparisons"])
    text = cli("experiment", "report", "tone").stdout
    assert text.startswith("Experiment tone on 'demo' (running, sticky by thread)")
    assert "feedback: not significant yet" in text

    again = cli("experiment", "start", "tone", ok=False)
    assert (again.returncode, again.stderr.strip()) == (
        1, "error: Experiment 'tone' is running already.",
    )  # fmt: skip
    assert "Stopped tone" in cli("experiment", "stop", "tone").stdout
    (listed,) = json.loads(cli("experiment", "list", "--json").stdout)
    assert (listed["name"], listed["status"]) == ("tone", "stopped")


def test_mistakes_are_one_error_line(cli: Cli) -> None:
    unknown = cli("experiment", "create", "x", "--alias", "demo", "--variant", "a=mini",
                  "--variant", "b=gpt-9", ok=False)  # fmt: skip
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("error: Variant 'b': 'gpt-9' is neither a configured alias")
    missing = cli("experiment", "report", "nope", ok=False)
    assert missing.stderr.strip() == "error: No experiment named 'nope'."
