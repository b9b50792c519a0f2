"""One trace per request, exported as OTLP/HTTP protobuf to a collector on 127.0.0.1: the
inbound server span (parented by the caller's traceparent), admission, one `chat {model}`
CLIENT span per upstream attempt following the GenAI conventions, the ledger step; the
traceparent reaches the upstream; gen_ai.client.* metrics with the spec's buckets."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest

from hub.observability.tracing import SECONDS_BUCKETS, TOKEN_BUCKETS
from tests.fakes.openai_server import FakeOpenAI, error, reply
from tests.fakes.otlp_collector import ExportedSpan, FakeCollector
from tests.support.hubs import RunningHub, model_config, openai_provider_config, start_hub
from tests.support.logs import LogCapture

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
DEPRECATED = {
    "gen_ai.system",
    "gen_ai.prompt",
    "gen_ai.completion",
    "gen_ai.usage.prompt_tokens",
    "gen_ai.usage.completion_tokens",
    "gen_ai.openai.request.seed",
    "gen_ai.openai.request.response_format",
    "gen_ai.openai.request.service_tier",
    "gen_ai.openai.response.service_tier",
    "gen_ai.openai.response.system_fingerprint",
}
INDEXED = re.compile(r"^gen_ai\.(prompt|completion)\.\d+")


@pytest.fixture
async def collector() -> AsyncIterator[FakeCollector]:
    async with FakeCollector() as fake:
        yield fake


async def traced_hub(
    fake: FakeOpenAI, collector: FakeCollector, url: str, **env: str
) -> RunningHub:
    running = await start_hub(
        {
            "providers": {
                "up": openai_provider_config(fake.base_url),
                "spare": openai_provider_config(fake.base_url),
            },
            "models": {
                "pair": model_config(("up", "gpt-4o", 2.5, 10.0), ("spare", "gpt-4o-mini", 1, 4))
            },
            "router": {"max_retries": 0},
            "logging": {"log_content": True},
        },
        database_url=url,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.origin,
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            **env,
        },
    )
    await running.serve()
    return running


async def post(running: RunningHub, body: dict[str, object]) -> int:
    async with running.client() as http:
        response = await http.post(
            "/v1/chat/completions",
            headers={
                "Authorization": f"Bearer {running.key.key}",
                "traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01",
            },
            json=body,
        )
    return response.status_code


def no_deprecated(span: ExportedSpan) -> None:
    assert not DEPRECATED & set(span.attributes), span.name
    assert not [k for k in span.attributes if INDEXED.match(k)], span.name


async def test_a_request_is_one_trace_with_genai_spans(
    fake_openai: FakeOpenAI, collector: FakeCollector, sqlite_url: str, logs: LogCapture
) -> None:
    fake_openai.script(error(503), reply("Hello there", prompt_tokens=12, completion_tokens=2))
    running = await traced_hub(fake_openai, collector, sqlite_url)
    try:
        status = await post(
            running,
            {
                "model": "pair",
                "max_tokens": 50,
                "temperature": 0.2,
                "top_p": 0.9,
                "stop": ["\n\n"],
                "messages": [{"role": "user", "content": "Say hello"}],
            },
        )
        assert status == 200
        await asyncio.to_thread(running.hub.observability.tracing.flush)
    finally:
        await running.close()

    assert collector.content_types and set(collector.content_types) == {"application/x-protobuf"}
    assert {s.trace_id for s in collector.spans} == {CALLER_TRACE}
    server = collector.span("POST /v1/chat/completions")
    assert server.kind == "SERVER" and server.parent_span_id == CALLER_SPAN
    assert server.attributes["http.request.method"] == "POST"
    assert server.attributes["http.route"] == "/v1/chat/completions"
    assert server.attributes["http.response.status_code"] == 200
    assert server.resource["service.name"] == "unillm-hub"
    admission = collector.span("unillm.admission")
    settle = collector.span("unillm.ledger.settle")
    assert admission.parent_span_id == server.span_id == settle.parent_span_id

    failed = collector.span("chat gpt-4o")
    answered = collector.span("chat gpt-4o-mini")
    for span in (failed, answered):
        assert span.kind == "CLIENT" and span.parent_span_id == server.span_id
        no_deprecated(span)
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["gen_ai.provider.name"] == "openai"
        assert span.attributes["gen_ai.request.max_tokens"] == 50
        assert span.attributes["gen_ai.request.temperature"] == 0.2
        assert span.attributes["gen_ai.request.top_p"] == 0.9
        assert span.attributes["gen_ai.request.stop_sequences"] == ["\n\n"]
        assert span.attributes["gen_ai.request.stream"] is True
        assert span.attributes["server.address"] == "127.0.0.1"
        assert span.attributes["server.port"] == fake_openai._server.port  # type: ignore[union-attr]
        assert span.attributes["unillm.alias"] == "pair"
    assert failed.attributes["gen_ai.request.model"] == "gpt-4o"
    assert failed.attributes["error.type"] == "provider_unavailable"
    assert failed.status_code == 2
    assert failed.attributes["unillm.attempt"] == 1
    assert "gen_ai.usage.input_tokens" not in failed.attributes

    attrs = answered.attributes
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["unillm.deployment"] == "spare/gpt-4o-mini"
    assert attrs["unillm.attempt"] == 2
    assert attrs["gen_ai.usage.input_tokens"] == 12
    assert attrs["gen_ai.usage.output_tokens"] == 2
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 0
    assert attrs["gen_ai.usage.cache_creation.input_tokens"] == 0
    assert attrs["gen_ai.usage.reasoning.output_tokens"] == 0
    assert attrs["gen_ai.response.finish_reasons"] == ["stop"]
    assert attrs["gen_ai.response.time_to_first_chunk"] >= 0
    # The upstream's own response id and model, as its first chunk named them.
    assert attrs["gen_ai.response.id"] == "chatcmpl-fake0001"
    assert attrs["gen_ai.response.model"] == "gpt-4o-mini"
    assert "gen_ai.response.id" not in failed.attributes
    # $1 and $4 per million: 12 * 1 + 2 * 4 = 20 micro-dollars.
    assert attrs["unillm.cost_usd"] == pytest.approx(0.00002)
    assert "error.type" not in attrs and answered.status_code == 0
    # Content stays out unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT says so.
    assert "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs

    # The upstream saw the trace: each attempt's traceparent names its own chat span.
    sent = [r.headers["traceparent"] for r in fake_openai.requests]
    assert sent == [
        f"00-{CALLER_TRACE}-{failed.span_id}-01",
        f"00-{CALLER_TRACE}-{answered.span_id}-01",
    ]
    # Every log line of the request carries the trace id.
    lines = [json.loads(line) for line in logs.lines]
    chat_line = next(line for line in lines if line.get("event") == "chat")
    assert chat_line["trace_id"] == CALLER_TRACE


async def test_content_and_genai_metrics_when_asked(
    fake_openai: FakeOpenAI, collector: FakeCollector, sqlite_url: str
) -> None:
    fake_openai.script(reply("Hi you", prompt_tokens=9, completion_tokens=2))
    running = await traced_hub(
        fake_openai,
        collector,
        sqlite_url,
        OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true",
    )
    try:
        status = await post(
            running, {"model": "pair", "messages": [{"role": "user", "content": "Hi"}]}
        )
        assert status == 200
        await asyncio.to_thread(running.hub.observability.tracing.flush)
    finally:
        await running.close()
    span = collector.span("chat gpt-4o")
    assert json.loads(span.attributes["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hi you"}],
            "finish_reason": "stop",
        }
    ]
    by_name = {(p.metric, p.attributes.get("gen_ai.token.type")): p for p in collector.points}
    tokens_in = by_name[("gen_ai.client.token.usage", "input")]
    assert tokens_in.unit == "{token}" and tokens_in.total == 9 and tokens_in.count == 1
    assert tokens_in.bounds == tuple(float(b) for b in TOKEN_BUCKETS)
    assert tokens_in.attributes["gen_ai.provider.name"] == "openai"
    assert tokens_in.attributes["gen_ai.request.model"] == "gpt-4o"
    assert by_name[("gen_ai.client.token.usage", "output")].total == 2
    duration = by_name[("gen_ai.client.operation.duration", None)]
    assert duration.unit == "s" and duration.bounds == SECONDS_BUCKETS and duration.count == 1
    first = by_name[("gen_ai.client.operation.time_to_first_chunk", None)]
    assert first.unit == "s" and first.bounds == SECONDS_BUCKETS


async def test_without_an_endpoint_nothing_is_traced_but_traceparent_passes(
    fake_openai: FakeOpenAI, sqlite_url: str, logs: LogCapture
) -> None:
    running = await start_hub(
        {
            "providers": {"up": openai_provider_config(fake_openai.base_url)},
            "models": {"pair": model_config(("up", "gpt-4o", 2.5, 10.0))},
        },
        database_url=sqlite_url,
    )
    await running.serve()
    try:
        assert running.hub.observability.tracing.enabled is False
        assert (
            await post(running, {"model": "pair", "messages": [{"role": "user", "content": "x"}]})
            == 200
        )
    finally:
        await running.close()
    # A transparent gateway passes the caller's trace context on, and logs under it.
    assert fake_openai.requests[0].headers["traceparent"] == f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
    lines = [json.loads(line) for line in logs.lines]
    assert next(line for line in lines if line.get("event") == "chat")["trace_id"] == CALLER_TRACE
