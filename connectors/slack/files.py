"""Files attached to a question: images become image parts, text files and PDFs become text.

Files are fetched from Slack with the bot token, which is only ever sent to Slack's own hosts
(or the configured Slack-compatible API host), never to a URL someone pasted.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from hub.model import ContentPart, ImagePart, TextPart

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_FILETYPES = frozenset(
    {"text", "markdown", "csv", "json", "python", "javascript", "yaml", "xml", "html", "sql"}
)
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_TEXT_BYTES = 512 * 1024
MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_FILE_CHARS = 60_000
MAX_FILES = 5


class FileProblem(Exception):
    """A file the hub will not send; `user_message` says why and what to do."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def _kind(file: Mapping[str, Any]) -> str:
    mimetype = str(file.get("mimetype", "")).lower()
    if mimetype in IMAGE_TYPES:
        return "image"
    if mimetype == "application/pdf" or file.get("filetype") == "pdf":
        return "pdf"
    if mimetype.startswith("text/") or file.get("filetype") in TEXT_FILETYPES:
        return "text"
    return "other"


def _limit(kind: str) -> int:
    return {"image": MAX_IMAGE_BYTES, "pdf": MAX_PDF_BYTES}.get(kind, MAX_TEXT_BYTES)


def _pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n\n".join((page.extract_text() or "").strip() for page in reader.pages).strip()


class FileReader:
    def __init__(
        self, http: httpx.AsyncClient, *, token: str, trusted_hosts: Sequence[str]
    ) -> None:
        self._http = http
        self._token = token
        self._trusted = tuple(h.lower() for h in trusted_hosts)

    def _trusted_url(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.port:
            host = f"{host}:{parts.port}"
        return any(host == t or host.endswith("." + t) for t in self._trusted)

    async def parts(
        self, files: Sequence[Mapping[str, Any]], *, alias: str, vision: bool
    ) -> list[ContentPart]:
        if len(files) > MAX_FILES:
            raise FileProblem(f"Attach at most {MAX_FILES} files to one question.")
        return [await self._part(file, alias=alias, vision=vision) for file in files]

    async def _part(self, file: Mapping[str, Any], *, alias: str, vision: bool) -> ContentPart:
        name = str(file.get("name") or file.get("title") or "file")
        kind = _kind(file)
        if kind == "other":
            raise FileProblem(
                f"I can't read '{name}'; attach images (PNG, JPEG, GIF, WebP), text files or PDFs."
            )
        if kind == "image" and not vision:
            raise FileProblem(
                f"Model '{alias}' cannot read images; ask again with `--model` and a "
                "vision-capable model, or without the image."
            )
        limit = _limit(kind)
        if int(file.get("size") or 0) > limit:
            raise FileProblem(f"'{name}' is larger than the {_mb(limit)} limit for {kind} files.")
        data = await self._download(file, name=name, limit=limit, kind=kind)
        if kind == "image":
            return ImagePart(media_type=str(file["mimetype"]).lower(), data=data)
        if kind == "pdf":
            try:
                text = await asyncio.to_thread(_pdf_text, data)
            except (PdfReadError, ValueError) as exc:
                raise FileProblem(f"I couldn't read the PDF '{name}'.") from exc
            if not text:
                raise FileProblem(f"The PDF '{name}' has no text I can read (scanned pages?).")
        else:
            text = data.decode("utf-8", errors="replace")
        if len(text) > MAX_FILE_CHARS:
            raise FileProblem(
                f"'{name}' has more than {MAX_FILE_CHARS:,} characters of text; "
                "attach a shorter file."
            )
        return TextPart(f"[Attached file: {name}]\n{text}")

    async def _download(
        self, file: Mapping[str, Any], *, name: str, limit: int, kind: str
    ) -> bytes:
        url = str(file.get("url_private_download") or file.get("url_private") or "")
        if not url or not self._trusted_url(url):
            raise FileProblem(f"I can't fetch '{name}' from Slack.")
        headers = {"Authorization": f"Bearer {self._token}"}
        async with self._http.stream("GET", url, headers=headers, follow_redirects=True) as resp:
            html = resp.headers.get("content-type", "").startswith("text/html")
            if resp.status_code != 200 or (html and kind != "text"):
                # Slack answers a login page, not the file, when the token lacks files:read.
                raise FileProblem(f"Slack would not give me '{name}'; is files:read granted?")
            data = bytearray()
            async for chunk in resp.aiter_bytes():
                data.extend(chunk)
                if len(data) > limit:
                    raise FileProblem(f"'{name}' is larger than the {_mb(limit)} limit.")
        return bytes(data)
