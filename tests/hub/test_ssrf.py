"""The SSRF guard (issue #13): every address class the hub must not call is refused, in
every form that embeds it; names are checked on every address they resolve to; the request
connects to the address that was checked (DNS rebinding cannot swap it), with the original
Host header; `[webhooks] allow_private_targets` lets private targets through."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import select

from hub.events.dispatcher import Dispatcher
from hub.events.subscriptions import Subscriptions
from hub.ssrf import TargetRefused, check_target, resolve_target
from hub.store.event_tables import EventDelivery
from tests.fakes.receivers import Receiver
from tests.hub.events.support import PRIVATE_OK, ask_openai, served_hub

REFUSED = {
    "http://127.0.0.1:9/hook": "loopback",
    "http://127.1/x": "loopback",
    "http://2130706433/x": "loopback",  # 127.0.0.1 as one number: the resolver reads it so
    "http://localhost/hook": "loopback",
    "http://10.1.2.3/x": "private",
    "http://172.16.0.1/x": "private",
    "http://192.168.0.10/x": "private",
    "http://169.254.169.254/latest/meta-data": "link-local",
    "http://100.64.0.1/x": "carrier-grade NAT",
    "http://100.100.100.200/latest/meta-data": "carrier-grade NAT",
    "http://198.18.0.1/x": "benchmarking",
    "http://192.0.2.1/x": "private",  # documentation (Python files it under private)
    "http://224.0.0.1/x": "multicast",
    "http://240.0.0.1/x": "private",
    "http://255.255.255.255/x": "private",
    "http://0.0.0.0/x": "unspecified",
    "http://[::]/x": "unspecified",
    "http://[::1]/x": "loopback",
    "http://[fe80::1]/x": "link-local",
    "http://[fc00::1]/x": "private",
    "http://[ff02::1]/x": "multicast",
    "http://[::ffff:127.0.0.1]/x": "loopback, in its IPv4-mapped form",
    "http://[::ffff:169.254.169.254]/x": "link-local, in its IPv4-mapped form",
    "http://[::127.0.0.1]/x": "loopback, in its IPv4-compatible form",
    "http://[64:ff9b::7f00:1]/x": "loopback, in its NAT64 form",
    "http://[2002:7f00:1::]/x": "loopback, in its 6to4 form",
    "http://[2002:a9fe:a9fe::]/x": "link-local, in its 6to4 form",
    "http://[2002:6440:1::]/x": "carrier-grade NAT (100.64.0.0/10), in its 6to4 form",
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x": "loopback, in its Teredo form",
}
MALFORMED = [
    "ftp://example.com/x",
    "not a url",
    "http://u:p@example.com/",
    "http://[::1/x",
    "http://example.com:99999/",
    "http://exa mple.com/",
    "http://a..b/",
    "http://" + "a" * 64 + ".com/",
    "http://xn--a.com/",  # not valid punycode
    "http://\u2603.com/",  # a snowman: not allowed in IDNA 2008
    "http://-leading.com/",
]


@pytest.mark.parametrize(("url", "reason"), list(REFUSED.items()))
async def test_every_address_class_and_form_is_refused(url: str, reason: str) -> None:
    with pytest.raises(TargetRefused, match="allow_private_targets") as refused:
        await check_target(url, allow_private=False)
    assert reason in refused.value.user_message
    assert url[:40] in refused.value.user_message


@pytest.mark.parametrize("url", MALFORMED)
async def test_malformed_targets_refused_naming_the_url(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await check_target(url, allow_private=True)
    assert url[:20] in refused.value.user_message


@pytest.mark.parametrize(
    "url",
    [
        "https://93.184.216.34/hook",
        "https://[2606:4700::1111]/hook",
        "http://[::ffff:8.8.8.8]/x",  # the IPv4-mapped form of a public address
        "http://[2002:808:808::]/x",  # the 6to4 form of one
    ],
)
async def test_public_addresses_pass(url: str) -> None:
    await check_target(url, allow_private=False)


async def test_allowed_private_targets_pass() -> None:
    await check_target("http://127.0.0.1:9/hook", allow_private=True)
    await check_target("http://[::1]:9/hook", allow_private=True)


class FakeDns:
    """Answers from a script, one answer per lookup (a rebinding name changes its answer)."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.lookups: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append((host, port))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


