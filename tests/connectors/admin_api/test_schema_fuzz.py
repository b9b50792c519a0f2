"""Schema-driven: schemathesis generates requests for every admin operation from the served
/openapi.json (valid and invalid data), sends them over HTTP to the hub on 127.0.0.1 with
the operator key, and no answer may be a 5xx or disagree with the document.

Bounded and repeatable: few examples per operation in `make test` (more under `make fuzz`,
HUB_FUZZ_EXAMPLES), derandomized, no example database. The requests are synchronous
(requests), so they run in a thread while the event loop serves."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.connectors.admin_api.support import OPERATOR_KEY, AdminHub, admin_hub
from tests.fuzz.support import examples, time_limit

EXAMPLES = examples(4)
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def fuzz(document: dict[str, Any], base_url: str, fixed: dict[str, Any]) -> dict[str, int]:
    """Requests sent per operation and way of generating them (`GET /path 0`): valid data
    on the existing things (0), valid data anywhere (1), invalid data (2)."""
    schema = schemathesis.openapi.from_dict(document).include(path_regex="^/admin/")
    sent: dict[str, int] = {}
    with requests.Session() as session:
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        # Deletions last, so they cannot take away what the other operations work on.
        operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
        for operation in operations:
            names = {p.name for p in operation.path_parameters}
            # Destructive operations get their own targets, so the others keep theirs.
            own = fixed.get(f"{operation.method.upper()} {operation.path}", {})
            existing = {k: v for k, v in (fixed | own).items() if k in names}
            ways = (
                (GenerationMode.POSITIVE, existing),
                (GenerationMode.POSITIVE, {}),
                (GenerationMode.NEGATIVE, {}),
            )
            for way, (mode, parameters) in enumerate(ways):
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=parameters)
                label = f"{operation.method.upper()} {operation.path} {way}"
                sent[label] = send_examples(strategy, base_url, session)
    return sent


def send_examples(strategy: Any, base_url: str, session: requests.Session) -> int:
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal sent
        headers = {"Authorization": f"Bearer {OPERATOR_KEY}"}
        response = case.call(base_url=base_url, headers=headers, session=session)
        sent += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    return sent


# A schemathesis run over the whole document: minutes on a busy 2-core machine.
@pytest.mark.timeout(time_limit())
async def test_admin_api_survives_schema_driven_requests(database_url: str) -> None:
    """On SQLite and PostgreSQL: the stricter one refuses NULs and over-long strings."""
    async with admin_hub(database_url) as h:
        fixed = await existing_ids(h)
        async with h.running.client() as c:
            document = (await c.get("/openapi.json")).json()
        sent = await asyncio.to_thread(fuzz, document, h.running.base_url, fixed)
    operations = sum(
        1
        for path, item in document["paths"].items()
        if path.startswith("/admin/")
        for method in item
        if method in METHODS
    )
    # Every operation got requests each of the three ways, most ways their full count.
    assert len(sent) == 3 * operations and 0 not in sent.values(), sent
    assert sum(sent.values()) > 0.75 * len(sent) * EXAMPLES, sent


async def existing_ids(h: AdminHub) -> dict[str, Any]:
    hub, team = h.running.hub, h.a.team
    member = await hub.members.add(team, "fuzzed")
    removed = await hub.members.add(team, "to-remove")
    await hub.bindings.bind("slack", "T-FUZZ", team)
    return {
        "team_id": team.id,
        "member_id": member.id,
        "key_id": h.a.viewer.id,
        "platform": "slack",
        "external_id": "T-FUZZ",
        "provider": "demo",
        "DELETE /admin/api/v1/teams/{team_id}/members/{member_id}": {"member_id": removed.id},
        "POST /admin/api/v1/teams/{team_id}/keys/{key_id}/revoke": {"key_id": h.a.member.id},
    }
