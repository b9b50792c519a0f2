"""docs/compatibility.md, written from the conformance cases: provider × parameter × stream
mode, each cell naming the cases that prove it. `python -m tests.conformance.compat_doc`
rewrites it; tests/conformance/test_compat_doc.py fails when it is stale."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.conformance.cases import all_cases

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
MODES = ("plain", "stream")
HEADER = """# Compatibility of the OpenAI-compatible API

Generated from the conformance suite (`tests/conformance/`, `python -m
tests.conformance.compat_doc`); a test fails when this page is stale. Every case runs plain
and streamed, through openai-python (`tests/conformance/test_openai_python.py`), openai-node
and the Vercel AI SDK (`tests/conformance/node/`), each compared with the same case run
straight at the fake upstream.

- **passed through**: an OpenAI-compatible upstream receives the field as the client sent it,
  and the client receives the upstream's answer as it came (but `id` and `model`).
- **translated**: the Anthropic upstream receives the equivalent, and the SDK sees what it
  sees from an OpenAI upstream giving the same answer.
- **refused**: 400 with `param` naming it and a message naming the provider; with
  `drop_params` it is **dropped** instead and listed in `X-UniLLM-Dropped-Params`.
- **error**: the status and OpenAI error body the client gets (see each case).

"""


def cells() -> dict[str, dict[str, list[str]]]:
    table: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for case in all_cases():
        provider = (
            "openai" if case["kind"] == "openai" or case.get("model") == "gpt" else ("anthropic")
        )
        verb = _verb(case)
        for param in case["params"]:
            table[param][provider].append(f"{verb} ({case['name']})")
    return table


def _verb(case: dict[str, Any]) -> str:
    expect = case.get("expect", {})
    if case["kind"] == "hub_only" and "param" in expect:
        return f"refused: {expect['status']} `{expect['param']}`"
    if case["kind"] == "hub_only":
        return f"error {expect['status']} `{expect['code']}`"
    if "dropped" in expect:
        return "dropped"
    if "status" in expect:
        return f"error {expect['status']}"
    return "passed through" if case["kind"] == "openai" else "translated"


def render() -> str:
    lines = [
        HEADER,
        "| parameter | OpenAI-compatible, plain | OpenAI-compatible, stream | "
        "Anthropic, plain | Anthropic, stream |",
        "| --- | --- | --- | --- | --- |",
    ]
    for param, by_provider in sorted(cells().items()):
        row = [f"`{param}`"]
        for provider in ("openai", "anthropic"):
            text = "<br>".join(by_provider.get(provider, [])) or "—"
            row += [text] * len(MODES)
        lines.append("| " + " | ".join(row) + " |")
    cases = all_cases()
    lines += ["", "## Cases", ""]
    lines += [f"- `{c['name']}` ({c['kind']}): {c['about']}" for c in cases]
    lines += ["", f"{len(cases)} cases, each run plain and streamed.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    DOC.write_text(render())
