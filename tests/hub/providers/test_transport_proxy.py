"""hub/providers/transport.py honours the environment's proxy (HTTP_PROXY, HTTPS_PROXY,
NO_PROXY), looked up once per upstream origin: the request goes through the proxy named for
its scheme, with the proxy's credentials (user:password in the proxy's URL) in
Proxy-Authorization, and straight to a host NO_PROXY names.

The proxies are real servers on 127.0.0.1: an HTTP forward proxy (aiohttp) that answers an
absolute-form request itself, and a raw one that records an HTTPS tunnel's CONNECT and refuses
it. The upstream named behind a proxy does not resolve (`.invalid`), so an answer proves the
request went through the proxy."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hub.config import ProviderSettings
from hub.providers.transport import ProviderTransport

BODY = b'{"model":"m","messages":[]}'
HEADERS = {"Accept": "text/event-stream", "Authorization": "Bearer sk-upstream"}


class ForwardProxy:
    """An HTTP proxy that answers what it is sent, and keeps what it saw."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(
            {
                "target": str(request.url),
                "headers": dict(request.headers),
                "body": await request.read(),
            }
        )
        return web.Response(body=b"data: [DONE]\n\n", content_type="text/event-stream")


@pytest.fixture
async def forward_proxy() -> AsyncIterator[ForwardProxy]:
    proxy = ForwardProxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    proxy.url = f"127.0.0.1:{port}"
    yield proxy
    await runner.cleanup()


@pytest.fixture
async def direct_upstream() -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=b"direct", content_type="text/plain")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    await runner.cleanup()


def _transport(base_url: str) -> ProviderTransport:
    return ProviderTransport(ProviderSettings(name="up", type="openai", base_url=base_url))


async def _post(transport: ProviderTransport, url: str, times: int = 1) -> tuple[int, bytes]:
    try:
        for _ in range(times):
            async with transport.post(url, BODY, HEADERS) as response:
                answer = response.status, await response.read()
        return answer
    finally:
        await transport.close()


@pytest.fixture(autouse=True)
def _no_proxy_of_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    (tmp_path / "netrc").write_text("")  # none of the machine's credentials either
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))


async def test_a_request_goes_through_the_environments_proxy_as_it_was_sent(
    forward_proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{forward_proxy.url}")
    transport = _transport("http://upstream.invalid/v1")
    status, body = await _post(transport, "http://upstream.invalid/v1/chat/completions")
    assert (status, body) == (200, b"data: [DONE]\n\n")
    [seen] = forward_proxy.seen
    assert seen["target"] == "http://upstream.invalid/v1/chat/completions"
    assert seen["body"] == BODY
    headers = seen["headers"]
    assert headers["Authorization"] == "Bearer sk-upstream"
    assert headers["Content-Type"] == "application/json"
    assert headers["Host"] == "upstream.invalid"
    assert "Proxy-Authorization" not in headers


async def test_the_proxys_credentials_go_in_proxy_authorization(
    forward_proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://user:p%40ss@{forward_proxy.url}")
    transport = _transport("http://upstream.invalid/v1")
    # Twice: the second from the origin's kept proxy.
    status, _ = await _post(transport, "http://upstream.invalid/v1/chat/completions", times=2)
    assert status == 200
    expected = "Basic " + base64.b64encode(b"user:p@ss").decode()
    assert [seen["headers"]["Proxy-Authorization"] for seen in forward_proxy.seen] == [
        expected,
        expected,
    ]
    assert forward_proxy.seen[0]["headers"]["Authorization"] == "Bearer sk-upstream"


async def test_no_proxy_sends_the_request_straight_to_the_upstream(
    forward_proxy: ForwardProxy, direct_upstream: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://{forward_proxy.url}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    status, body = await _post(_transport(direct_upstream), direct_upstream + "/chat/completions")
    assert (status, body) == (200, b"direct")
    assert forward_proxy.seen == []


async def test_an_https_upstream_is_tunnelled_with_the_proxys_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connects: list[bytes] = []

    async def refuse_tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connects.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse_tunnel, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://user:secret@127.0.0.1:{port}")
    try:
        with pytest.raises(aiohttp.ClientHttpProxyError) as refused:
            await _post(
                _transport("https://upstream.invalid/v1"),
                "https://upstream.invalid/v1/chat/completions",
            )
    finally:
        server.close()
        await server.wait_closed()
    assert refused.value.status == 403
    [connect] = connects
    lines = connect.decode().split("\r\n")
    assert lines[0] == "CONNECT upstream.invalid:443 HTTP/1.1"
    expected = "Basic " + base64.b64encode(b"user:secret").decode()
    assert f"Proxy-Authorization: {expected}" in lines
    assert not any(line.startswith("Authorization:") for line in lines)  # the key stays inside
