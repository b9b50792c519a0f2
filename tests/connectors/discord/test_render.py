"""Pages of at most 2,000 characters, cut at paragraph or line boundaries, fences intact."""

from __future__ import annotations

from connectors.discord.render import split_message


def test_short_text_is_one_page_untouched() -> None:
    text = "**Bold** _italic_ `code` > quote\n\n- list"
    assert split_message(text) == [text]


def test_cuts_at_the_last_paragraph_boundary_that_fits() -> None:
    first, second = "a" * 1500, "b" * 1000
    assert split_message(f"{first}\n\n{second}") == [first, second]


def test_falls_back_to_a_line_boundary_then_to_a_space() -> None:
    lines = "\n".join(["x" * 99] * 30)  # 2,999 characters, no blank line
    pages = split_message(lines)
    assert [len(p) for p in pages] == [1999, 999]
    words = ("word " * 700).strip()
    pages = split_message(words)
    assert all(len(p) <= 2000 for p in pages)
    assert " ".join(pages) == words


def test_a_long_code_block_is_closed_and_reopened() -> None:
    code = "```python\n" + "\n".join(f"x = {i}  # {'.' * 40}" for i in range(120)) + "\n```"
    pages = split_message("Intro\n\n" + code)
    assert len(pages) == 4
    assert all(len(p) <= 2000 and p.count("```") == 2 for p in pages)
    assert all(p.endswith("\n```") for p in pages)
    assert all(p.startswith("```python\n") for p in pages[1:])
    body = [line for p in pages for line in p.splitlines() if line and not line.startswith("```")]
    assert body == ["Intro"] + code.splitlines()[1:-1]


def test_a_code_block_that_fits_is_moved_whole_to_the_next_page() -> None:
    prose = "p" * 1200
    code = "```\n" + "\n".join(["y" * 50] * 20) + "\n```"
    assert split_message(f"{prose}\n\n{code}") == [prose, code]


def test_pages_of_a_growing_text_are_stable() -> None:
    text = ("Para one. " * 150) + "\n\n```js\n" + "let a = 1;\n" * 300 + "```\n\nEnd."
    final = split_message(text)
    for end in range(2001, len(text), 97):
        partial = split_message(text[:end])
        assert partial[:-1] == final[: len(partial) - 1]