async def test_a_name_is_refused_when_any_of_its_addresses_is() -> None:
    dns = FakeDns(["93.184.216.34", "10.0.0.7"])
    with pytest.raises(TargetRefused, match=r"10\.0\.0\.7 \(private\)"):
        await check_target("https://hooks.example.com/x", allow_private=False, resolver=dns)


async def test_names_are_encoded_and_the_target_pinned_to_the_checked_address() -> None:
    dns = FakeDns(["93.184.216.34"], ["127.0.0.1"])
    target = await resolve_target(
        "https://Bücher.example/hook?x=1", allow_private=False, resolver=dns
    )
    assert dns.lookups == [("xn--bcher-kva.example", 443)]
    options = target.request_options({"user-agent": "t"})
    assert options["url"] == "https://93.184.216.34:443/hook?x=1"
    assert options["headers"] == {"user-agent": "t", "Host": "xn--bcher-kva.example"}
    assert options["extensions"] == {"sni_hostname": "xn--bcher-kva.example"}


async def test_a_delivery_connects_to_the_address_it_checked(sqlite_url: str) -> None:
    """DNS rebinding: the name answers a reachable address once, then an unreachable one.
    One lookup per delivery, and the POST goes to the address that lookup returned, with
    the name in the Host header."""
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            port = int(rx.url.split(":")[2].split("/")[0])
            url = f"http://hooks.rebind.test:{port}/hook"
            created = await Subscriptions(
                running.hub.sessions,
                clock=running.clock,
                secrets_box=running.hub.secrets,
                allow_private=True,
                resolver=FakeDns(["127.0.0.1"]),
            ).create(team_id=running.team.id, url=url, events=["completion.created"])
            rx.secret = created.secret
            await ask_openai(running)
            dns = FakeDns(["127.0.0.1"], ["192.0.2.1"])
            dispatcher = Dispatcher(
                running.hub.sessions,
                clock=running.clock,
                http=running.hub.http,
                secrets_box=running.hub.secrets,
                allow_private=True,
                resolver=dns,
            )
            report = await dispatcher.run_once()
        assert report.delivered == 1
        assert dns.lookups == [("hooks.rebind.test", port)]
        [received] = rx.received
        assert received.headers["host"] == f"hooks.rebind.test:{port}"
    finally:
        await running.close()


async def test_refused_at_creation_and_at_delivery(sqlite_url: str) -> None:
    running = await served_hub({}, database_url=sqlite_url)
    try:
        async with Receiver(clock=running.clock) as rx:
            strict = Subscriptions.for_hub(running.hub)
            with pytest.raises(TargetRefused):
                await strict.create(
                    team_id=running.team.id, url=rx.url, events=["completion.created"]
                )
            assert await strict.list() == []
            # Created while allowed (say, before the operator changed the setting) ...
            lax = Subscriptions(
                running.hub.sessions,
                clock=running.clock,
                secrets_box=running.hub.secrets,
                allow_private=True,
            )
            rx.secret = (
                await lax.create(team_id=running.team.id, url=rx.url, events=["completion.created"])
            ).secret
            await ask_openai(running)
            # ... and refused when delivering under the strict setting.
            await Dispatcher.for_hub(running.hub).run_once()
            assert rx.hits == 0
            async with running.hub.sessions() as session:
                [status] = await session.scalars(select(EventDelivery.status))
            assert status == "refused"
    finally:
        await running.close()


async def test_unknown_event_type_named(sqlite_url: str) -> None:
    running = await served_hub(PRIVATE_OK, database_url=sqlite_url)
    try:
        with pytest.raises(Exception, match="Unknown event type 'completion.done'"):
            await Subscriptions.for_hub(running.hub).create(
                team_id=running.team.id, url="http://127.0.0.1/x", events=["completion.done"]
            )
    finally:
        await running.close()
