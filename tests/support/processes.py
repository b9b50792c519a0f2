"""`hub serve` as a real process, for the tests that need several processes (shared Redis)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from tests.support.hubs import SECRET_KEY, free_port

HUB = str(Path(sys.executable).with_name("hub"))


class HubProcess:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.stderr = ""
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> HubProcess:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("HUB_", "DATABASE_URL", "REDIS_URL"))
        }
        env["HUB_SECRET_KEY"] = SECRET_KEY
        self._process = await asyncio.create_subprocess_exec(
            HUB,
            "--config",
            str(self.config),
            "serve",
            "--port",
            str(self.port),
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        async with asyncio.timeout(90):  # wait for the line it prints once it listens (busy CI)
            while b"listening on" not in await self._process.stdout.readline():
                if self._process.returncode is not None:
                    assert self._process.stderr is not None
                    said = (await self._process.stderr.read()).decode(errors="replace")
                    raise RuntimeError(f"hub serve exited early: {said[-2000:]}")
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    async def kill(self) -> None:
        """kill -9: no shutdown, no settling; the process is reaped (no zombie left)."""
        assert self._process is not None
        self._process.kill()
        _, err = await self._process.communicate()
        self.stderr = err.decode()

    async def __aexit__(self, *exc: object) -> None:
        assert self._process is not None
        if self._process.returncode is None:
            self._process.terminate()
            _, err = await self._process.communicate()
            self.stderr = err.decode()
