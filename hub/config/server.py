"""`[server]`: where `hub serve` listens, and whom it trusts for client addresses."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from hub.config.base import Section


def _network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an IP address or CIDR such as 10.0.0.0/8") from exc
    return value


def _public_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(f"'{value}' must be an http(s) URL such as https://hub.example.com")
    return value


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="Interface `hub serve` listens on.")
    port: int = Field(
        8080, ge=0, le=65535, description="TCP port `hub serve` listens on (0: any free port)."
    )
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        "auto",
        description="The event loop `hub serve` runs on: `auto` takes uvloop when it is "
        "installed (it is a dependency on Linux and macOS), else asyncio's own.",
    )
    trusted_proxies: tuple[Annotated[str, AfterValidator(_network)], ...] = Field(
        (),
        description="Client addresses come from X-Forwarded-For only when the peer is one "
        "of these (addresses or CIDRs).",
    )
    header_timeout_s: float = Field(
        10,
        gt=0,
        le=600,
        description="A request's line and headers must arrive within this many seconds of "
        "its first byte, or the connection is closed.",
    )
    body_timeout_s: float = Field(
        60,
        gt=0,
        le=3600,
        description="A request body must arrive within this many seconds (else 408 and the "
        "connection is closed); also how long the rest of a refused body is discarded.",
    )
    keepalive_timeout_s: float = Field(
        75,
        gt=0,
        le=3600,
        description="An idle keep-alive connection is closed after this many seconds.",
    )
    public_url: Annotated[str, AfterValidator(_public_url)] = Field(
        "",
        description="The URL people and platforms reach the hub at (https://hub.example.com), "
        "used by every printed link: install links, webhook URLs, the curl line. Empty: "
        "webhook URLs are printed as paths and install links need --base-url.",
    )
