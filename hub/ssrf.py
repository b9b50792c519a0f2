"""Where the hub may send a request to a URL a user gave it: never into its own network unless
the operator allows it (`[webhooks] allow_private_targets`).

Every outbound call to a user-supplied URL (event subscriptions, Zapier hooks, webhook
`callback_url`) goes through `resolve_target`, which

- parses the URL strictly: http(s), no credentials, a valid port, and a host that is an IP
  literal or a valid IDNA name (anything else is a `TargetRefused` naming the URL: 400);
- resolves the name once and refuses it when any address it resolves to is loopback,
  private, link-local, carrier-grade NAT (100.64.0.0/10, where cloud metadata also lives),
  benchmarking, documentation, multicast, reserved, unspecified, or an IPv6 form that embeds
  such an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo);
- returns a `Target` pinned to the checked address: the request connects to that address
  with the original Host header and TLS server name, so a DNS answer that changes between
  the check and the connection (rebinding) cannot redirect it. Redirects are never followed.

Creating a subscription checks its URL with `check_target`; each delivery resolves again
(DNS may have changed since) and connects to what it checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import idna

from hub.errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, as text.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_BENCHMARK = ipaddress.IPv4Network("198.18.0.0/15")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


class TargetRefused(BadRequest):
    """The URL is malformed, unresolvable, or points at an address the hub must not call."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA-encoded), without brackets: the TLS server name
    port: int
    address: IPAddress
    path: str  # path and query, at least "/"

    @property
    def connect_url(self) -> str:
        shown = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def request_options(self, headers: Mapping[str, str]) -> dict[str, Any]:
        """httpx keyword arguments: the pinned URL, the original Host header and TLS server
        name (so the certificate is checked against the name, not the address)."""
        extensions = {"sni_hostname": self.host} if self.scheme == "https" else {}
        return {
            "url": self.connect_url,
            "headers": {**headers, "Host": self.host_header},
            "extensions": extensions,
        }


async def system_resolver(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def refusal(address: IPAddress) -> str | None:
    """Why the hub must not connect to `address` (e.g. "loopback"), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded(address)
        for form, inner in embedded:
            reason = refusal(inner)
            if reason is not None:
                return f"{reason}, in its {form} form"
        if embedded and embedded[0][0] in ("IPv4-mapped", "NAT64"):
            return None  # these are the IPv4 address itself, which is fine
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address):
        if address in _CGNAT:
            return "carrier-grade NAT (100.64.0.0/10)"
        if address in _BENCHMARK:
            return "benchmarking (198.18.0.0/15)"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not publicly routable"
    return None


def _embedded(address: ipaddress.IPv6Address) -> list[tuple[str, ipaddress.IPv4Address]]:
    if address.ipv4_mapped is not None:
        return [("IPv4-mapped", address.ipv4_mapped)]
    if address in _NAT64:
        return [("NAT64", ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))]
    if address in _COMPATIBLE and int(address) > 1:
        return [("IPv4-compatible", ipaddress.IPv4Address(int(address)))]
    if address.sixtofour is not None:
        return [("6to4", address.sixtofour)]
    if address.teredo is not None:
        server, client = address.teredo
        return [("Teredo", client), ("Teredo", server)]
    return []


def parse_target(url: str) -> tuple[str, str, int, str]:
    """Scheme, ASCII host, port and path of an http(s) URL; TargetRefused naming it if not."""
    shown = url[:200]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed IPv6 bracket, a port out of range
        raise TargetRefused(f"'{shown}' is not a valid URL.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"'{shown}' is not an http(s) URL.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(f"'{shown}' carries credentials; target URLs must not.")
    host = _ascii_host(parts.hostname, shown)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def _ascii_host(host: str, shown: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host.rstrip(".")
    try:
        if not name.isascii():
            name = idna.encode(name, uts46=True).decode("ascii")
        labels = name.split(".")
        for label in labels:
            if label.lower().startswith("xn--"):
                idna.decode(label)
        if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            raise idna.IDNAError("not a host name")
    except (idna.IDNAError, UnicodeError) as exc:
        raise TargetRefused(f"'{shown}' does not name a valid host.") from exc
    return name.lower()


async def resolve_target(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> Target:
    """The URL checked and pinned to one of its addresses; TargetRefused when it may not be
    called (every address the name resolves to must be allowed)."""
    scheme, host, port, path = parse_target(url)
    shown = url[:200]
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[IPAddress] = [literal]
    else:
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"The host of '{shown}' cannot be resolved.") from exc
        addresses = [ipaddress.ip_address(text.split("%", 1)[0]) for text in found]
        if not addresses:
            raise TargetRefused(f"The host of '{shown}' cannot be resolved.")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise TargetRefused(
                    f"'{shown}' resolves to {address} ({reason}); the hub only calls public "
                    "addresses ([webhooks] allow_private_targets = true allows others)."
                )
    return Target(url, scheme, host, port, addresses[0], path)


async def check_target(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> None:
    """Refuse a URL the hub may not call (at creation; each request checks again)."""
    await resolve_target(url, allow_private=allow_private, resolver=resolver)
