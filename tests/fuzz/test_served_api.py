"""Schemathesis over the served /openapi.json (issue #13): every documented operation outside
the admin API (OpenAI API, webhooks, Zapier, Slack, Discord, Stripe) gets generated valid and
invalid requests with a team key; no answer may be a 5xx and nothing may log a traceback. The
admin API's operations are fuzzed the same way with the operator key by
tests/connectors/admin_api/test_schema_fuzz.py.

Fixed seed (derandomized), bounded examples, no example database; `make fuzz` runs more."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.fuzz.support import FuzzedHub, examples, fuzzed_hub, time_limit
from tests.support.logs import LogCapture


def fuzz(document: dict[str, Any], base_url: str, headers: dict[str, str], *, count: int) -> int:
    schema = schemathesis.openapi.from_dict(document).exclude(path_regex="^/admin/")
    sent = 0
    with requests.Session() as session:
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        # Deletions last, so they cannot take away what the other operations work on.
        operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @settings(
                    max_examples=count,
                    deadline=None,
                    derandomize=True,
                    database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case: Any) -> None:
                    nonlocal sent
                    response = case.call(base_url=base_url, headers=headers, session=session)
                    sent += 1
                    case.validate_response(response, checks=[not_a_server_error], headers=headers)

                try:
                    run()
                except Unsatisfiable:
                    continue  # nothing to break in an operation without inputs
    return sent


@pytest.mark.timeout(time_limit())
async def test_every_documented_operation_survives_generated_requests(
    database_url: str, logs: LogCapture
) -> None:
    async with fuzzed_hub(database_url) as fh:
        document = await served_document(fh)
        OpenAPIV31SpecValidator(document).validate()
        assert {"/slack/events", "/discord/interactions", "/hooks/{hook_id}"} <= set(
            document["paths"]
        )
        key = fh.running.key.key
        team = {"Authorization": f"Bearer {key}", "X-API-Key": key}
        sent = await asyncio.to_thread(fuzz, document, fh.running.base_url, team, count=examples(2))
    assert sent > 40
    tracebacks = [r.getMessage() for r in logs.records if r.levelname == "ERROR" or r.exc_info]
    assert tracebacks == []


async def served_document(fh: FuzzedHub) -> dict[str, Any]:
    async with fh.running.client() as c:
        document: dict[str, Any] = (await c.get("/openapi.json")).json()
    return document
