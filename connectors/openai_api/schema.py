"""The OpenAI chat-completions request body as one typed model: it validates what clients send
and it is the schema /openapi.json publishes (connectors/openai_api/openapi.py).

Types are strict (`true` is not 1, "5" is not 5). Fields the model has no name for are kept
(`extra="allow"`): they reach an OpenAI-compatible upstream unchanged, and a provider that
cannot honour them refuses them by name.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TOKENS = 2**31 - 1  # more is no real limit, and would overflow the ledger's counters
Number = Annotated[float, Field(strict=True)]


class _Open(BaseModel):
    """Strict types; unknown fields kept and passed on."""

    model_config = ConfigDict(strict=True, extra="allow")


class TextContent(_Open):
    type: Literal["text"]
    text: str


class ImageURL(_Open):
    url: str = Field(description="An https URL, or a base64 data URL (data:image/png;base64,...)")
    detail: Literal["auto", "low", "high"] | None = None


class ImageContent(_Open):
    type: Literal["image_url"]
    image_url: ImageURL


class InputAudio(_Open):
    data: str = Field(description="Base64-encoded audio")
    format: str = Field(description="wav or mp3")


class AudioContent(_Open):
    type: Literal["input_audio"]
    input_audio: InputAudio


class FileData(_Open):
    file_data: str | None = Field(
        default=None, description="A base64 data URL (data:application/pdf;base64,...)"
    )
    file_id: str | None = None
    filename: str | None = None


class FileContent(_Open):
    type: Literal["file"]
    file: FileData


class RefusalContent(_Open):
    type: Literal["refusal"]
    refusal: str


UserPart = Annotated[
    TextContent | ImageContent | AudioContent | FileContent, Field(discriminator="type")
]
AssistantPart = Annotated[TextContent | RefusalContent, Field(discriminator="type")]


class FunctionCall(_Open):
    name: str
    arguments: str = Field(description="JSON text, as the model wrote it")


class ToolCallParam(_Open):
    id: str
    type: Literal["function"]
    function: FunctionCall


class SystemMessage(_Open):
    role: Literal["system"]
    content: str | Annotated[list[TextContent], Field(min_length=1)]
    name: str | None = None


class DeveloperMessage(_Open):
    role: Literal["developer"]
    content: str | Annotated[list[TextContent], Field(min_length=1)]
    name: str | None = None


class UserMessage(_Open):
    role: Literal["user"]
    content: str | Annotated[list[UserPart], Field(min_length=1)]
    name: str | None = None


class AssistantMessage(_Open):
    role: Literal["assistant"]
    content: str | list[AssistantPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallParam] | None = None
    refusal: str | None = None


class ToolMessage(_Open):
    role: Literal["tool"]
    content: str | Annotated[list[TextContent], Field(min_length=1)]
    tool_call_id: str


ChatMessage = Annotated[
    SystemMessage | DeveloperMessage | UserMessage | AssistantMessage | ToolMessage,
    Field(discriminator="role"),
]


class FunctionDefinition(_Open):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    parameters: dict[str, Any] | None = Field(default=None, description="A JSON Schema")
    strict: bool | None = None


class FunctionTool(_Open):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(_Open):
    name: str


class NamedToolChoice(_Open):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaFormat(_Open):
    name: str = Field(min_length=1, max_length=64)
    description: str | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class TextFormat(_Open):
    type: Literal["text"]


class JsonObjectFormat(_Open):
    type: Literal["json_object"]


class JsonSchemaResponseFormat(_Open):
    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat


ResponseFormat = Annotated[
    TextFormat | JsonObjectFormat | JsonSchemaResponseFormat, Field(discriminator="type")
]


class StreamOptions(_Open):
    include_usage: bool | None = None


class ChatCompletionRequest(_Open):
    """POST /v1/chat/completions. Every field but `model`, `stream`, `stream_options` and the
    token limits reaches an OpenAI-compatible upstream as it was sent."""

    model: str = Field(min_length=1, description="A model alias (/v1/models)")
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS)] | None = None
    max_completion_tokens: Annotated[int, Field(ge=1, le=MAX_TOKENS)] | None = None
    temperature: Annotated[Number, Field(ge=0, le=2)] | None = None
    top_p: Annotated[Number, Field(ge=0, le=1)] | None = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    tools: list[FunctionTool] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    n: Annotated[int, Field(ge=1, le=128)] | None = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int, Field(ge=0, le=20)] | None = None
    seed: Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | None = None
    frequency_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    presence_penalty: Annotated[Number, Field(ge=-2, le=2)] | None = None
    logit_bias: dict[str, Annotated[Number, Field(ge=-100, le=100)]] | None = None
    metadata: dict[str, str] | None = None
    store: bool | None = None
    reasoning_effort: str | None = None
    service_tier: str | None = None
    user: str | None = Field(default=None, description="Your end user, for usage reports")
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    modalities: list[str] | None = None
    audio: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    verbosity: str | None = None


class EmbeddingsRequest(_Open):
    """POST /v1/embeddings. Every field but `model` reaches the upstream as it was sent."""

    model: str = Field(min_length=1, description="A model alias (/v1/models)")
    input: (
        str
        | Annotated[list[str], Field(min_length=1)]
        | Annotated[list[int], Field(min_length=1)]
        | Annotated[list[list[int]], Field(min_length=1)]
    )
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: Annotated[int, Field(ge=1, le=65536)] | None = None
    user: str | None = None
