"""The normalized shapes every connector speaks: a request in, chunks and a result out.

Chat connectors (Slack, Discord, webhooks, Zapier) build text requests with `Message.text`
and read `chunk.text`; the OpenAI-compatible API fills in the rest: tool calls and results,
file and audio parts, tools, tool_choice, response_format and the other parameters. What
the client sent as OpenAI JSON also travels as `ChatRequest.openai_body`, so an
OpenAI-compatible upstream receives it unchanged, and an OpenAI-compatible upstream's chunk
travels as `ChatChunk.wire`, so the client receives it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]
ImageDetail = Literal["auto", "low", "high"]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image either inline (`data`, raw bytes) or by `url` the provider can fetch."""

    media_type: str
    data: bytes | None = None
    url: str | None = None
    detail: ImageDetail | None = None


@dataclass(frozen=True, slots=True)
class FilePart:
    """A document: inline (`data`, e.g. a PDF) or an id in the provider's file store."""

    media_type: str | None = None
    data: bytes | None = None
    file_id: str | None = None
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class AudioPart:
    data: bytes
    format: str  # "wav", "mp3"


ContentPart = TextPart | ImagePart | FilePart | AudioPart


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the model asked for; `arguments` is JSON text, as the model wrote it."""

    id: str
    name: str
    arguments: str = ""
    type: str = "function"


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: tuple[ContentPart, ...]
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()  # assistant messages
    tool_call_id: str | None = None  # tool messages: the call this answers
    refusal: str | None = None  # assistant messages in history

    @classmethod
    def text(cls, role: Role, text: str) -> Message:
        return cls(role=role, content=(TextPart(text),))

    @property
    def plain_text(self) -> str:
        """The text parts, joined by newlines (never glued: "Hello" + "world")."""
        return "\n".join(p.text for p in self.content if isinstance(p, TextPart) and p.text)

    @property
    def has_images(self) -> bool:
        return any(isinstance(p, ImagePart) for p in self.content)


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call; `parameters` is its JSON Schema."""

    name: str
    description: str | None = None
    parameters: Mapping[str, Any] | None = None
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class NamedToolChoice:
    name: str


ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None  # json_schema only
    schema: Mapping[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


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
class ChatParams:
    """The remaining OpenAI parameters, typed; None means "not sent". `extra` holds fields
    the hub has no name for, as the client sent them."""

    n: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    seed: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    logit_bias: Mapping[str, float] | None = None
    metadata: Mapping[str, str] | None = None
    store: bool | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    parallel_tool_calls: bool | None = None
    modalities: tuple[str, ...] | None = None
    audio: Mapping[str, Any] | None = None
    prediction: Mapping[str, Any] | None = None
    web_search_options: Mapping[str, Any] | None = None
    verbosity: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def choices(self) -> int:
        return self.n or 1


# The parameters of a request that sent none, shared (frozen, its `extra` never mutated): the
# cache key's canonical form of it is built once (hub/cache/key.py), not per request.
NO_PARAMS = ChatParams()


@dataclass(frozen=True, slots=True)
class ChatRequest:
    caller: Caller
    origin: Origin
    messages: tuple[Message, ...]
    model: str | None = None  # alias; None means the hub's default alias
    options: ChatOptions = field(default_factory=ChatOptions)
    metadata: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False  # the client sent Cache-Control: no-cache (hub/cache)
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    response_format: ResponseFormat | None = None
    params: ChatParams = NO_PARAMS
    # The client's OpenAI body as received (OpenAI-compatible API only): an OpenAI-compatible
    # upstream gets exactly this, with only model, stream, stream_options and the token cap set.
    openai_body: Mapping[str, Any] | None = None
    # Set by the router when the alias allows it: providers leave out what they cannot honour.
    drop_unsupported: bool = False


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


# No usage (yet): shared, as frozen values can be, by every result that starts from it (a
# frozen dataclass sets each field through object.__setattr__: six calls per one built).
NO_USAGE = Usage()


@dataclass(slots=True)  # not frozen: see ChatChunk
class ToolCallDelta:
    """A piece of a streamed tool call: `index` says which call, the rest arrives in parts."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(slots=True)  # not frozen: see ChatChunk
class ChoiceDelta:
    """What one choice (`index`, several when n > 1) gained in one chunk."""

    index: int = 0
    text: str = ""
    role: str | None = None
    refusal: str = ""
    tool_calls: tuple[ToolCallDelta, ...] = ()
    logprobs: Mapping[str, Any] | None = None  # OpenAI's `choices[].logprobs` shape
    finish_reason: str | None = None

    @property
    def has_content(self) -> bool:
        return bool(
            self.text
            or self.refusal
            or self.tool_calls
            or self.logprobs
            or self.finish_reason is not None
        )


@dataclass(slots=True)
class ChatChunk:
    """One upstream event: per-choice deltas, and/or the usage (often on the last chunk).

    `wire` is the upstream's OpenAI chunk as received, when the upstream speaks OpenAI; the
    OpenAI-compatible API forwards it as it is, other connectors read `text`.

    Chunks and their deltas are built for every upstream event, so they are plain slotted
    dataclasses: a frozen one sets each field through `object.__setattr__`, three times the
    cost of building it (3.1 against 1.0 µs for a ChoiceDelta). Nothing changes a chunk once
    built; `dataclasses.replace` makes the variants (`but_more_follow`).
    """

    choices: tuple[ChoiceDelta, ...] = ()
    usage: Usage | None = None
    wire: Mapping[str, Any] | None = None
    # The upstream's own id and model name for its response, on the chunk that first names
    # them, for translated protocols (OpenAI upstreams have them in `wire`).
    response_id: str | None = None
    response_model: str | None = None
    # The provider already holds the next chunk or the end of the stream (they came in one
    # network read): a connector may write this one together with what follows instead of
    # on its own.
    more: bool = field(default=False, compare=False)

    def but_more_follow(self) -> ChatChunk:
        return replace(self, more=True)

    @property
    def response_names(self) -> tuple[str | None, str | None]:
        """(upstream response id, upstream model): gen_ai.response.id and .model."""
        if self.response_id or self.response_model or self.wire is None:
            return self.response_id, self.response_model
        rid, model = self.wire.get("id"), self.wire.get("model")
        return (str(rid) if rid else None), (str(model) if model else None)

    @classmethod
    def delta(
        cls, text: str = "", *, finish_reason: str | None = None, usage: Usage | None = None
    ) -> ChatChunk:
        """A chunk for choice 0: text and/or a finish reason, and/or usage."""
        if not text and finish_reason is None:
            return cls(usage=usage)
        return cls(choices=(ChoiceDelta(text=text, finish_reason=finish_reason),), usage=usage)

    @property
    def text(self) -> str:
        """Choice 0's text delta: what chat connectors show."""
        choices = self.choices
        if len(choices) == 1:  # nearly every chunk: read several times each, on the hot path
            return choices[0].text if choices[0].index == 0 else ""
        return "".join(c.text for c in choices if c.index == 0)

    @property
    def finish_reason(self) -> str | None:
        choices = self.choices
        if len(choices) == 1:  # read twice per chunk (router, ChatStream): no generator
            return choices[0].finish_reason if choices[0].index == 0 else None
        return next((c.finish_reason for c in choices if c.index == 0 and c.finish_reason), None)

    @property
    def has_content(self) -> bool:
        """Worth passing on: anything beyond a bare role announcement."""
        if self.usage is not None:
            return True
        choices = self.choices
        if len(choices) == 1:  # no generator for the one choice nearly every chunk has
            return choices[0].has_content
        return any(c.has_content for c in choices)


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
    usage: Usage = NO_USAGE
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
    # Characters of tool-call arguments and refusals seen (choice 0 and others): output that is
    # not `text` but was generated, and counts when the provider never reports usage.
    other_output_chars: int = 0

    @property
    def has_output(self) -> bool:
        return bool(self.text) or self.other_output_chars > 0
