"""did:eidln syntax (SPEC.md §3): DIDs, DID URLs, canonical base58btc ids, size limits, every error code."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_method import (
    Did,
    DidError,
    DidUrl,
    InvalidDid,
    InvalidDidUrl,
    KeyType,
    MethodNotSupported,
    format_did,
    is_valid_fragment,
    is_valid_network,
    parse_did,
    parse_did_url,
)
from did_method.multikey import decode_public_key
from did_method.syntax import MAX_DID_LENGTH, MAX_DID_URL_LENGTH, b58decode, b58encode

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "w3c"

# SPEC.md §3.3 example: the first key is the W3C vc-di-eddsa test key (tests/vectors/w3c/keyPair.json)
EXAMPLE = "did:eidln:test:JhWVrZMQ74mNEjHuvNQjV"
IDENT = b58decode("JhWVrZMQ74mNEjHuvNQjV")

networks = st.from_regex(r"[a-z][a-z0-9]{0,15}", fullmatch=True)
idents = st.binary(min_size=16, max_size=16)
fragments = st.from_regex(r"[A-Za-z0-9._-]{1,32}", fullmatch=True)


def test_spec_example_is_self_certifying() -> None:
    multikey = json.loads((VECTORS / "keyPair.json").read_text())["publicKeyMultibase"]
    key_type, raw = decode_public_key(multikey)
    assert key_type is KeyType.ED25519
    did = Did.for_key("test", key_type, raw)
    assert str(did) == EXAMPLE
    assert parse_did(EXAMPLE) == did == Did("test", IDENT)


# ------------------------------------------------------------------------------------------ base58btc


@pytest.mark.parametrize(("data", "text"), [
    (b"", ""),
    (b"\0", "1"),
    (b"\0\0\1", "112"),
    (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
    (b"The quick brown fox jumps over the lazy dog.", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"),
    (bytes.fromhex("0000287fb4cd"), "11233QC4"),
    (bytes(16), "1" * 16),
])
def test_base58_vectors(data: bytes, text: str) -> None:
    assert b58encode(data) == text
    assert b58decode(text) == data


@pytest.mark.parametrize("bad", ["0", "O", "I", "l", "+", " ", "é"])
def test_base58_rejects_characters_outside_the_alphabet(bad: str) -> None:
    with pytest.raises(ValueError, match="not a base58btc character"):
        b58decode("2N" + bad)


@given(st.binary(max_size=40))
def test_base58_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


# ------------------------------------------------------------------------------------------ DIDs


@pytest.mark.parametrize(("network", "ident", "text"), [
    ("test", IDENT, EXAMPLE),
    ("a", bytes(16), "did:eidln:a:1111111111111111"),
    ("abcdefghijklmnop", b"\xff" * 16, "did:eidln:abcdefghijklmnop:YcVfxkQb6JRzqk5kF2tNLv"),
    ("net2", b"\0\0" + b"\x01" * 14, "did:eidln:net2:11" + b58encode(b"\x01" * 14)),
])
def test_valid_dids(network: str, ident: bytes, text: str) -> None:
    did = parse_did(text)
    assert (did.network, did.ident) == (network, ident)
    assert str(did) == format_did(network, ident) == text


def test_shortest_and_longest_ids() -> None:
    assert len(b58encode(bytes(16))) == 16
    assert len(b58encode(b"\xff" * 16)) == 22
    assert len(format_did("abcdefghijklmnop", b"\xff" * 16)) == 49 <= MAX_DID_LENGTH


@pytest.mark.parametrize("text", [
    "",
    "did",
    "did:",
    "did:eidln",
    "did:eidln:",
    "did:eidln:test:",
    "did:eidln::" + EXAMPLE[15:],
    "DID:eidln:test:" + EXAMPLE[15:],       # the scheme is lower case
    "did:EIDLN:test:" + EXAMPLE[15:],       # the method name is lower case
    " " + EXAMPLE,
    EXAMPLE + " ",
    EXAMPLE + "\n",
    EXAMPLE + "#key-1",                     # a DID URL is not a DID
    EXAMPLE + "/path",
    EXAMPLE + "?versionId=1",
    "did:eidln:test:" + EXAMPLE[15:] + "%zz",
    "did:eidln:test:%41" + EXAMPLE[16:],
])
def test_not_a_did(text: str) -> None:
    with pytest.raises(InvalidDid):
        parse_did(text)


@pytest.mark.parametrize(("text", "why"), [
    ("did:eidln:" + EXAMPLE[15:], "did:eidln:<network>:<id>"),
    ("did:eidln:test:sub:" + EXAMPLE[15:], "did:eidln:<network>:<id>"),
    ("did:eidln:Test:" + EXAMPLE[15:], "network 'Test'"),
    ("did:eidln:1net:" + EXAMPLE[15:], "network '1net'"),
    ("did:eidln:net_x:" + EXAMPLE[15:], "network 'net_x'"),
    ("did:eidln:net-x:" + EXAMPLE[15:], "network 'net-x'"),
    ("did:eidln:abcdefghijklmnopq:" + EXAMPLE[15:], "network 'abcdefghijklmnopq'"),
    ("did:eidln:test:0" + EXAMPLE[16:], "not base58btc"),
    ("did:eidln:test:" + EXAMPLE[15:].replace("J", "I"), "not base58btc"),
    ("did:eidln:test:" + b58encode(b"\x01" * 15), "encodes 15"),
    ("did:eidln:test:" + b58encode(b"\x01" * 17), "encodes 17"),
    ("did:eidln:test:1" + EXAMPLE[15:], "encodes 17"),               # leading-zero trick
    ("did:eidln:test:" + "1" * 15, "encodes 15"),
    ("did:eidln:test:" + "1" * 17, "encodes 17"),
    ("did:eidln:test:" + "1" * 50, "at most 64 characters"),
    ("did:eidln:" + "a" * 60 + ":" + EXAMPLE[15:], "at most 64 characters"),
])
def test_breaks_an_eidln_rule(text: str, why: str) -> None:
    with pytest.raises(InvalidDid, match=why) as info:
        parse_did(text)
    assert info.value.code == "invalidDid" and info.value.http_status == 400


def test_leading_zero_bytes_are_part_of_the_id() -> None:
    ident = b"\0" + b"\x07" * 15
    text = format_did("test", ident)
    assert text.split(":")[-1].startswith("1") and not text.split(":")[-1].startswith("11")
    assert parse_did(text).ident == ident
    with pytest.raises(InvalidDid, match="encodes 15"):
        parse_did(text.replace(":1", ":", 1))      # dropping the '1' drops the zero byte
    with pytest.raises(InvalidDid, match="encodes 17"):
        parse_did(text.replace(":1", ":11", 1))


@pytest.mark.parametrize("text", [
    "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "did:web:example.com",
    "did:eidln2:test:" + EXAMPLE[15:],
    "did:ethr:0x1:0xb9c5714089478a327f09197987f16f9e5d936e8a",
])
def test_other_methods(text: str) -> None:
    with pytest.raises(MethodNotSupported) as info:
        parse_did(text)
    assert info.value.code == "methodNotSupported" and info.value.http_status == 501


def test_wrong_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        parse_did(EXAMPLE.encode())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        parse_did_url(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Did("test", bytearray(16))  # type: ignore[arg-type]


@pytest.mark.parametrize(("network", "ident"), [("Test", bytes(16)), ("", bytes(16)), ("test", bytes(15)),
                                                 ("test", bytes(17))])
def test_did_constructor_checks(network: str, ident: bytes) -> None:
    with pytest.raises(InvalidDid):
        Did(network, ident)
    with pytest.raises(InvalidDid):
        format_did(network, ident)


def test_predicates() -> None:
    assert is_valid_network("a") and is_valid_network("prod2") and not is_valid_network("2prod")
    assert not is_valid_network("a" * 17) and not is_valid_network(1)  # type: ignore[arg-type]
    assert is_valid_fragment("key-1") and is_valid_fragment("a._-Z9") and is_valid_fragment("k" * 32)
    assert not is_valid_fragment("") and not is_valid_fragment("k" * 33) and not is_valid_fragment("key 1")
    assert not is_valid_fragment("key%2D1") and not is_valid_fragment("ключ")


# ------------------------------------------------------------------------------------------ DID URLs


def test_bare_did_is_a_did_url() -> None:
    assert parse_did_url(EXAMPLE) == DidUrl(parse_did(EXAMPLE), "", (), None)


def test_did_url_parts() -> None:
    url = parse_did_url(EXAMPLE + "/a/b%20c?service=brand&relativeRef=%2Flogo.png&x=a%26b+c&flag#key-1")
    assert url.did == parse_did(EXAMPLE)
    assert url.path == "/a/b%20c"
    assert url.query == (("service", "brand"), ("relativeRef", "/logo.png"), ("x", "a&b+c"), ("flag", ""))
    assert url.fragment == "key-1"
    assert url.param("service") == "brand" and url.param("versionId") is None
    assert parse_did_url(str(url)) == url


@pytest.mark.parametrize("suffix", [
    "#key-1",
    "#" + "k" * 32,
    "#a._-Z9",
    "?versionId=0",
    "?versionId=18446744073709551615",
    "?versionTime=2026-11-28T17:00:00Z",
    "?versionTime=2024-02-29T23:59:59Z",
    "?hl=zQmWvQxTqbG2Z9HPJgG57jjwR154cKhbtJenbyYTWkjgF3e",
    "?service=rcd-1&relativeRef=%2Fbrand%2Flogo.png%3Fsize%3D64",
    "?x=1&x=2",                               # unknown parameters may repeat
    "?",
    "/",
    "/path/with:colon@at",
])
def test_valid_did_urls(suffix: str) -> None:
    url = parse_did_url(EXAMPLE + suffix)
    assert url.did == parse_did(EXAMPLE)
    assert parse_did_url(str(url)) == url


@pytest.mark.parametrize(("suffix", "why"), [
    ("#", "not a did:eidln fragment"),
    ("#" + "k" * 33, "not a did:eidln fragment"),
    ("#key%2D1", "not a did:eidln fragment"),
    ("#key/1", "not a did:eidln fragment"),
    ("#key:1", "not a did:eidln fragment"),
    ("#key 1", "not an RFC 3986 fragment"),
    ("#key#1", "not an RFC 3986 fragment"),
    ("#%zz", "not an RFC 3986 fragment"),
    ("/a%2", "not an RFC 3986 path"),
    ("/a b", "not an RFC 3986 path"),
    ("/<x>", "not an RFC 3986 path"),
    ("?a=%G1", "not an RFC 3986 query"),
    ('?a="x"', "not an RFC 3986 query"),
    ("?a=%FF", "not UTF-8"),
    ("?=x", "without a name"),
    ("?a&&b", "without a name"),
    ("?versionId=1&versionId=2", "'versionId' appears more than once"),
    ("?service=a&service=b", "'service' appears more than once"),
    ("?versionId=01", "not a block number"),
    ("?versionId=-1", "not a block number"),
    ("?versionId=abc", "not a block number"),
    ("?versionId=" + "9" * 21, "not a block number"),
    ("?versionTime=2026-11-28T17:00:00", "not a UTC time"),
    ("?versionTime=2026-11-28T17:00:00.5Z", "not a UTC time"),
    ("?versionTime=2026-11-28T17:00:00%2B01:00", "not a UTC time"),
    ("?versionTime=2026-02-30T17:00:00Z", "not a UTC time"),
    ("?versionTime=2026-11-28", "not a UTC time"),
    ("?versionId=5&versionTime=2026-11-28T17:00:00Z", "cannot be used together"),
    ("?service=bad%20name", "not a did:eidln service fragment"),
    ("?relativeRef=%2Fx", "needs a service parameter"),
    ("?service=a&relativeRef=https:%2F%2Fevil.example%2F", "not an RFC 3986 relative reference"),
    ("?service=a&relativeRef=%2Fa%20b", "not an RFC 3986 relative reference"),
    ("?hl=", "hl must be"),
])
def test_invalid_did_urls(suffix: str, why: str) -> None:
    with pytest.raises(InvalidDidUrl, match=why) as info:
        parse_did_url(EXAMPLE + suffix)
    assert info.value.code == "invalidDidUrl" and info.value.http_status == 400


@pytest.mark.parametrize("text", [
    "did:eidln:Test:" + EXAMPLE[15:] + "#key-1",
    "did:eidln:test:1" + EXAMPLE[15:] + "#key-1",
    "did:eidln:test:" + "1" * 50 + "#key-1",
    "did:#key-1",
    "#key-1",
    "/1.0/identifiers/" + EXAMPLE,
])
def test_bad_did_in_a_did_url_is_invalid_did_url(text: str) -> None:
    with pytest.raises(InvalidDidUrl):
        parse_did_url(text)


def test_other_method_in_a_did_url() -> None:
    with pytest.raises(MethodNotSupported):
        parse_did_url("did:web:example.com#key-1")


def test_did_url_size_limit() -> None:
    room = MAX_DID_URL_LENGTH - len(EXAMPLE) - len("?x=")
    assert parse_did_url(EXAMPLE + "?x=" + "a" * room).param("x") == "a" * room
    with pytest.raises(InvalidDidUrl, match="at most 2048 characters"):
        parse_did_url(EXAMPLE + "?x=" + "a" * (room + 1))


# ------------------------------------------------------------------------------------------ properties


@given(networks, idents)
def test_format_parse_round_trip(network: str, ident: bytes) -> None:
    text = format_did(network, ident)
    did = parse_did(text)
    assert did == Did(network, ident) and str(did) == text
    assert len(text) <= MAX_DID_LENGTH
    assert parse_did_url(text).did == did


@given(networks, idents, fragments, st.text())
def test_did_url_round_trip(network: str, ident: bytes, fragment: str, value: str) -> None:
    url = DidUrl(Did(network, ident), "", (("x", value),), fragment)
    text = str(url)
    if len(text) <= MAX_DID_URL_LENGTH:
        assert parse_did_url(text) == url


@given(st.text())
def test_parse_raises_only_did_errors_on_any_text(text: str) -> None:
    for parse in (parse_did, parse_did_url):
        try:
            parse(text)
        except DidError:
            pass


_PRINTABLE = st.text(alphabet=string.printable, max_size=80)


@given(_PRINTABLE)
def test_parse_raises_only_did_errors_after_did_prefix(rest: str) -> None:
    for prefix in ("did:", "did:eidln:", "did:eidln:test:", EXAMPLE):
        for parse in (parse_did, parse_did_url):
            try:
                parse(prefix + rest)
            except DidError:
                pass
