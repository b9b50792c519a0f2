"""The prompt bound never undercounts: UTF-8 bytes for text, the providers' published image
formulas, the worst case for what cannot be measured."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from hub.ledger.estimate import MAX_PDF_PAGES, PDF_PAGE_TOKENS, estimate_prompt_tokens, prompt_bound
from hub.ledger.image_tokens import image_tokens
from hub.model import (
    Caller,
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    Origin,
    ResponseFormat,
    TextPart,
    Tool,
)

OVERHEAD = 3 + 8 + len("user")  # reply priming, per message, the role


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


def request(*parts: object, **fields: object) -> ChatRequest:
    return ChatRequest(
        caller=Caller(team_id=1, team_name="t"),
        origin=Origin(connector="test"),
        messages=(Message("user", tuple(parts)),),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("text", "utf8_bytes"), [("hello", 5), ("量子计算", 12), ("😀🎉", 8), ("", 0)]
)
def test_text_counts_its_utf8_bytes(text: str, utf8_bytes: int) -> None:
    assert estimate_prompt_tokens([Message.text("user", text)]) == OVERHEAD + utf8_bytes


def test_tools_and_schemas_count_with_their_overhead() -> None:
    tool = Tool(name="f", description="d", parameters={"type": "object"})
    form = ResponseFormat(type="json_schema", name="n", schema={"a": 1})
    bound = prompt_bound(
        request(TextPart("x"), tools=(tool,), response_format=form),
        provider_type="openai",
        model="",
    )
    tool_json = len('{"type":"object"}')
    # 512 for any tools, 16 per tool, name + description + schema; the format's name + schema
    assert bound == OVERHEAD + 1 + 512 + 16 + 1 + 1 + tool_json + 1 + len('{"a":1}')


@pytest.mark.parametrize(
    ("provider", "model", "size", "detail", "tokens"),
    [
        # OpenAI tiles: 2048 x 4096 -> 1024 x 2048 -> 768 x 1536: 6 tiles
        ("openai", "gpt-4o", (2048, 4096), None, 85 + 6 * 170),
        ("openai", "gpt-4o-2024-08-06", (1024, 1024), "high", 85 + 4 * 170),
        ("openai", "gpt-4o", (1024, 1024), "low", 85),
        ("openai", "gpt-4o-mini", (2048, 2048), None, 2833 + 4 * 5667),
        ("openai", "openai/gpt-4o-mini", (2048, 2048), None, 2833 + 4 * 5667),
        # patches: 1024 x 1024 is 32 x 32 = 1024 patches, times 1.62
        ("openai", "gpt-4.1-mini", (1024, 1024), None, 1659),
        ("openai", "gpt-4.1-mini", (4000, 4000), None, 2489),  # at most 1,536 patches
        ("openai", "some-local-llava", None, None, 2833 + 8 * 5667),  # unknown: the dearest
        ("anthropic", "claude-sonnet-4", (1000, 750), None, 1000),
        ("anthropic", "claude-sonnet-4", (4000, 4000), None, 1600),
        ("anthropic", "claude-sonnet-4", None, None, 1600),
    ],
)
def test_images_by_the_providers_formulas(
    provider: str, model: str, size: tuple[int, int] | None, detail: str | None, tokens: int
) -> None:
    part = (
        ImagePart("image/png", url="https://example.com/x.png", detail=detail)  # type: ignore[arg-type]
        if size is None
        else ImagePart("image/png", data=png(*size), detail=detail)  # type: ignore[arg-type]
    )
    assert image_tokens(part, provider_type=provider, model=model) == tokens


def test_an_unreadable_image_costs_the_worst_case() -> None:
    part = ImagePart("image/png", data=b"not an image")
    assert image_tokens(part, provider_type="openai", model="gpt-4o") == 85 + 8 * 170


def test_a_document_by_file_id_costs_the_most_pages_a_provider_takes() -> None:
    bound = estimate_prompt_tokens([Message("user", (FilePart(file_id="file-1"),))])
    assert bound == OVERHEAD + MAX_PDF_PAGES * PDF_PAGE_TOKENS


def test_an_inline_pdf_costs_its_pages() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    part = FilePart(media_type="application/pdf", data=buffer.getvalue(), filename="a.pdf")
    bound = estimate_prompt_tokens([Message("user", (part,))])
    assert bound == OVERHEAD + len("a.pdf") + 3 * PDF_PAGE_TOKENS
