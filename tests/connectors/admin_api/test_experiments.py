"""Experiments through the admin API: the operator reads them and their reports (the same JSON
as `hub experiment report --json`); team keys may not."""

from __future__ import annotations

from connectors.admin_api import plugin as admin_api
from tests.connectors.admin_api.support import API, admin_config, admin_hub

MODELS = {
    alias: {"deployments": [{"provider": "demo", "model": f"{alias}-1",
                             "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}]}
    for alias in ("chat", "mini")
}  # fmt: skip


async def test_the_operator_reads_experiments_and_their_reports(sqlite_url: str) -> None:
    config = admin_config(providers={"demo": {"type": "demo"}}, models=MODELS)
    async with admin_hub(sqlite_url, plugins=(admin_api,), config=config) as h:
        hub = h.running.hub
        await hub.experiments.create("tone", alias="chat", variants=["a=mini", "b=demo/chat-1"])
        await hub.experiments.start("tone")
        async with h.operator() as operator:
            listed = await operator.get(f"{API}/experiments")
            report = await operator.get(f"{API}/experiments/tone/report")
            missing = await operator.get(f"{API}/experiments/nope/report")
        async with h.client(h.a.admin.key) as admin:
            refused = await admin.get(f"{API}/experiments")
        assert listed.status_code == 200
        [shown] = listed.json()["data"]
        assert (shown["name"], shown["alias"], shown["status"], shown["sticky"]) == (
            "tone", "chat", "running", "user",
        )  # fmt: skip
        assert shown["variants"] == [
            {"name": "a", "target": "mini", "share": 50},
            {"name": "b", "target": "demo/chat-1", "share": 50},
        ]
        assert report.json() == (await hub.experiments.report("tone")).as_json()
        assert missing.status_code == 404
        assert refused.status_code == 403
