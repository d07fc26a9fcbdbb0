"""The one bounded, strict JSON reader: every refusal has its code, the depth check matches a character-by-character
reference on any text, and it does not depend on the interpreter's recursion limit."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet import strictjson
from wallet.strictjson import JsonError, check_depth, loads


def _reference_depth(text: str) -> int:
    """Deepest ``[`` / ``{`` nesting outside strings, one character at a time (escapes honoured)."""
    depth = deepest = 0
    i, in_string = 0, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 2
                continue
            in_string = c != '"'
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


@pytest.mark.parametrize(("raw", "code"), [
    (b"[" * 65536, "json.too_deep"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "json.too_deep"),
    (b"x" * 101, "json.too_large"),
    ("y" * 101, "json.too_large"),
    (b"\xff", "json.not_utf8"),
    ("\ud800", "json.not_utf8"),
    (b'{"a": 1, "a": 2}', "json.duplicate_key"),
    (b'"\\ud800"', "json.bad_string"),
    (b'{"\\udfff": 1}', "json.bad_string"),
    (b"NaN", "json.invalid"),
    (b"[Infinity]", "json.invalid"),
    (b"1" * 5000, "json.invalid"),
    (b"{", "json.invalid"),
])
def test_refusals_have_their_codes(raw: bytes | str, code: str) -> None:
    with pytest.raises(JsonError) as err:
        loads(raw, max_bytes=100 if code == "json.too_large" else 1 << 20)
    assert err.value.code == code and isinstance(err.value, ValueError)


def test_what_is_json_is_read() -> None:
    assert loads('{"a": ["\\ud83d\\ude00", 1.5, null, true]}') == {"a": ["\U0001f600", 1.5, None, True]}
    assert loads(b"[" * 32 + b"]" * 32, max_depth=32) == json.loads("[" * 32 + "]" * 32)
    assert loads('{"x": "' + "[" * 10_000 + '"}') == {"x": "[" * 10_000}  # brackets in strings do not count
    assert loads(b'"\\\\ud800"') == "\\ud800"  # an escaped backslash, not a surrogate escape


def test_the_check_does_not_depend_on_the_recursion_limit() -> None:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # what importing py_ecc does
    try:
        with pytest.raises(JsonError, match="nested deeper"):
            loads(b"[" * 200_000 + b"]" * 200_000, max_bytes=1 << 20)
    finally:
        sys.setrecursionlimit(old)


def test_restore_recursion_limit() -> None:
    old = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(12_288)
        strictjson.restore_recursion_limit()
        assert sys.getrecursionlimit() == strictjson.RECURSION_LIMIT == 1000
    finally:
        sys.setrecursionlimit(old)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab'),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("[]{}ab\\\""), inner,
                                                                                 max_size=3), max_leaves=60)


@settings(max_examples=400, deadline=None)
@given(_json, st.integers(0, 12))
def test_depth_check_matches_the_reference_on_json(value: object, limit: int) -> None:
    text = json.dumps(value)
    try:
        check_depth(text, limit)
        refused = False
    except JsonError:
        refused = True
    assert refused == (_reference_depth(text) > limit)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='[]{}"\\a', max_size=200), st.integers(0, 12))
def test_depth_check_never_lets_deeper_text_through(text: str, limit: int) -> None:
    """On any text, valid or not: what passes nests no deeper than the limit (it may refuse invalid text)."""
    try:
        check_depth(text, limit)
    except JsonError:
        return
    assert _reference_depth(text) <= limit


# ------------------------------------------------------------------------------------------------ canonical


def test_canonical_bytes() -> None:
    value = {"b": [1, 2.5, None, True], "a": {"é/€": "\U0001f600\n\x1f"}, "10": "", "9": 0}
    assert strictjson.canonical(value) == '{"10":"","9":0,"a":{"é/€":"\U0001f600\\n\\u001f"},"b":[1,2.5,null,true]}' \
        .encode("utf-8")
    assert strictjson.canonical(value, ascii_only=True) == (
        b'{"10":"","9":0,"a":{"\\u00e9/\\u20ac":"\\ud83d\\ude00\\n\\u001f"},"b":[1,2.5,null,true]}')
    assert strictjson.canonical("x/y") == b'"x/y"'  # RFC 8225 §9: "/" is not escaped


@pytest.mark.parametrize(("value", "code"), [
    (float("nan"), "json.invalid"), ({"a": [float("inf")]}, "json.invalid"), ({"a": "\ud800"}, "json.not_utf8"),
    ({"\udfff": 1}, "json.not_utf8"),
])
def test_canonical_refuses_what_is_not_json(value: object, code: str) -> None:
    with pytest.raises(JsonError) as err:
        strictjson.canonical(value)
    assert err.value.code == code and isinstance(err.value, ValueError)


def test_canonical_misuse_is_a_type_error() -> None:
    for value in ({1, 2}, b"bytes", {"a": object()}):
        with pytest.raises(TypeError):
            strictjson.canonical(value)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6), children, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_canonical_reads_back_and_is_stable(value: object) -> None:
    raw = strictjson.canonical(value)
    assert loads(raw) == value
    assert strictjson.canonical(loads(raw)) == raw == json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                                  ensure_ascii=False).encode("utf-8")
    ascii_form = strictjson.canonical(value, ascii_only=True)  # the wallet file's form (its header is AEAD data)
    assert loads(ascii_form) == value and ascii_form == json.dumps(value, sort_keys=True, separators=(",", ":"),
                                                                   ensure_ascii=True).encode("ascii")
