"""The normalized shapes every connector speaks: a request in, chunks and a result out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image either inline (`data`, raw bytes) or by `url` the provider can fetch."""

    media_type: str
    data: bytes | None = None
    url: str | None = None


ContentPart = TextPart | ImagePart


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...]

    @classmethod
    def text(cls, role: Role, text: str) -> Message:
        return cls(role=role, content=(TextPart(text),))

    @property
    def plain_text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def has_images(self) -> bool:
        return any(isinstance(p, ImagePart) for p in self.content)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who pays: the hub team, and the key or member acting for it."""

    team_id: int
    team_name: str
    key_id: int | None = None
    member_id: int | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, for accounting and for answering in the right place."""

    connector: str
    user: str | None = None
    channel: str | None = None
    thread: str | None = None
    workspace: str | None = None
    external_id: str | None = None
    # The conversation this request belongs to (a Slack thread, a Discord channel), for
    # traces (`gen_ai.conversation.id`); None where requests stand alone.
    conversation: str | None = None


@dataclass(frozen=True, slots=True)
class ChatOptions:
    stream: bool = True
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    caller: Caller
    origin: Origin
    messages: tuple[Message, ...]
    model: str | None = None  # alias; None means the hub's default alias
    options: ChatOptions = field(default_factory=ChatOptions)
    metadata: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False  # the client sent Cache-Control: no-cache (hub/cache)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported them.

    `prompt_tokens` is all input, cached and cache-write tokens included (OpenAI's convention;
    Anthropic's input + cache read + cache creation); `completion_tokens` includes reasoning.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ChatChunk:
    """A text delta, and/or the usage so far (providers may report it on the last chunk)."""

    text: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None


class Status(StrEnum):
    OK = "ok"
    ERROR = "error"
    CANCELLED = "cancelled"
    PARTIAL = "partial"  # text reached the caller, then the stream broke
    INTERRUPTED = "interrupted"  # the process serving it died; settled from its last checkpoint
    CACHED = "cached"  # answered from the response cache, no provider call


@dataclass(slots=True)
class ChatResult:
    """What a finished request amounted to; filled in as the stream runs, final on exit."""

    request_id: str
    alias: str
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    cost_micros: int = 0
    status: Status = Status.OK
    deployment: str | None = None
    finish_reason: str | None = None
    error: BaseException | None = None
    latency_ms: int = 0
    ttft_ms: int | None = None
    attempts: int = 0
    usage_id: int | None = None
    # Smart routing (#18): the response cache's verdict (X-UniLLM-Cache; None: no cache for
    # the alias), what a hit saved, and how routing chose (hub/routing/selection.py).
    cache: str | None = None
    saved_micros: int = 0
    requested_alias: str | None = None
    routed_by: str | None = None
    counterfactual_micros: int | None = None
    experiment_id: int | None = None
    variant: str | None = None
    notice: str | None = None  # one sentence for the asker (a budget downgrade, once)
    show_model: bool = False  # chat connectors name `deployment` in the answer's footer
