"""`hub simulate webhook|zapier` against a real `hub serve` (#12 point 6), and how the
processes stop (SIGINT, SIGTERM): cleanly, with exit 0 and no traceback."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

from cryptography.fernet import Fernet

from tests.support.forked_cli import Background, Finished, run_all
from tests.support.hubs import free_port

KEY = Fernet.generate_key().decode()
CONFIG = """
[database]
url = "sqlite:///hub.db"
[providers.demo]
type = "demo"
[models.demo]
deployments = [
  { provider = "demo", model = "demo-1", input_usd_per_mtok = 0.5, output_usd_per_mtok = 1.5 },
]
[connectors.webhooks]
enabled = true
[connectors.zapier]
enabled = true
"""


def one_error(result: Finished, says: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result
    assert lines[0].startswith("error: ") and says in lines[0], result
    assert "Traceback" not in result.stderr


async def test_simulate_webhook_and_zapier_then_stop(tmp_path: Path) -> None:
    (tmp_path / "hub.toml").write_text(CONFIG)
    env = {
        "HUB_SECRET_KEY": KEY,
        "HUB_CONFIG": str(tmp_path / "hub.toml"),
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
    }

    def hub(*cases: tuple[str, ...], parallel: int = 4) -> list[Finished]:
        return run_all(list(cases), cwd=tmp_path, env=env, parallel=parallel)

    setup = await asyncio.to_thread(
        hub,
        ("migrate",),
        ("team", "create", "acme"),
        ("key", "create", "--team", "acme", "--json"),
        ("webhook", "create", "--team", "acme", "--json"),
        parallel=1,
    )
    assert [s.returncode for s in setup] == [0, 0, 0, 0], setup
    key = json.loads(setup[2].stdout)["key"]
    hook = json.loads(setup[3].stdout)["id"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    served = Background(("serve", "--port", str(port)), cwd=tmp_path, env=env)
    worker = Background(("worker",), cwd=tmp_path, env=env)
    try:
        await asyncio.to_thread(served.wait_for, "listening on")
        await asyncio.to_thread(worker.wait_for, "delivering events")
        webhook, streamed, zapier, wrong_secret, wrong_key, nobody = await asyncio.to_thread(
            hub,
            ("simulate", "webhook", "--url", url, "--hook", hook, "--text", "Ping"),
            ("simulate", "webhook", "--url", url, "--hook", hook, "--stream"),
            ("simulate", "zapier", "--url", url, "--key", key, "--text", "Zap"),
            (
                "simulate",
                "webhook",
                "--url",
                url,
                "--hook",
                hook,
                "--secret",
                "whsec_" + "A" * 32,
            ),
            ("simulate", "zapier", "--url", url, "--key", "uh-00000000_nope"),
            ("simulate", "zapier", "--url", f"http://127.0.0.1:{free_port()}", "--key", key),
        )
    finally:
        interrupted = await asyncio.to_thread(served.stop, signal.SIGINT)
        terminated = await asyncio.to_thread(worker.stop, signal.SIGTERM)
    # The webhook's answer is printed as the hub sent it: the demo answer and the usage.
    assert webhook.returncode == 0, webhook
    assert f"-> POST {url}/hooks/{hook}  (signed webhook msg_" in webhook.stdout
    answer = json.loads(webhook.stdout.split("<- HTTP 200 OK\n", 1)[1])
    assert 'You asked: "Ping"' in answer["output"]
    assert answer["metadata"] == {"simulated": True}
    assert streamed.returncode == 0 and "event: done" in streamed.stdout, streamed
    assert zapier.returncode == 0, zapier
    assert zapier.stdout.count("<- HTTP 200 OK") == 2  # the auth test, then the action
    me, asked = (
        json.loads(part.split("\n-> ")[0]) for part in zapier.stdout.split("<- HTTP 200 OK\n")[1:]
    )
    assert me["team"] == "acme"
    assert 'You asked: "Zap"' in asked["output"]
    # Refusals: the hub's answer is shown, then one error line and exit 1.
    assert "<- HTTP 401" in wrong_secret.stdout
    one_error(wrong_secret, "the hub answered HTTP 401, not 200 or 202")
    assert "<- HTTP 401" in wrong_key.stdout
    one_error(wrong_key, "the hub answered HTTP 401, not 200")
    one_error(nobody, "cannot reach http://127.0.0.1:")
    # Ctrl-C and SIGTERM stop the processes cleanly.
    for stopped in (interrupted, terminated):
        assert stopped.returncode == 0, stopped
        assert "Traceback" not in stopped.stderr and "error:" not in stopped.stderr, stopped
