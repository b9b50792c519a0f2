"""Unsigned requests cost no memory (issue #13): a real `hub serve`, its resident memory read
from /proc, and many large unsigned POSTs to the platform routes sent over raw sockets the way
an attacker sends them: the whole body, whatever the hub answers.

The peak is read from VmHWM after resetting it (`echo 5 > /proc/<pid>/clear_refs`), so a
spike between two samples cannot hide."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from connectors.slack.verify import sign
from tests.support.processes import HubProcess

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")

MB = 1024 * 1024
PUBLIC_KEY = "ab" * 32  # any valid Ed25519 key: nothing here is signed with its private half
SECRET = "slack-signing-secret"
ROUTES = ("/slack/events", "/discord/interactions")


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "hub.toml"
    config.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path}/hub.db"
[providers.demo]
type = "demo"
[[models.demo.deployments]]
provider = "demo"
model = "demo-1"
input_usd_per_mtok = 0.5
output_usd_per_mtok = 1.5
[connectors.slack]
enabled = true
signing_secret = "{SECRET}"
bot_token = "xoxb-test"
api_base_url = "http://127.0.0.1:9/"
[connectors.discord]
enabled = true
application_id = "123456789"
public_key = "{PUBLIC_KEY}"
"""
    )
    return config


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _plausible_headers(path: str) -> bytes:
    """Headers that pass every check short of the signature over the body (fresh, well
    formed): the hub must still not read more than the route's limit."""
    now = str(int(time.time()))
    if path == "/slack/events":
        return (
            f"X-Slack-Request-Timestamp: {now}\r\nX-Slack-Signature: {sign(SECRET, now, b'x')}\r\n"
        ).encode()
    return f"X-Signature-Timestamp: {now}\r\nX-Signature-Ed25519: {'0' * 128}\r\n".encode()


async def post(port: int, path: str, size: int, *, extra: bytes = b"") -> int:
    """POST `size` bytes whatever the hub answers meanwhile; the response's status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {size}\r\n"
    ).encode()
    writer.write(head + extra + b"\r\n")
    status = asyncio.create_task(reader.readline())
    block = b"7" * (256 * 1024)
    sent = 0
    try:
        while sent < size:
            part = block[: size - sent]
            writer.write(part)
            sent += len(part)
            await writer.drain()
    except ConnectionError:
        pass  # the hub closed the connection: it did not want the rest either
    line = await asyncio.wait_for(status, 30)
    writer.close()
    return int(line.split()[1])


async def _idle(process: HubProcess, port: int) -> int:
    # Each route once, so the code serving them is loaded before "idle" is measured.
    for path in ROUTES:
        assert await post(port, path, 10) == 401
    await asyncio.sleep(0)
    return _kib(process.pid, "VmRSS")


# One `hub serve` for both checks: starting one costs seconds on a busy machine.
@pytest.mark.timeout(180)
async def test_large_unsigned_posts_leave_resident_memory_near_idle(tmp_path: Path) -> None:
    async with HubProcess(_config(tmp_path)) as process:
        port = process.port
        idle = await _idle(process, port)
        # One 10 MB unsigned POST at a time: less than 5 MB more than idle.
        one = {}
        for path in ROUTES:
            _reset_peak(process.pid)
            assert await post(port, path, 10 * MB) == 401
            one[path] = (_kib(process.pid, "VmHWM") - idle) / 1024
        # 40 concurrent 19 MB POSTs to each route, half of them with headers that pass every
        # check but the signature: within 50 MB of idle.
        forty = {}
        for path in ROUTES:
            _reset_peak(process.pid)
            started = time.perf_counter()
            statuses = await asyncio.gather(
                *(post(port, path, 19 * MB) for _ in range(20)),
                *(post(port, path, 19 * MB, extra=_plausible_headers(path)) for _ in range(20)),
            )
            assert sorted(set(statuses)) == [401, 413], statuses
            forty[path] = (_kib(process.pid, "VmHWM") - idle) / 1024
            print(f"{path}: 40 x 19 MB in {time.perf_counter() - started:.1f} s")
    print(f"idle {idle / 1024:.1f} MB; one 10 MB POST: {one}; forty 19 MB POSTs: {forty}")
    assert all(grown < 5 for grown in one.values()), one
    assert all(grown < 50 for grown in forty.values()), forty
