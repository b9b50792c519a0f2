"""Where the hub may POST: never into its own network unless the operator allows it.

Every address the host resolves to is checked, so a name that resolves to both a public and
a private address is refused. Checked when a subscription is created and again before each
delivery (DNS can change in between).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from hub.errors import BadRequest


class TargetRefused(BadRequest):
    """The URL is malformed, unresolvable, or points at a private address."""


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def parse_target(url: str) -> tuple[str, int]:
    """Host and port of an http(s) URL, or TargetRefused saying what is wrong."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise TargetRefused(f"'{url[:200]}' is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"'{url[:200]}' is not an http(s) URL.")
    if parts.username or parts.password:
        raise TargetRefused("Target URLs must not carry credentials.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused(f"'{url[:200]}' has an invalid port.") from exc
    return parts.hostname, port


async def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse URLs whose host resolves to a private, loopback or link-local address."""
    host, port = parse_target(url)
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"The target host '{host}' cannot be resolved.") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if _forbidden(address):
            raise TargetRefused(
                f"The target host '{host}' resolves to a private or loopback address "
                f"({address}); set [webhooks] allow_private_targets = true to allow it."
            )
