"""`[database]` and `[redis]`: the two things several hub processes share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo

from hub.config.base import Section, base_dir

_SCHEMES = ("sqlite", "sqlite+aiosqlite", "postgresql", "postgres", "postgresql+asyncpg")


def _database_url(value: str, info: ValidationInfo) -> str:
    scheme, sep, _ = value.partition("://")
    if not sep or scheme not in _SCHEMES:
        raise ValueError(
            f"'{shown_url(value)}' is not a supported database URL: use sqlite:///path/hub.db "
            "or postgresql://user:password@host:5432/name"
        )
    return absolute_sqlite_url(value, base_dir(info))


def absolute_sqlite_url(url: str, base: Path) -> str:
    """`sqlite:///relative/path` made absolute against `base`; other URLs unchanged."""
    scheme, _, rest = url.partition("://")
    if scheme.startswith("sqlite") and rest.startswith("/") and rest not in ("/", "/:memory:"):
        path = Path(rest[1:])  # sqlite:///relative/path, sqlite:////absolute/path
        if not path.is_absolute():
            return f"{scheme}:///{(base / path).resolve()}"
    return url


def _redis_url(value: str) -> str:
    if value and not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"'{shown_url(value)}' is not a Redis URL such as redis://host:6379/0")
    return value


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if at and ":" in userinfo:
        return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"
    return url


DatabaseUrl = Annotated[str, AfterValidator(_database_url)]


def async_database_url(url: str) -> str:
    """Accept the usual URL spellings and pick the async driver for each."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


class DatabaseSettings(Section):
    url: DatabaseUrl = Field(
        "sqlite:///var/hub.db",
        description="SQLite (`sqlite:///path`, relative to this file's folder) or PostgreSQL "
        "(`postgresql://user:pass@host:5432/hub`). `DATABASE_URL` overrides it.",
        json_schema_extra={"secret_url": True},
    )
    migrate_on_start: bool | None = Field(
        None,
        description="Apply migrations when `hub serve` starts. Unset: true for SQLite (one "
        "process owns the file), false for PostgreSQL (run `hub migrate` once per release, "
        "before starting the processes). When false, `hub serve` refuses an unmigrated or "
        "older database.",
    )

    sqlite_synchronous: Literal["normal", "full"] = Field(
        "normal",
        description="SQLite's `synchronous` with its write-ahead log. `normal`: a commit is "
        "appended to the WAL without an fsync (the WAL is synced at checkpoints); a crash of "
        "the hub process loses nothing, but a power cut or kernel crash may lose the last "
        "transactions before the checkpoint. `full`: every commit is fsync'd before the "
        "answer, which survives power loss and costs one fsync per ledger batch (group "
        "commit shares it across concurrent requests). PostgreSQL: see "
        "`postgres_synchronous_commit`.",
    )
    postgres_synchronous_commit: Literal["off", "on"] = Field(
        "off",
        description="PostgreSQL: whether the ledger writer's commits (reservations; "
        "settlements with their usage records, counters and rollups; recoveries, "
        "checkpoints, leases) wait for the server's WAL flush. `off` (the default, SQLite "
        "`normal`'s level): each such transaction sets `synchronous_commit=off` for itself "
        "(inside its one statement on the hot path: no round trip more), so its commit is "
        "answered once it is in the server's WAL buffers; a kill -9 of the hub loses "
        "nothing, a crash of the PostgreSQL server or its OS may lose the last ~0.6 s of "
        "them (3 x `wal_writer_delay`), in commit order. A lost settlement whose hold "
        "survived leaves the hold, which the stale-hold sweep makes an `interrupted` record; "
        "a lost reservation leaves the request running without a hold: its settle still "
        "writes its one record and books it on its own counters (found by key: the lost "
        "ids may have gone to other requests, whose holds and counters it never touches), "
        "and while it runs it is not counted against the limits, so the requests in flight "
        "at the crash can spend past a limit by their own holds at most; a request whose "
        "reservation and settlement were both lost leaves no record. Delivery claims always "
        "commit at the server's level (a lost claim would let a platform's retry be "
        "answered twice). `on`: the writer sets nothing, every commit waits as the server "
        "is configured (PostgreSQL's default: the WAL flushed to disk, surviving power "
        "loss; with synchronous standbys, theirs too). Everything else the hub writes keeps "
        "the server's setting.",
    )

    @property
    def migrates_on_start(self) -> bool:
        if self.migrate_on_start is not None:
            return self.migrate_on_start
        return self.url.startswith("sqlite")


class RedisSettings(Section):
    url: Annotated[str, AfterValidator(_redis_url)] = Field(
        "",
        description="Shared rate limits and cross-instance signals for several hub "
        "processes (`redis://host:6379/0`). Empty: in-process. `REDIS_URL` overrides it.",
        json_schema_extra={"secret_url": True},
    )
    key_prefix: str = Field(
        "unillm", min_length=1, description="Every Redis key the hub writes starts with this."
    )
