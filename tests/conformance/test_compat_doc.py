"""docs/compatibility.md is what the conformance cases say."""

from __future__ import annotations

from tests.conformance.compat_doc import DOC, render


def test_compatibility_page_is_current() -> None:
    assert DOC.read_text() == render(), "run: python -m tests.conformance.compat_doc"
