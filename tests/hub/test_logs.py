"""hub/logs.py: the JSON lines, and the chat line written without a LogRecord when the hub's
handler alone writes it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest

from hub.logs import JsonLines, configure_logging, request_id_var, sole_writer
from hub.model import Caller, ChatRequest, Message, Origin
from tests.fakes.openai_server import FakeOpenAI, reply
from tests.support.hubs import RunningHub, one_model_hub
from tests.support.logs import capture_logs


@pytest.fixture
async def running(fake_openai: FakeOpenAI, sqlite_url: str) -> AsyncIterator[RunningHub]:
    async with one_model_hub(fake_openai.base_url, sqlite_url) as hub:
        yield hub


@pytest.fixture
def hub_logging() -> Iterator[io.StringIO]:
    """`configure_logging`'s handler alone on the root logger, writing to a buffer (pytest's
    own capturing handlers taken off meanwhile); the root logger restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO")
    out = io.StringIO()
    (handler,) = root.handlers
    assert isinstance(handler, JsonLines)
    handler.setStream(out)
    try:
        yield out
    finally:
        root.handlers[:], root.level = handlers, level


@contextmanager
def alone() -> Iterator[JsonLines]:
    """The root's handlers without pytest's (it adds its own for each test phase): the hub's
    JSON lines, and the error reporter's of any hub started since `configure_logging`."""
    root = logging.getLogger()
    handlers = root.handlers[:]
    (hub_handler,) = [h for h in handlers if isinstance(h, JsonLines)]
    root.handlers[:] = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
    try:
        yield hub_handler
    finally:
        root.handlers[:] = handlers


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    """Every LogRecord made meanwhile (logging's public record factory hook)."""
    made: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        made.append(record)
        return record

    logging.setLogRecordFactory(counting)
    try:
        yield made
    finally:
        logging.setLogRecordFactory(factory)


def _request(running: RunningHub) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=running.team.id, team_name=running.team.name),
        origin=Origin(connector="test", user="u1"),
        messages=(Message.text("user", "hi"),),
    )


async def test_the_chat_line_is_written_without_a_log_record_by_the_hubs_handler(
    running: RunningHub,
    fake_openai: FakeOpenAI,
    hub_logging: io.StringIO,
    records: list[logging.LogRecord],
) -> None:
    fake_openai.script(reply("a b c", prompt_tokens=10, completion_tokens=3))
    with alone():
        async with running.hub.chat(_request(running)) as stream:
            assert "".join([chunk.text async for chunk in stream]) == "a b c"
        await asyncio.sleep(0)  # the log line runs on the loop's next iteration
    lines = [json.loads(line) for line in hub_logging.getvalue().splitlines()]
    chats = [line for line in lines if line.get("event") == "chat"]
    assert len(chats) == 1
    assert chats[0]["logger"] == "hub.chat"
    assert chats[0]["msg"] == "chat ok"
    assert chats[0]["chat_id"] == stream.result.request_id
    assert chats[0]["completion_tokens"] == 3
    assert [r for r in records if r.name == "hub.chat"] == []


async def test_the_direct_line_is_written_beside_the_error_reporter_as_in_hub_serve(
    fake_openai: FakeOpenAI,
    sqlite_url: str,
    hub_logging: io.StringIO,
    records: list[logging.LogRecord],
) -> None:
    """`hub serve` configures logging, then starts the hub, whose error reporter adds its
    handler (ERROR) to the root: that handler never sees an INFO line, so the chat line is
    still written without a LogRecord."""
    fake_openai.script(reply("a b c", prompt_tokens=10, completion_tokens=3))
    async with one_model_hub(fake_openai.base_url, sqlite_url) as running:
        with alone():
            assert len(logging.getLogger().handlers) == 2  # JSON lines, errors (ERROR)
            async with running.hub.chat(_request(running)) as stream:
                assert "".join([chunk.text async for chunk in stream]) == "a b c"
            await asyncio.sleep(0)  # the log line runs on the loop's next iteration
    assert f'"chat_id":"{stream.result.request_id}"' in hub_logging.getvalue()
    assert [r for r in records if r.name == "hub.chat"] == []


async def test_another_handler_gets_the_chat_line_as_a_record(
    running: RunningHub, fake_openai: FakeOpenAI, hub_logging: io.StringIO
) -> None:
    fake_openai.script(reply("a b c", prompt_tokens=10, completion_tokens=3))
    with capture_logs() as captured:
        async with running.hub.chat(_request(running)) as stream:
            assert "".join([chunk.text async for chunk in stream]) == "a b c"
        await captured.wait_for_chats(1)
    assert captured.chats()[0]["chat_id"] == stream.result.request_id
    # The hub's handler wrote it too, from the same record.
    assert f'"chat_id":"{stream.result.request_id}"' in hub_logging.getvalue()


def test_the_direct_line_is_the_line_the_formatter_writes_for_its_record(
    hub_logging: io.StringIO,
) -> None:
    logger = logging.getLogger("hub.chat")
    with alone():
        handler = sole_writer(logger, logging.INFO)
    assert handler is not None
    fields = {"event": "chat", "team": "t", "key_id": 7, "user": None, "cost_micros": 12}
    record = logger.makeRecord(
        logger.name, logging.INFO, "f", 1, "chat %s", ("ok",), None, extra={"fields": fields}
    )
    token = request_id_var.set("req-1")
    try:
        direct = handler.json.line(
            created=record.created, level="info", logger="hub.chat", msg="chat ok", fields=fields
        )
        assert direct == handler.format(record)
    finally:
        request_id_var.reset(token)


def test_a_filter_or_a_level_above_sends_the_line_through_logging(
    hub_logging: io.StringIO,
) -> None:
    logger = logging.getLogger("hub.chat")
    assert sole_writer(logger, logging.INFO) is None  # pytest's capturing handlers too
    with alone() as handler:
        assert sole_writer(logger, logging.INFO) is handler
        handler.setLevel(logging.WARNING)
        assert sole_writer(logger, logging.INFO) is None
        handler.setLevel(logging.NOTSET)
        quiet = logging.Filter("elsewhere")
        logger.addFilter(quiet)
        try:
            assert sole_writer(logger, logging.INFO) is None
        finally:
            logger.removeFilter(quiet)
        assert sole_writer(logger, logging.INFO) is handler
        assert sole_writer(logger, logging.DEBUG) is None  # not enabled at INFO
