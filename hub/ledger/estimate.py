"""An upper bound on a request's prompt tokens, for reserving the worst case.

No byte-level BPE tokenizer (OpenAI's, Anthropic's, Llama's) produces more tokens than the
text has UTF-8 bytes, so every text the request carries is counted as its UTF-8 bytes: the
messages' text, names, tool calls and results, the tools' names, descriptions and JSON
schemas, a response_format schema. To that come a fixed overhead per message (role and
separators), per tool and for any tools at all (Anthropic's tool-use system prompt is
documented at up to 346 tokens), images by the providers' published formulas
(`image_tokens.py`), documents by their pages and audio by its length. The provider's own
count is what settles; this only decides how much is held.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from hub.ledger.image_tokens import image_tokens
from hub.model import AudioPart, ChatRequest, FilePart, ImagePart, Message, TextPart

REPLY_PRIMING_TOKENS = 3  # the assistant turn the prompt ends with
PER_MESSAGE_TOKENS = 8  # role and separators (OpenAI documents 3 to 4; Llama-style 5 to 6)
TOOLS_OVERHEAD_TOKENS = 512  # the tools' wrapper, or Anthropic's tool-use system prompt
PER_TOOL_TOKENS = 16
# Documents: each page is sent as its text and an image of the page (Anthropic's PDF support
# documents 1,500 to 3,000 text tokens a page; the image is bounded like any image). A
# document whose pages cannot be counted (a file id, unreadable data) counts as the largest
# the providers accept (100 pages).
PDF_PAGE_TOKENS = 3_000 + 1_600
MAX_PDF_PAGES = 100
AUDIO_BYTES_PER_TOKEN = 32  # OpenAI counts 10 audio tokens a second; mp3 is >= 1,000 B/s


def text_tokens(text: str) -> int:
    """UTF-8 bytes: an upper bound on any byte-level BPE's count (lone surrogates, which no
    API accepts, are counted as the 3 bytes they would take)."""
    return len(text.encode("utf-8", "surrogatepass"))


def json_tokens(value: Any) -> int:
    return text_tokens(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


# What an image takes of a context window (Anthropic's largest; OpenAI's tiles stay below):
# what chat connectors use to trim history. Some models bill an image as many more tokens
# than it occupies (gpt-4o-mini), which only the reservation needs to know.
CONTEXT_IMAGE_TOKENS = 1_600


def context_tokens(messages: Sequence[Message]) -> int:
    """The messages' size in a context window, for trimming history (not for money)."""
    return estimate_prompt_tokens(messages, provider_type="context")


def estimate_prompt_tokens(
    messages: Sequence[Message], *, provider_type: str | None = None, model: str = ""
) -> int:
    """The messages' bound (for a provider kind and model when known: images differ)."""
    total = REPLY_PRIMING_TOKENS
    for message in messages:
        total += PER_MESSAGE_TOKENS + text_tokens(message.role)
        total += text_tokens(message.name or "") + text_tokens(message.tool_call_id or "")
        total += text_tokens(message.refusal or "")
        for call in message.tool_calls:
            total += PER_TOOL_TOKENS + text_tokens(call.id) + text_tokens(call.name)
            total += text_tokens(call.arguments)
        for part in message.content:
            total += _part_tokens(part, provider_type=provider_type, model=model)
    return total


def prompt_bound(request: ChatRequest, *, provider_type: str | None, model: str) -> int:
    """The whole request's bound: messages, tools, tool_choice and response_format."""
    total = estimate_prompt_tokens(request.messages, provider_type=provider_type, model=model)
    if request.tools or request.response_format is not None:
        total += TOOLS_OVERHEAD_TOKENS
    for tool in request.tools:
        total += PER_TOOL_TOKENS + text_tokens(tool.name) + text_tokens(tool.description or "")
        total += json_tokens(tool.parameters) if tool.parameters is not None else 0
    choice = request.tool_choice
    if choice is not None:
        total += PER_TOOL_TOKENS + text_tokens(choice if isinstance(choice, str) else choice.name)
    form = request.response_format
    if form is not None:
        total += text_tokens(form.name or "") + text_tokens(form.description or "")
        total += json_tokens(form.schema) if form.schema is not None else 0
    return total + _extra_text(request.params.extra)


def _extra_text(extra: Mapping[str, Any]) -> int:
    """Fields the hub has no name for still reach an OpenAI-compatible upstream, and may be
    prompt (a server's own `documents`, `chat_template_kwargs`): count their JSON."""
    return sum(json_tokens(value) for value in extra.values()) if extra else 0


def _part_tokens(part: object, *, provider_type: str | None, model: str) -> int:
    if isinstance(part, TextPart):
        return text_tokens(part.text)
    if isinstance(part, ImagePart):
        if provider_type == "context":
            return CONTEXT_IMAGE_TOKENS
        return image_tokens(part, provider_type=provider_type, model=model)
    if isinstance(part, FilePart):
        return file_tokens(part)
    if isinstance(part, AudioPart):
        return math.ceil(len(part.data) / AUDIO_BYTES_PER_TOKEN) + PER_MESSAGE_TOKENS
    return 0


def file_tokens(part: FilePart) -> int:
    name = text_tokens(part.filename or "")
    if part.data is None:
        return name + MAX_PDF_PAGES * PDF_PAGE_TOKENS  # a file id: its size is unknown
    if part.media_type is not None and not part.media_type.endswith("pdf"):
        return name + len(part.data)  # a text document: its bytes
    return name + min(_pdf_pages(part.data), MAX_PDF_PAGES) * PDF_PAGE_TOKENS


def _pdf_pages(data: bytes) -> int:
    from pypdf import PdfReader  # imported on use: few requests carry documents
    from pypdf.errors import PyPdfError

    try:
        return max(1, len(PdfReader(io.BytesIO(data)).pages))
    except (PyPdfError, ValueError, OSError, KeyError, TypeError):
        return MAX_PDF_PAGES
