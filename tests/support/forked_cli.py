"""`hub` commands as real processes, forked from a parent that imported the CLI once.

Each command is its own process (its own exit status, stdout, stderr, working directory and
environment) entering through the same `hub.cli.main.main` the `hub` script calls; forking
only skips Python's start-up and imports, which would otherwise cost about a second a case.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@dataclass
class _Running:
    args: tuple[str, ...]
    pid: int
    out: io.BufferedRandom
    err: io.BufferedRandom


def preload() -> None:
    """Import what every command needs, once, in the parent."""
    import hub.cli.main  # noqa: F401
    from hub.connector import discover

    for plugin in discover().values():
        plugin.commands()


def run_all(
    cases: Sequence[Sequence[str]],
    *,
    cwd: Path,
    env: Mapping[str, str],
    envs: Sequence[Mapping[str, str]] = (),
    parallel: int = 4,
    timeout_s: float = 60.0,
) -> list[Finished]:
    """Run each argument list as `hub ARGS`, `parallel` at a time; results in order. `envs`
    adds variables per case to `env`."""
    preload()
    pending = list(enumerate(cases))
    running: dict[int, tuple[int, _Running, float]] = {}
    done: dict[int, Finished] = {}
    while pending or running:
        while pending and len(running) < parallel:
            index, args = pending.pop(0)
            extra = envs[index] if index < len(envs) else {}
            child = _fork(tuple(args), cwd=cwd, env={**env, **extra})
            running[child.pid] = (index, child, time.monotonic() + timeout_s)
        for pid, (index, child, deadline) in list(running.items()):
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished == 0 and time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                finished, status = os.waitpid(pid, 0)
            if finished:
                del running[pid]
                done[index] = _collect(child, os.waitstatus_to_exitcode(status))
        time.sleep(0.005)
    return [done[i] for i in range(len(cases))]


def _fork(args: tuple[str, ...], *, cwd: Path, env: Mapping[str, str]) -> _Running:
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: become `hub ARGS`
        code = 99
        try:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 - flushed before _exit
            sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            sys.argv = ["hub", *args]
            from hub.cli.main import main

            try:
                main(list(args))
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            else:
                code = 0
        except BaseException:  # noqa: BLE001 - a crash must show up as a failing case
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return _Running(args, pid, out, err)


def _collect(child: _Running, code: int) -> Finished:
    child.out.seek(0)
    child.err.seek(0)
    finished = Finished(
        child.args,
        code,
        child.out.read().decode(errors="replace"),
        child.err.read().decode(errors="replace"),
    )
    child.out.close()
    child.err.close()
    return finished


class Background:
    """A long-running `hub ARGS` (serve, discord, worker), forked like `run_all`'s commands."""

    def __init__(self, args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> None:
        preload()
        self._child = _fork(tuple(args), cwd=cwd, env=env)
        self._status: int | None = None

    @property
    def pid(self) -> int:
        return self._child.pid

    def stdout(self) -> str:
        return _read(self._child.out)

    def stderr(self) -> str:
        return _read(self._child.err)

    def wait_for(self, text: str, *, timeout_s: float = 60.0) -> None:
        """Until `text` is on stdout (or stderr); fails if the process ends first."""
        deadline = time.monotonic() + timeout_s
        while text not in self.stdout() + self.stderr():
            if self._poll() is not None:
                raise AssertionError(f"hub {' '.join(self._child.args)} ended: {self.stderr()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout_s} s: {self.stderr()}")
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, *, timeout_s: float = 30.0) -> Finished:
        """Send `sig`, wait for the exit (SIGKILL after `timeout_s`), collect the output."""
        if self._poll() is None:
            os.kill(self._child.pid, sig)
        deadline = time.monotonic() + timeout_s
        while self._poll() is None:
            if time.monotonic() > deadline:
                os.kill(self._child.pid, signal.SIGKILL)
            time.sleep(0.01)
        assert self._status is not None
        return _collect(self._child, self._status)

    def _poll(self) -> int | None:
        if self._status is None:
            finished, status = os.waitpid(self._child.pid, os.WNOHANG)
            if finished:
                self._status = os.waitstatus_to_exitcode(status)
        return self._status


def _read(file: io.BufferedRandom) -> str:
    return os.pread(file.fileno(), 1 << 24, 0).decode(errors="replace")
