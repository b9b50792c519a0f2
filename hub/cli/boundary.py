"""The CLI's one error boundary: an ordinary mistake is one line on stderr and a non-zero exit;
only `--debug` shows a traceback. Every command's errors pass through `explain()`.

Exit status: 2 for a command-line mistake (unknown option, bad value), 1 for everything else.
"""

from __future__ import annotations

import errno
import socket
import traceback
from collections.abc import Callable

import click
import httpx
from sqlalchemy.exc import DBAPIError

from hub.config import ConfigError
from hub.config.database import shown_url
from hub.errors import HubError
from hub.store.secretbox import SecretBoxError

MIGRATE_HINT = "run `hub migrate`"


class CliFailure(click.ClickException):
    """A refusal worded for the operator (exit 1)."""

    exit_code = 1


def explain(exc: BaseException, *, database_url: str | None = None) -> str | None:
    """One sentence for an ordinary mistake, or None when it is a bug (report it)."""
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, ConfigError | SecretBoxError):
        return str(exc)
    if isinstance(exc, HubError):
        return exc.user_message
    message = getattr(exc, "user_message", None)  # connectors' own errors may carry one
    if isinstance(message, str) and message:
        return message
    if isinstance(exc, DBAPIError):
        return _database_error(exc, database_url)
    if isinstance(exc, httpx.TransportError):
        where = exc.request.url.copy_with(query=None) if _has_request(exc) else "the server"
        return f"cannot reach {where}: {_reason(exc)}; check the URL and the network"
    if isinstance(exc, OSError):
        return _os_error(exc, database_url)
    return None


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises when the error was built without one
    except RuntimeError:
        return False
    return True


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _database_error(exc: DBAPIError, url: str | None) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    where = f" ({shown_url(url)})" if url else ""
    lowered = text.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return f"the database{where} is not migrated: {MIGRATE_HINT}"
    if "does not exist" in lowered and "database" in lowered:
        return f"{text.rstrip('.')}{where}: create it (createdb NAME) or fix database.url"
    if "unable to open database file" in lowered:
        return f"cannot open the SQLite database{where}: check that its folder is writable"
    if "password authentication failed" in lowered or "role" in lowered and "not exist" in lowered:
        return f"the database refused the credentials{where}: fix the user or password"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the database{where} is read-only: check the file's permissions"
    return f"the database{where} failed: {text.splitlines()[0] if text else type(exc).__name__}"


def _os_error(exc: OSError, url: str | None) -> str:
    target = f"the database at {shown_url(url)}" if url and not url.startswith("sqlite") else None
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name of {target or 'a server'}: {exc.strerror}"
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return f"cannot reach {target or 'a server'}: connection refused (is it running?)"
    if isinstance(exc, TimeoutError):
        return f"timed out reaching {target or 'a server'}"
    if exc.errno == errno.EACCES or isinstance(exc, PermissionError):
        name = f" {exc.filename}" if exc.filename else ""
        return f"permission denied{name}"
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    detail = exc.strerror or str(exc)
    return f"{detail}{f': {exc.filename}' if exc.filename else ''}"


def guarded(
    run: Callable[[], object], *, debug: bool, database_url: Callable[[], str | None]
) -> int:
    """Run the CLI; return the exit status, printing one line for any failure."""

    try:
        run()
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except click.exceptions.Exit as stop:
        return stop.exit_code
    except click.Abort:
        click.echo("error: interrupted", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the boundary: every failure becomes one line
        if debug:
            traceback.print_exc()
        message = explain(exc, database_url=database_url())
        if message is None:
            message = (
                f"unexpected {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                " (this is a bug: run again with --debug for the traceback and report it)"
            )
        code = exc.exit_code if isinstance(exc, click.ClickException) else 1
        if isinstance(exc, click.UsageError):
            message = _usage_line(exc, message)
        click.echo(f"error: {_one_line(message)}", err=True)
        return code
    return 0


def _usage_line(exc: click.UsageError, message: str) -> str:
    command = exc.ctx.command_path if exc.ctx is not None else "hub"
    return f"{message} (see `{command} --help`)"


def _one_line(text: str) -> str:
    return " ".join(text.split())
