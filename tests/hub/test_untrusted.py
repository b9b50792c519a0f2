"""The defensive parsers every connector shares: bounded, typed, and every refusal a 400 that
names the field (never RecursionError, UnicodeEncodeError or a slow int())."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub import untrusted
from hub.errors import InvalidField
from hub.untrusted import MAX_JSON_DEPTH, check_text, digits, header_value, json_int, load_json
from tests.hub.test_fastjson import outcome, spaces, texts

SEEDED = settings(max_examples=200, derandomize=True, database=None, deadline=None)
# Text a database stores: no NUL, no lone surrogate.
storable_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(storable_text, inner, max_size=4),
    max_leaves=20,
)


@SEEDED
@given(value=json_values)
def test_every_storable_document_round_trips(value: Any) -> None:
    assert load_json(json.dumps(value).encode()) == value


@SEEDED
@given(raw=st.binary(max_size=200))
def test_arbitrary_bytes_are_parsed_or_refused_as_the_body(raw: bytes) -> None:
    try:
        load_json(raw)
    except InvalidField as exc:
        assert exc.status == 400 and exc.field


@SEEDED
@given(raw=st.text(max_size=60))
def test_arbitrary_text_is_parsed_or_refused_naming_a_field(raw: str) -> None:
    document = json.dumps({"messages": [{"content": raw}]})
    try:
        assert load_json(document)["messages"][0]["content"] == raw
    except InvalidField as exc:
        assert exc.field == "messages[0].content"
        assert "\x00" in raw or any(0xD800 <= ord(c) <= 0xDFFF for c in raw)


@pytest.mark.parametrize(
    ("raw", "field", "says"),
    [
        (b"[" * 3000 + b"]" * 3000, "body", "nested deeper than 64 levels"),  # RecursionError
        (b"[" * 100_000, "body", "nested deeper than 64 levels"),
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "body", "deeper than 64"),
        (b'{"messages": [{"content": "\\ud800"}]}', "messages[0].content", "lone surrogate"),
        (b'{"messages": [{"content": "a\\u0000b"}]}', "messages[0].content", "NUL"),
        (b'{"metadata": {"\\u0000": 1}}', "metadata", "A key in 'metadata' contains a NUL"),
        (b'{"max_tokens": 1' + b"0" * 5000 + b"}", "body", "more than 40 digits"),
        (b'{"temperature": 1e999}', "body", "does not fit a 64-bit number"),
        (b'{"temperature": NaN}', "body", "NaN is not a JSON number"),
        (b"\xff\xfe{}", "body", "not UTF-8"),
        ('{"a": "\\u00e9"}'.encode("utf-16"), "body", "not UTF-8"),  # json.loads would accept
        (b"{", "body", "not valid JSON"),
    ],
)
def test_hostile_documents_are_refused_by_name(raw: bytes, field: str, says: str) -> None:
    with pytest.raises(InvalidField) as refused:
        load_json(raw)
    assert refused.value.field == field
    assert says in refused.value.user_message
    assert refused.value.status == 400


def test_the_deepest_allowed_document_and_proper_surrogate_pairs_pass() -> None:
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert load_json(deepest) is not None
    assert load_json(b'{"c": "\\ud83d\\ude00"}') == {"c": "\U0001f600"}
    assert load_json(b'{"c": "caf\xc3\xa9"}', field="payload") == {"c": "café"}


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None, 2**63, 0, [1]])
def test_json_int_refuses_booleans_floats_strings_and_out_of_range(value: Any) -> None:
    with pytest.raises(InvalidField, match="'max_tokens' must be an integer from 1 to"):
        json_int(value, field="max_tokens", low=1, high=2**31 - 1)


def test_json_int_accepts_integers_in_range() -> None:
    assert json_int(1, field="n", low=1, high=5) == 1
    assert json_int(5, field="n", low=1, high=5) == 5


@pytest.mark.parametrize("text", ["²", "١٢", "", "12a", "-1", " 1", "1" * 11, "+1"])
def test_digits_are_ascii_and_bounded(text: str) -> None:
    with pytest.raises(InvalidField) as refused:
        digits(text, field="X-Signature-Timestamp", max_digits=10)
    assert refused.value.field == "X-Signature-Timestamp"


def test_digits_accept_ascii_numbers() -> None:
    assert digits("0012", field="n", max_digits=4) == 12


@pytest.mark.parametrize("value", ["v0=é", "bearer \udcff", "a\x00b", "a\nb", "x" * 201, "\x7f"])
def test_header_values_are_printable_ascii_and_bounded(value: str) -> None:
    with pytest.raises(InvalidField) as refused:
        header_value({"X-Slack-Signature": value}, "X-Slack-Signature", max_len=200)
    assert refused.value.field == "X-Slack-Signature"


def test_header_values_pass_and_absent_is_empty() -> None:
    assert header_value({"A": "v0=ab\tc"}, "A", max_len=10) == "v0=ab\tc"
    assert header_value({}, "A", max_len=10) == ""


@pytest.mark.parametrize("value", ["a\x00", "\ud800x"])
def test_check_text_names_the_field(value: str) -> None:
    with pytest.raises(InvalidField) as refused:
        check_text(value, field="name")
    assert refused.value.field == "name"
    assert check_text("fine é", field="name") == "fine é"


# The body's reader takes orjson's parse where it reads the same: the same texts as
# tests/hub/test_fastjson.py, every value and type, and every refusal, against the strict
# decoder alone (integers of 40 digits and no more, no NaN, Infinity or overflow).
@settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(texts, spaces, st.integers(min_value=0), st.sampled_from(["", "x", ",", "}", '"', "\\"]))
def test_the_fast_parse_reads_and_refuses_what_the_strict_decoder_does(
    text: str, pad: str, at: int, extra: str
) -> None:
    whole = pad + text + pad
    cut = at % (len(text) + 1)
    broken = text[:cut] + extra + text[cut + 1 :]
    for document in (whole, broken, whole.replace("0", "9" * 20, 1)):
        assert outcome(untrusted._parse, document) == outcome(untrusted._decoder().decode, document)
