"""Secret rotation: old and new secrets both verify during the grace period, then only new."""

from __future__ import annotations

from datetime import timedelta

from hub.inbound_hooks import InboundHooks
from tests.connectors.webhooks.support import config_for, hook_rig
from tests.fakes.openai_server import FakeOpenAI


async def test_both_secrets_verify_during_grace(sqlite_url: str, fake_openai: FakeOpenAI) -> None:
    rig = await hook_rig(config_for(fake_openai.base_url), database_url=sqlite_url)
    try:
        hooks = InboundHooks.for_hub(rig.running.hub)
        old = rig.issued.secret
        rotated = await hooks.rotate(rig.issued.hook.id, grace=timedelta(hours=24))
        new = rotated.secret
        assert new != old and new.startswith("whsec_")
        assert (await rig.post({"input": "a"}, secret=old)).status_code == 200
        assert (await rig.post({"input": "b"}, secret=new)).status_code == 200
        rig.running.clock.advance(24 * 3600 + 1)
        assert (await rig.post({"input": "c"}, secret=old)).status_code == 401
        assert (await rig.post({"input": "d"}, secret=new)).status_code == 200
        stored = await hooks.get(rig.issued.hook.id)
        assert old not in stored.secret_encrypted and new not in stored.secret_encrypted
    finally:
        await rig.running.close()
