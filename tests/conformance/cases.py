"""The conformance cases: what each client request is, what the upstream answers (in its wire
format), and what the hub must hand on. `python -m tests.conformance.cases` writes them to
cases/*.json (read by the Python and the node suites); a test checks the files are current.

Kinds:
- openai: an OpenAI-compatible upstream; the case runs straight at the fake and through the
  hub, and both must agree (the upstream's request but for what the hub sets, the SDK's
  objects but for `id` and `model`).
- anthropic: an Anthropic upstream; the upstream must receive `expect.anthropic` and the SDK
  must see what it sees straight at an OpenAI upstream answering the `twin`.
- hub_only: what no upstream can show (malformed frames, refusals of parameters): the hub's
  answer is `expect`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conformance.wire import (
    Answer,
    Block,
    Call,
    Choice,
    Message,
    anthropic_error,
    anthropic_events,
    openai_error,
    openai_response,
    openai_stream,
    openai_usage,
    twin_of,
)

CASES_DIR = Path(__file__).parent / "cases"
JSON = dict[str, Any]
HELLO = [{"role": "user", "content": "Say hello."}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}
ANTHROPIC_WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": WEATHER_TOOL["function"]["parameters"],
}
ANTHROPIC_TIME = {"name": "get_time", "input_schema": TIME_TOOL["function"]["parameters"]}
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
    "RU5ErkJggg=="
)
PDF = (
    "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDw+"
    "PgolJUVPRgo="
)
WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="

# Token usage for the ledger check: the OpenAI-compatible deployment costs $1 (input),
# $0.5 (cached input), $2 (output) per million; Anthropic $3, $0.3 cache read, $3.75 cache
# write, $15 output.
PRICES = {
    "openai": {"input": 1.0, "cached": 0.5, "write": 1.0, "output": 2.0},
    "anthropic": {"input": 3.0, "cached": 0.3, "write": 3.75, "output": 15.0},
}


def weather_call(call_id: str = "call_w1", city: str = "Paris") -> Call:
    return Call(id=call_id, name="get_weather", pieces=('{"ci', 'ty": "', city, '"}'))


def text(*pieces: str, **options: Any) -> Choice:
    return Choice(pieces=pieces, **options)


def openai_case(
    name: str,
    about: str,
    params: list[str],
    request: JSON,
    answer: Answer,
    **extra: Any,
) -> JSON:
    return {
        "name": name,
        "kind": "openai",
        "about": about,
        "params": params,
        "request": request,
        "upstream": {"stream": openai_stream(answer), "response": openai_response(answer)},
        **extra,
    }


def openai_error_case(
    name: str,
    about: str,
    status: int,
    body: JSON,
    *,
    hub_status: int | None = None,
    headers: dict[str, str] | None = None,
    hub_code: str | None = None,
) -> JSON:
    expect: JSON = {"status": hub_status or status}
    if hub_code is not None:
        expect["code"] = hub_code
    return {
        "name": name,
        "kind": "openai",
        "about": about,
        "params": ["errors"],
        "request": {"messages": HELLO},
        "upstream": {"status": status, "body": body, "headers": headers or {}},
        "expect": expect,
    }


def anthropic_case(
    name: str,
    about: str,
    params: list[str],
    request: JSON,
    message: Message,
    anthropic: JSON,
    *,
    json_tool: str | None = None,
    model: str = "claude",
    dropped: list[str] | None = None,
) -> JSON:
    twin = twin_of(message, json_tool=json_tool)
    expect: JSON = {"anthropic": anthropic}
    if dropped is not None:
        expect["dropped"] = dropped
    return {
        "name": name,
        "kind": "anthropic",
        "about": about,
        "params": params,
        "model": model,
        "request": request,
        "upstream": {"events": anthropic_events(message)},
        "twin": {"stream": openai_stream(twin), "response": openai_response(twin)},
        "expect": expect,
    }


def anthropic_error_case(
    name: str,
    about: str,
    status: int,
    body: JSON,
    *,
    hub_status: int,
    hub_error: JSON | None,
    hub_code: str | None = None,
    headers: dict[str, str] | None = None,
    events: list[list[Any]] | None = None,
) -> JSON:
    expect: JSON = {"status": hub_status}
    if hub_error is not None:
        expect["error"] = hub_error
    if hub_code is not None:
        expect["code"] = hub_code
    upstream: JSON = {"status": status, "body": body, "headers": headers or {}}
    if events is not None:
        upstream = {"events": events}
    return {
        "name": name,
        "kind": "anthropic",
        "about": about,
        "params": ["errors"],
        "model": "claude",
        "request": {"messages": HELLO},
        "upstream": upstream,
        "expect": expect,
    }


def hub_only(
    name: str,
    about: str,
    params: list[str],
    request: JSON,
    upstream: JSON,
    expect: JSON,
    *,
    model: str = "gpt",
) -> JSON:
    return {
        "name": name,
        "kind": "hub_only",
        "about": about,
        "params": params,
        "model": model,
        "request": request,
        "upstream": upstream,
        "expect": expect,
    }


def anthropic_body(messages: list[JSON], **fields: Any) -> JSON:
    return {"model": "claude-sonnet-4-5", "messages": messages, "stream": True, **fields}


USER_HELLO = {"role": "user", "content": [{"type": "text", "text": "Say hello."}]}


def openai_cases() -> list[JSON]:
    usage = openai_usage(12, 4)
    return [
        openai_case(
            "openai_text",
            "A plain answer, streamed in pieces.",
            ["messages"],
            {"messages": HELLO},
            Answer((text("Hel", "lo", "!"),), usage),
        ),
        openai_case(
            "openai_text_parts",
            "Several text parts in one message reach the upstream as parts (never glued).",
            ["messages"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Hello"},
                            {"type": "text", "text": "world"},
                        ],
                    }
                ]
            },
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_developer_and_name",
            "The developer role and message names pass through.",
            ["messages[].role=developer", "messages[].name"],
            {
                "messages": [
                    {"role": "developer", "content": "Be terse.", "name": "rules"},
                    {"role": "user", "content": "Hi", "name": "alice"},
                ]
            },
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_fingerprint_tier",
            "system_fingerprint and service_tier reach the client.",
            ["service_tier"],
            {"messages": HELLO, "service_tier": "priority"},
            Answer((text("Hi"),), usage, service_tier="priority"),
        ),
        openai_case(
            "openai_tool_call",
            "One tool call, its arguments streamed in pieces.",
            ["tools"],
            {"messages": HELLO, "tools": [WEATHER_TOOL]},
            Answer((Choice(calls=(weather_call(),), finish="tool_calls"),), usage),
        ),
        openai_case(
            "openai_parallel_tool_calls",
            "Two tool calls in one answer.",
            ["tools", "parallel_tool_calls"],
            {"messages": HELLO, "tools": [WEATHER_TOOL, TIME_TOOL], "parallel_tool_calls": True},
            Answer(
                (
                    Choice(
                        calls=(weather_call(), Call("call_t1", "get_time", ('{"zone": "CET"}',))),
                        finish="tool_calls",
                    ),
                ),
                usage,
            ),
        ),
        openai_case(
            "openai_tool_call_one_delta",
            "A whole tool call in one delta.",
            ["tools"],
            {"messages": HELLO, "tools": [WEATHER_TOOL]},
            Answer(
                (
                    Choice(
                        calls=(Call("call_w2", "get_weather", ('{"city": "Oslo"}',)),),
                        finish="tool_calls",
                    ),
                ),
                usage,
            ),
        ),
        openai_case(
            "openai_missing_index",
            "Chunks whose choice has no `index` (some servers leave it out).",
            ["messages"],
            {"messages": HELLO},
            Answer((text("No", " index", omit_index=True),), usage),
        ),
        openai_case(
            "openai_tool_choice_required",
            "tool_choice required.",
            ["tool_choice"],
            {"messages": HELLO, "tools": [WEATHER_TOOL], "tool_choice": "required"},
            Answer((Choice(calls=(weather_call(),), finish="tool_calls"),), usage),
        ),
        openai_case(
            "openai_tool_choice_named",
            "tool_choice naming a function.",
            ["tool_choice"],
            {
                "messages": HELLO,
                "tools": [WEATHER_TOOL, TIME_TOOL],
                "tool_choice": {"type": "function", "function": {"name": "get_time"}},
            },
            Answer((Choice(calls=(Call("call_t2", "get_time", ("{}",)),), finish="stop"),), usage),
        ),
        openai_case(
            "openai_tool_choice_none",
            "tool_choice none: tools offered, none called.",
            ["tool_choice"],
            {"messages": HELLO, "tools": [WEATHER_TOOL], "tool_choice": "none"},
            Answer((text("It is sunny."),), usage),
        ),
        openai_case(
            "openai_tool_history",
            "A follow-up turn: assistant tool_calls and the tool's result in history.",
            ["messages[].tool_calls", "messages[].role=tool"],
            {
                "messages": [
                    {"role": "user", "content": "Weather in Paris?"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_w1",
                                "type": "function",
                                "function": {
                                    "name": "get_weather",
                                    "arguments": '{"city": "Paris"}',
                                },
                            }
                        ],
                    },
                    {"role": "tool", "tool_call_id": "call_w1", "content": '{"sky": "clear"}'},
                ],
                "tools": [WEATHER_TOOL],
            },
            Answer((text("Clear skies in Paris."),), usage),
        ),
        openai_case(
            "openai_n2",
            "n=2: two choices, each with its index.",
            ["n"],
            {"messages": HELLO, "n": 2},
            Answer((text("Hello"), text("Hi", " there")), openai_usage(12, 5)),
        ),
        openai_case(
            "openai_logprobs",
            "logprobs with top_logprobs.",
            ["logprobs", "top_logprobs"],
            {"messages": HELLO, "logprobs": True, "top_logprobs": 1},
            Answer(
                (
                    text(
                        "Hi",
                        "!",
                        logprobs=(
                            {
                                "token": "Hi",
                                "logprob": -0.1,
                                "bytes": [72, 105],
                                "top_logprobs": [
                                    {"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}
                                ],
                            },
                            {
                                "token": "!",
                                "logprob": -0.5,
                                "bytes": [33],
                                "top_logprobs": [{"token": "!", "logprob": -0.5, "bytes": [33]}],
                            },
                        ),
                    ),
                ),
                usage,
            ),
        ),
        openai_case(
            "openai_json_object",
            "response_format json_object.",
            ["response_format=json_object"],
            {"messages": HELLO, "response_format": {"type": "json_object"}},
            Answer((text('{"greeting":', ' "hello"}'),), usage),
        ),
        openai_case(
            "openai_json_schema_strict",
            "response_format json_schema, strict.",
            ["response_format=json_schema"],
            {
                "messages": HELLO,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "greeting",
                        "strict": True,
                        "schema": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}},
                            "required": ["text"],
                            "additionalProperties": False,
                        },
                    },
                },
            },
            Answer((text('{"text": ', '"hello"}'),), usage),
        ),
        openai_case(
            "openai_refusal",
            "A refusal, streamed in the refusal field.",
            ["refusal"],
            {"messages": HELLO},
            Answer((Choice(refusal=("I can't ", "help with that."), finish="stop"),), usage),
        ),
        openai_case(
            "openai_usage_on_last_chunk",
            "Usage on the finish chunk itself, no separate usage chunk.",
            ["stream_options"],
            {"messages": HELLO},
            Answer((text("Hi"),), usage, usage_on_finish=True),
        ),
        openai_case(
            "openai_cached_tokens",
            "Cached prompt tokens (billed at the cached price).",
            ["prompt_cache_key"],
            {"messages": HELLO, "prompt_cache_key": "conv-1"},
            Answer((text("Hi"),), openai_usage(2048, 4, cached=1920)),
        ),
        openai_case(
            "openai_reasoning_tokens",
            "Reasoning tokens, with reasoning_effort.",
            ["reasoning_effort"],
            {"messages": HELLO, "reasoning_effort": "low"},
            Answer((text("Hi"),), openai_usage(12, 140, reasoning=128)),
        ),
        openai_case(
            "openai_unknown_fields",
            "Fields the hub has no name for pass through both ways.",
            ["unknown fields"],
            {"messages": HELLO, "top_k": 40, "chat_template_kwargs": {"enable_thinking": False}},
            Answer((text("Hi"),), usage, top_extra={"x_groq": {"id": "req_1"}}),
        ),
        openai_case(
            "openai_reasoning_content",
            "A reasoning_content delta field (vLLM, DeepSeek) is kept and joined.",
            ["unknown fields"],
            {"messages": HELLO},
            Answer(
                (
                    text(
                        "Hi",
                        delta_extra=({"reasoning_content": "Think"}, {"reasoning_content": "ing."}),
                    ),
                ),
                usage,
            ),
        ),
        openai_case(
            "openai_sampling",
            "seed, penalties, logit_bias, temperature, top_p pass through.",
            ["seed", "frequency_penalty", "presence_penalty", "logit_bias", "temperature", "top_p"],
            {
                "messages": HELLO,
                "seed": 42,
                "frequency_penalty": 0.5,
                "presence_penalty": -0.5,
                "logit_bias": {"50256": -100},
                "temperature": 0.2,
                "top_p": 0.9,
            },
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_metadata_store_user",
            "metadata, store, user and safety_identifier pass through.",
            ["metadata", "store", "user", "safety_identifier"],
            {
                "messages": HELLO,
                "metadata": {"run": "r1"},
                "store": True,
                "user": "u-42",
                "safety_identifier": "sid-1",
            },
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_stop",
            "stop sequences.",
            ["stop"],
            {"messages": HELLO, "stop": ["\n\n", "END"]},
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_length",
            "max_tokens reached: finish_reason length.",
            ["max_tokens"],
            {"messages": HELLO, "max_tokens": 3},
            Answer((text("Hel", "lo"),), openai_usage(12, 3)),
        ),
        openai_case(
            "openai_max_completion_tokens",
            "max_completion_tokens is kept as the field the client used.",
            ["max_completion_tokens"],
            {"messages": HELLO, "max_completion_tokens": 64},
            Answer((text("Hi"),), usage),
        ),
        openai_case(
            "openai_image_detail",
            "An image part with detail high.",
            ["messages[].content[].image_url.detail"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "What is this?"},
                            {
                                "type": "image_url",
                                "image_url": {
                                    "url": f"data:image/png;base64,{PNG}",
                                    "detail": "high",
                                },
                            },
                        ],
                    }
                ]
            },
            Answer((text("A pixel."),), usage),
        ),
        openai_case(
            "openai_file_part",
            "A PDF file part.",
            ["messages[].content[].file"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "file",
                                "file": {
                                    "filename": "a.pdf",
                                    "file_data": f"data:application/pdf;base64,{PDF}",
                                },
                            },
                            {"type": "text", "text": "Summarize."},
                        ],
                    }
                ]
            },
            Answer((text("An empty PDF."),), usage),
        ),
        openai_case(
            "openai_input_audio",
            "An input_audio part.",
            ["messages[].content[].input_audio"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}
                        ],
                    }
                ]
            },
            Answer((text("Silence."),), usage),
        ),
        openai_case(
            "openai_keepalive_chunk",
            "An empty chunk (no choices, no usage) mid-stream.",
            ["messages"],
            {"messages": HELLO},
            Answer((text("Hi", " you"),), usage, keepalive=True),
        ),
        openai_error_case(
            "openai_error_context_length",
            "Context length exceeded: the upstream's 400 as it was.",
            400,
            openai_error(
                "This model's maximum context length is 128000 tokens.",
                "invalid_request_error",
                code="context_length_exceeded",
                param="messages",
            ),
        ),
        openai_error_case(
            "openai_error_invalid_param",
            "An invalid parameter: 400 naming it.",
            400,
            openai_error(
                "Invalid value for 'temperature'.",
                "invalid_request_error",
                code="invalid_value",
                param="temperature",
            ),
        ),
        openai_error_case(
            "openai_error_content_policy",
            "Content policy: the upstream's 400.",
            400,
            openai_error(
                "Your request was rejected by the safety system.",
                "invalid_request_error",
                code="content_policy_violation",
            ),
        ),
        openai_error_case(
            "openai_error_422",
            "An unprocessable request: 422 passed on.",
            422,
            openai_error("Unprocessable.", "invalid_request_error"),
        ),
        openai_error_case(
            "openai_error_401",
            "The hub's own key refused: 502 (not the client's fault).",
            401,
            openai_error(
                "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key"
            ),
            hub_status=502,
            hub_code="provider_auth_error",
        ),
        openai_error_case(
            "openai_error_403",
            "The hub's own account refused: 502.",
            403,
            openai_error(
                "Country not supported.",
                "invalid_request_error",
                code="unsupported_country_region_territory",
            ),
            hub_status=502,
            hub_code="provider_auth_error",
        ),
        openai_error_case(
            "openai_error_404",
            "The deployment names a model the upstream does not know: 502.",
            404,
            openai_error(
                "The model does not exist.", "invalid_request_error", code="model_not_found"
            ),
            hub_status=502,
            hub_code="provider_bad_request",
        ),
        openai_error_case(
            "openai_error_429",
            "Rate limited upstream: 429 with Retry-After.",
            429,
            openai_error("Rate limit reached.", "requests", code="rate_limit_exceeded"),
            headers={"retry-after-ms": "20"},
            hub_code="provider_rate_limited",
        ),
        openai_error_case(
            "openai_error_500",
            "A server error upstream: 503.",
            500,
            openai_error("The server had an error.", "server_error"),
            hub_status=503,
            hub_code="provider_unavailable",
        ),
        openai_error_case(
            "openai_error_503",
            "Overloaded upstream: 503.",
            503,
            openai_error("The engine is overloaded.", "server_error"),
            hub_status=503,
            hub_code="provider_unavailable",
        ),
    ]


def anthropic_cases() -> list[JSON]:
    hello_blocks = (Block("text", ("Hel", "lo")),)
    weather = Block("tool_use", ('{"city":', ' "Paris"}'), id="toolu_w1", name="get_weather")
    return [
        anthropic_case(
            "anthropic_text",
            "A plain answer; system and developer messages become `system`.",
            ["messages[].role=system", "messages[].role=developer"],
            {
                "messages": [
                    {"role": "system", "content": "Be terse."},
                    {"role": "developer", "content": "Answer in English."},
                    *HELLO,
                ]
            },
            Message(hello_blocks),
            anthropic_body([USER_HELLO], system="Be terse.\n\nAnswer in English."),
        ),
        anthropic_case(
            "anthropic_text_parts",
            "Several text parts stay separate blocks.",
            ["messages"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Hello"},
                            {"type": "text", "text": "world"},
                        ],
                    }
                ]
            },
            Message(hello_blocks),
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "Hello"},
                            {"type": "text", "text": "world"},
                        ],
                    }
                ]
            ),
        ),
        anthropic_case(
            "anthropic_tool_call",
            "tools; tool_use streamed as input_json_delta.",
            ["tools"],
            {"messages": HELLO, "tools": [WEATHER_TOOL]},
            Message((weather,), stop_reason="tool_use"),
            anthropic_body([USER_HELLO], tools=[ANTHROPIC_WEATHER]),
        ),
        anthropic_case(
            "anthropic_parallel_tool_calls",
            "Text, then two tool calls (numbered 0 and 1).",
            ["tools", "parallel_tool_calls"],
            {"messages": HELLO, "tools": [WEATHER_TOOL, TIME_TOOL]},
            Message(
                (
                    Block("text", ("Checking.",)),
                    weather,
                    Block("tool_use", ('{"zone": "CET"}',), id="toolu_t1", name="get_time"),
                ),
                stop_reason="tool_use",
            ),
            anthropic_body([USER_HELLO], tools=[ANTHROPIC_WEATHER, ANTHROPIC_TIME]),
        ),
        anthropic_case(
            "anthropic_no_parallel",
            "parallel_tool_calls false → disable_parallel_tool_use.",
            ["parallel_tool_calls"],
            {"messages": HELLO, "tools": [WEATHER_TOOL], "parallel_tool_calls": False},
            Message((weather,), stop_reason="tool_use"),
            anthropic_body(
                [USER_HELLO],
                tools=[ANTHROPIC_WEATHER],
                tool_choice={"type": "auto", "disable_parallel_tool_use": True},
            ),
        ),
        anthropic_case(
            "anthropic_tool_choice_required",
            "tool_choice required → any.",
            ["tool_choice"],
            {"messages": HELLO, "tools": [WEATHER_TOOL], "tool_choice": "required"},
            Message((weather,), stop_reason="tool_use"),
            anthropic_body([USER_HELLO], tools=[ANTHROPIC_WEATHER], tool_choice={"type": "any"}),
        ),
        anthropic_case(
            "anthropic_tool_choice_named",
            "A named function → tool.",
            ["tool_choice"],
            {
                "messages": HELLO,
                "tools": [WEATHER_TOOL],
                "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            },
            Message((weather,), stop_reason="tool_use"),
            anthropic_body(
                [USER_HELLO],
                tools=[ANTHROPIC_WEATHER],
                tool_choice={"type": "tool", "name": "get_weather"},
            ),
        ),
        anthropic_case(
            "anthropic_tool_choice_none",
            "tool_choice none.",
            ["tool_choice"],
            {"messages": HELLO, "tools": [WEATHER_TOOL], "tool_choice": "none"},
            Message(hello_blocks),
            anthropic_body([USER_HELLO], tools=[ANTHROPIC_WEATHER], tool_choice={"type": "none"}),
        ),
        anthropic_case(
            "anthropic_tool_history",
            "Assistant tool_calls → tool_use; two tool results share one user turn; the empty "
            "assistant text is not sent.",
            ["messages[].tool_calls", "messages[].role=tool"],
            {
                "messages": [
                    {"role": "user", "content": "Weather and time?"},
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {
                                "id": "toolu_w1",
                                "type": "function",
                                "function": {
                                    "name": "get_weather",
                                    "arguments": '{"city": "Paris"}',
                                },
                            },
                            {
                                "id": "toolu_t1",
                                "type": "function",
                                "function": {"name": "get_time", "arguments": "{}"},
                            },
                        ],
                    },
                    {"role": "tool", "tool_call_id": "toolu_w1", "content": "clear"},
                    {"role": "tool", "tool_call_id": "toolu_t1", "content": "noon"},
                ],
                "tools": [WEATHER_TOOL, TIME_TOOL],
            },
            Message((Block("text", ("Clear, at noon.",)),)),
            anthropic_body(
                [
                    {"role": "user", "content": [{"type": "text", "text": "Weather and time?"}]},
                    {
                        "role": "assistant",
                        "content": [
                            {
                                "type": "tool_use",
                                "id": "toolu_w1",
                                "name": "get_weather",
                                "input": {"city": "Paris"},
                            },
                            {"type": "tool_use", "id": "toolu_t1", "name": "get_time", "input": {}},
                        ],
                    },
                    {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": "toolu_w1", "content": "clear"},
                            {"type": "tool_result", "tool_use_id": "toolu_t1", "content": "noon"},
                        ],
                    },
                ],
                tools=[ANTHROPIC_WEATHER, ANTHROPIC_TIME],
            ),
        ),
        anthropic_case(
            "anthropic_empty_turn",
            "An empty assistant turn is never sent (no `content: []`).",
            ["messages"],
            {
                "messages": [
                    {"role": "user", "content": "One."},
                    {"role": "assistant", "content": ""},
                    {"role": "user", "content": "Two."},
                ]
            },
            Message(hello_blocks),
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "One."},
                            {"type": "text", "text": "Two."},
                        ],
                    }
                ]
            ),
        ),
        anthropic_case(
            "anthropic_json_schema",
            "response_format json_schema: a forced tool whose input is the answer's content.",
            ["response_format=json_schema"],
            {
                "messages": HELLO,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "greeting",
                        "strict": True,
                        "schema": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}},
                            "required": ["text"],
                        },
                    },
                },
            },
            Message(
                (Block("tool_use", ('{"text":', ' "hello"}'), id="toolu_j", name="json_response"),),
                stop_reason="tool_use",
            ),
            anthropic_body(
                [USER_HELLO],
                tools=[
                    {
                        "name": "json_response",
                        "description": "Give the answer by calling this tool: its input is the "
                        "answer, as JSON matching the schema.",
                        "input_schema": {
                            "type": "object",
                            "properties": {"text": {"type": "string"}},
                            "required": ["text"],
                        },
                    }
                ],
                tool_choice={"type": "tool", "name": "json_response"},
            ),
            json_tool="json_response",
        ),
        anthropic_case(
            "anthropic_json_object",
            "response_format json_object: any JSON object.",
            ["response_format=json_object"],
            {"messages": HELLO, "response_format": {"type": "json_object"}},
            Message(
                (Block("tool_use", ('{"ok": true}',), id="toolu_j", name="json_response"),),
                stop_reason="tool_use",
            ),
            anthropic_body(
                [USER_HELLO],
                tools=[
                    {
                        "name": "json_response",
                        "description": "Give the answer by calling this tool: its input is the "
                        "answer, as JSON matching the schema.",
                        "input_schema": {"type": "object"},
                    }
                ],
                tool_choice={"type": "tool", "name": "json_response"},
            ),
            json_tool="json_response",
        ),
        anthropic_case(
            "anthropic_images",
            "An inline image and an image URL.",
            ["messages[].content[]"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {"url": f"data:image/png;base64,{PNG}"},
                            },
                            {
                                "type": "image_url",
                                "image_url": {
                                    "url": "https://example.com/cat.jpg",
                                    "detail": "auto",
                                },
                            },
                            {"type": "text", "text": "Compare."},
                        ],
                    }
                ]
            },
            Message((Block("text", ("Two images.",)),)),
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image",
                                "source": {
                                    "type": "base64",
                                    "media_type": "image/png",
                                    "data": PNG,
                                },
                            },
                            {
                                "type": "image",
                                "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                            },
                            {"type": "text", "text": "Compare."},
                        ],
                    }
                ]
            ),
        ),
        anthropic_case(
            "anthropic_pdf",
            "A PDF file part → a document block.",
            ["messages[].content[].file"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "file",
                                "file": {
                                    "filename": "a.pdf",
                                    "file_data": f"data:application/pdf;base64,{PDF}",
                                },
                            },
                            {"type": "text", "text": "Summarize."},
                        ],
                    }
                ]
            },
            Message((Block("text", ("Empty.",)),)),
            anthropic_body(
                [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "document",
                                "source": {
                                    "type": "base64",
                                    "media_type": "application/pdf",
                                    "data": PDF,
                                },
                                "title": "a.pdf",
                            },
                            {"type": "text", "text": "Summarize."},
                        ],
                    }
                ]
            ),
        ),
        anthropic_case(
            "anthropic_stop",
            "stop → stop_sequences; stop_sequence → stop.",
            ["stop"],
            {"messages": HELLO, "stop": ["END"]},
            Message(hello_blocks, stop_reason="stop_sequence", stop_sequence="END"),
            anthropic_body([USER_HELLO], stop_sequences=["END"]),
        ),
        anthropic_case(
            "anthropic_max_tokens",
            "max_tokens → finish_reason length.",
            ["max_tokens"],
            {"messages": HELLO, "max_tokens": 5},
            Message(hello_blocks, stop_reason="max_tokens"),
            anthropic_body([USER_HELLO]),
        ),
        anthropic_case(
            "anthropic_user",
            "user → metadata.user_id; temperature and top_p.",
            ["user", "temperature", "top_p"],
            {"messages": HELLO, "user": "u-42", "temperature": 0.3, "top_p": 0.8},
            Message(hello_blocks),
            anthropic_body([USER_HELLO], metadata={"user_id": "u-42"}, temperature=0.3, top_p=0.8),
        ),
        anthropic_case(
            "anthropic_cache_usage",
            "Cache reads and writes: prompt_tokens counts them all.",
            ["usage"],
            {"messages": HELLO},
            Message(
                hello_blocks, input_tokens=20, output_tokens=7, cache_read=1800, cache_write=300
            ),
            anthropic_body([USER_HELLO]),
        ),
        anthropic_case(
            "anthropic_thinking_block",
            "A thinking block stays with Anthropic.",
            ["messages"],
            {"messages": HELLO},
            Message((Block("thinking", ("Hmm.",)), Block("text", ("Hi.",)))),
            anthropic_body([USER_HELLO]),
        ),
        anthropic_case(
            "anthropic_refusal",
            "stop_reason refusal → content_filter.",
            ["messages"],
            {"messages": HELLO},
            Message((Block("text", ("I can't",)),), stop_reason="refusal"),
            anthropic_body([USER_HELLO]),
        ),
        anthropic_case(
            "anthropic_dropped_params",
            "drop_params: logprobs and seed left out, and said so.",
            ["logprobs", "seed"],
            {"messages": HELLO, "logprobs": True, "seed": 7},
            Message(hello_blocks),
            anthropic_body([USER_HELLO]),
            model="claude-drop",
            dropped=["logprobs", "seed"],
        ),
        anthropic_error_case(
            "anthropic_error_prompt_too_long",
            "Prompt too long: 400, context_length_exceeded.",
            400,
            anthropic_error(
                "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
            hub_status=400,
            hub_error={
                "message": "prompt is too long: 210000 tokens > 200000 maximum",
                "type": "invalid_request_error",
                "param": None,
                "code": "context_length_exceeded",
            },
        ),
        anthropic_error_case(
            "anthropic_error_401",
            "The hub's key refused: 502.",
            401,
            anthropic_error("authentication_error", "invalid x-api-key"),
            hub_status=502,
            hub_error=None,
            hub_code="provider_auth_error",
        ),
        anthropic_error_case(
            "anthropic_error_429",
            "Rate limited: 429 with Retry-After.",
            429,
            anthropic_error("rate_limit_error", "Number of requests has exceeded your limit"),
            hub_status=429,
            hub_error=None,
            hub_code="provider_rate_limited",
            headers={"retry-after": "1"},
        ),
        anthropic_error_case(
            "anthropic_error_529",
            "Overloaded: 503.",
            529,
            anthropic_error("overloaded_error", "Overloaded"),
            hub_status=503,
            hub_error=None,
            hub_code="provider_unavailable",
        ),
        anthropic_error_case(
            "anthropic_error_in_stream",
            "An overloaded error event before any content: 503.",
            200,
            {},
            hub_status=503,
            hub_error=None,
            hub_code="provider_unavailable",
            events=[
                [
                    "message_start",
                    {
                        "type": "message_start",
                        "message": {
                            "id": "msg_x",
                            "type": "message",
                            "role": "assistant",
                            "content": [],
                            "model": "claude-sonnet-4-5",
                            "stop_reason": None,
                            "stop_sequence": None,
                            "usage": {"input_tokens": 5, "output_tokens": 1},
                        },
                    },
                ],
                ["error", anthropic_error("overloaded_error", "Overloaded")],
            ],
        ),
    ]


REFUSED_BY_ANTHROPIC: list[tuple[str, JSON, str]] = [
    ("top_logprobs", {"logprobs": False, "top_logprobs": 2}, "top_logprobs"),
    ("seed", {"seed": 1}, "seed"),
    ("frequency_penalty", {"frequency_penalty": 0.5}, "frequency_penalty"),
    ("presence_penalty", {"presence_penalty": 0.5}, "presence_penalty"),
    ("logit_bias", {"logit_bias": {"1": 5}}, "logit_bias"),
    ("metadata", {"metadata": {"run": "r1"}}, "metadata"),
    ("store", {"store": True}, "store"),
    ("reasoning_effort", {"reasoning_effort": "high"}, "reasoning_effort"),
    ("service_tier", {"service_tier": "flex"}, "service_tier"),
    ("prediction", {"prediction": {"type": "content", "content": "x"}}, "prediction"),
    ("unknown fields", {"top_k": 5}, "top_k"),
]


def refusal_cases() -> list[JSON]:
    cases = [
        hub_only(
            f"hub_refuses_{param.replace(' ', '_')}",
            f"Anthropic cannot honour `{name}`: 400 naming it.",
            [param],
            {"messages": HELLO, **fields},
            {},
            {"status": 400, "param": name, "code": "unsupported_parameter"},
            model="claude",
        )
        for param, fields, name in REFUSED_BY_ANTHROPIC
    ]
    cases.append(
        hub_only(
            "hub_refuses_name",
            "Anthropic has no message names: 400 naming it.",
            ["messages[].name"],
            {"messages": [{"role": "user", "content": "Hi", "name": "al"}]},
            {},
            {"status": 400, "param": "messages[0].name", "code": "unsupported_parameter"},
            model="claude",
        )
    )
    cases.append(
        hub_only(
            "hub_refuses_image_detail",
            "Anthropic has no image detail levels: 400 naming it.",
            ["messages[].content[].image_url.detail"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "image_url",
                                "image_url": {
                                    "url": f"data:image/png;base64,{PNG}",
                                    "detail": "low",
                                },
                            }
                        ],
                    }
                ]
            },
            {},
            {
                "status": 400,
                "param": "messages[0].content[0].image_url.detail",
                "code": "unsupported_parameter",
            },
            model="claude",
        )
    )
    return cases


def hub_only_cases() -> list[JSON]:
    return [
        *refusal_cases(),
        hub_only(
            "hub_refuses_logprobs",
            "Anthropic cannot honour logprobs: 400 naming it.",
            ["logprobs"],
            {"messages": HELLO, "logprobs": True},
            {},
            {"status": 400, "param": "logprobs", "code": "unsupported_parameter"},
            model="claude",
        ),
        hub_only(
            "hub_refuses_n",
            "Anthropic cannot honour n=2: 400 naming it.",
            ["n"],
            {"messages": HELLO, "n": 2},
            {},
            {"status": 400, "param": "n", "code": "unsupported_parameter"},
            model="claude",
        ),
        hub_only(
            "hub_refuses_audio",
            "Anthropic cannot read audio parts: 400 naming the part.",
            ["messages[].content[].input_audio"],
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}}
                        ],
                    }
                ]
            },
            {},
            {"status": 400, "param": "messages[0].content[0]", "code": "unsupported_parameter"},
            model="claude",
        ),
        hub_only(
            "hub_malformed_choices",
            'choices: ["x"] is a malformed response: 502.',
            ["errors"],
            {"messages": HELLO},
            {"raw_frames": ['{"choices": ["x"]}']},
            {"status": 502, "code": "provider_malformed_response"},
        ),
        hub_only(
            "hub_malformed_delta",
            'delta: "text" is a malformed response: 502.',
            ["errors"],
            {"messages": HELLO},
            {"raw_frames": ['{"choices": [{"index": 0, "delta": "text"}]}']},
            {"status": 502, "code": "provider_malformed_response"},
        ),
        hub_only(
            "hub_malformed_usage",
            'prompt_tokens: "lots" is a malformed response: 502.',
            ["errors"],
            {"messages": HELLO},
            {"raw_frames": ['{"choices": [], "usage": {"prompt_tokens": "lots"}}']},
            {"status": 502, "code": "provider_malformed_response"},
        ),
    ]


AGENT_FILE = CASES_DIR.parent / "agent_loops.json"
AGENT_QUESTION = "What is the weather in Paris, and the time there?"


def agent_loops() -> JSON:
    """Two tool round trips, then the answer: what each upstream answers, turn by turn."""
    usage = openai_usage(30, 10)
    openai_turns = [
        Answer((Choice(calls=(weather_call("call_a1"),), finish="tool_calls"),), usage),
        Answer(
            (
                Choice(
                    calls=(Call("call_a2", "get_time", ('{"zone": "CET"}',)),), finish="tool_calls"
                ),
            ),
            usage,
        ),
        Answer((text("Sunny, ", "and it is noon."),), usage),
    ]
    anthropic_turns = [
        Message(
            (Block("tool_use", ('{"city": "Paris"}',), id="toolu_a1", name="get_weather"),),
            stop_reason="tool_use",
        ),
        Message(
            (Block("tool_use", ('{"zone": "CET"}',), id="toolu_a2", name="get_time"),),
            stop_reason="tool_use",
        ),
        Message((Block("text", ("Sunny, ", "and it is noon.")),)),
    ]
    return {
        "question": AGENT_QUESTION,
        "tools": [WEATHER_TOOL, TIME_TOOL],
        "answer": "Sunny, and it is noon.",
        "openai": [
            {"stream": openai_stream(a), "response": openai_response(a)} for a in openai_turns
        ],
        "anthropic": [{"events": anthropic_events(m)} for m in anthropic_turns],
    }


def all_cases() -> list[JSON]:
    return [*openai_cases(), *anthropic_cases(), *hub_only_cases()]


def render(case: JSON) -> str:
    return json.dumps(case, indent=1, ensure_ascii=False) + "\n"


def write() -> None:
    CASES_DIR.mkdir(exist_ok=True)
    for old in CASES_DIR.glob("*.json"):
        old.unlink()
    for case in all_cases():
        (CASES_DIR / f"{case['name']}.json").write_text(render(case))
    AGENT_FILE.write_text(render(agent_loops()))


if __name__ == "__main__":
    write()
