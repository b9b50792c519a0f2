"""Files on a question: images as image parts, text and PDFs as text, with clear limits."""

from __future__ import annotations

import base64

from tests.connectors.slack.conftest import HarnessFactory
from tests.connectors.slack.harness import CHANNEL, SlackHarness
from tests.fakes.openai_server import reply

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF whose page shows `text`, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


async def ask_with(h: SlackHarness, text: str, files: list[dict[str, object]]) -> None:
    await h.mention(text, files=files)
    await h.connector.drain()


async def thread_texts(h: SlackHarness) -> list[str]:
    return [m.text for m in h.slack.bot_messages(CHANNEL)]


async def test_image_reaches_the_provider_as_an_image_part(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        await h.running.hub.channels.set("slack", CHANNEL, "vision")
        h.llm.script(reply("A single pixel."))
        await ask_with(h, "what is this?", [h.slack.add_file("pixel.png", PNG, "image/png")])
        content = h.llm.requests[-1].json["messages"][-1]["content"]
        assert content == [
            {"type": "text", "text": "what is this?"},
            {
                "type": "image_url",
                "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG).decode()},
            },
        ]
        assert h.llm.requests[-1].json["model"] == "gpt-4o"
        assert await thread_texts(h) == ["A single pixel."]


async def test_image_for_a_model_without_vision_is_refused_clearly(
    slack_hub: HarnessFactory,
) -> None:
    async with slack_hub() as h:
        await ask_with(h, "what is this?", [h.slack.add_file("pixel.png", PNG, "image/png")])
        assert h.llm.requests == []
        assert await thread_texts(h) == [
            "Model 'default' cannot read images; ask again with `--model` and a vision-capable "
            "model, or without the image."
        ]


async def test_text_file_and_pdf_are_sent_as_text(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        h.llm.script(reply("Read them."))
        files = [
            h.slack.add_file("notes.txt", b"remember the milk", "text/plain", "text"),
            h.slack.add_file("report.pdf", tiny_pdf("Quarterly results are up"), "application/pdf"),
        ]
        await ask_with(h, "summarize", files)
        content = h.llm.requests[-1].json["messages"][-1]["content"]
        assert content == (
            "summarize\n\n"
            "[Attached file: notes.txt]\nremember the milk\n\n"
            "[Attached file: report.pdf]\nQuarterly results are up"
        )


async def test_oversized_and_unknown_files_get_a_clear_message(slack_hub: HarnessFactory) -> None:
    async with slack_hub() as h:
        big = h.slack.add_file("big.txt", b"x", "text/plain", "text")
        big["size"] = 600 * 1024
        await ask_with(h, "read this", [big])
        binary = h.slack.add_file("tool.exe", b"MZ", "application/octet-stream", "binary")
        await ask_with(h, "and this", [binary])
        assert h.llm.requests == []
        assert await thread_texts(h) == [
            "'big.txt' is larger than the 0.5 MB limit for text files.",
            "I can't read 'tool.exe'; attach images (PNG, JPEG, GIF, WebP), text files or PDFs.",
        ]
