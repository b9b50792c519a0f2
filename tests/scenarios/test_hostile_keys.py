"""Key authentication with bytes that are not ASCII (issue #13: `keys.hash_secret` raised on
non-ASCII `Authorization` and `X-API-Key`): a 401 in each connector's error format."""

from __future__ import annotations

import pytest

from connectors.admin_api import plugin as admin_api
from connectors.openai_api import plugin as openai_api
from connectors.zapier import plugin as zapier
from hub.ledger.keys import hash_secret
from tests.support.hubs import start_hub
from tests.support.logs import LogCapture

HOSTILE = [b"uh-\xff\xfe_x", "uh-caf\u00e9".encode(), b"uh-" + b"a" * 5000, b"\xc3\x28"]


@pytest.mark.parametrize("secret", HOSTILE)
async def test_non_ascii_keys_are_refused_with_401(
    sqlite_url: str, secret: bytes, logs: LogCapture
) -> None:
    running = await start_hub({}, database_url=sqlite_url)
    await running.serve(plugins=[openai_api, zapier, admin_api])
    try:
        async with running.client() as c:
            bearer = {"Authorization": b"Bearer " + secret}
            models = await c.get("/v1/models", headers=bearer)
            chat = await c.post("/v1/chat/completions", headers=bearer, json={})
            admin = await c.get("/admin/api/v1/teams", headers=bearer)
            me = await c.get("/zapier/me", headers={"X-API-Key": secret})
    finally:
        await running.close()
    for response in (models, chat):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"
    assert admin.status_code == 401 and admin.json()["error"]["code"] == "invalid_api_key"
    assert me.status_code == 401 and me.json()["error"]["code"] == "invalid_api_key"
    assert not [r for r in logs.records if r.levelname == "ERROR" or r.exc_info]


def test_hash_secret_is_total() -> None:
    assert len(hash_secret("uh-\udcff")) == 64
