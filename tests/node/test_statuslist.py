"""Bitstring Status List v1.0: W3C / Digital Bazaar vectors (decoded bits), round trips, every error path."""

from __future__ import annotations

import base64
import gzip
import json
import tracemalloc
import zlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import statuslist as sl
from node.statuslist import StatusListError

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "w3c" /
                      "bitstring-status-list-vectors.json").read_text())


def _u(packed: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def _set_indices(bits: bytes) -> list[int]:
    return [i * 8 + j for i, byte in enumerate(bits) if byte for j in range(8) if byte & (0x80 >> j)]


# ------------------------------------------------------------------ vectors


@pytest.mark.parametrize("name", ["spec_example_all_zero_131072_bits", "digitalbazaar_index_94567_set"])
def test_vectors_decode_to_their_bits(name: str) -> None:
    v = VECTORS[name]
    bits = sl.decode(v["encodedList"])
    assert len(bits) == v["decoded_bytes"] == 16384
    assert _set_indices(bits) == v["set_indices"]
    assert all(sl.get(bits, i) == (i in v["set_indices"]) for i in (0, 1, 94566, 94567, 94568, 131071))


def test_msb_first_bit_order() -> None:
    bits = sl.decode(VECTORS["digitalbazaar_index_94567_set"]["encodedList"])
    assert bits[11820] == 0x01 and sum(bits) == 1  # 94567 // 8, 0x80 >> (94567 % 8)


def test_our_encoding_decodes_to_the_vector_bits() -> None:
    """GZIP bytes differ between implementations; the decoded bits must not."""
    v = VECTORS["digitalbazaar_index_94567_set"]
    bits = sl.new()
    sl.set(bits, 94567)
    ours = sl.encode(bits)
    assert ours != v["encodedList"]  # a different GZIP header and deflate stream ...
    assert sl.decode(ours) == sl.decode(v["encodedList"])  # ... of the same bits
    assert sl.encode(sl.new()) != VECTORS["spec_example_all_zero_131072_bits"]["encodedList"]
    assert sl.decode(sl.encode(sl.new())) == bytes(16384)


# ------------------------------------------------------------------ round trips and bit access


@given(st.sets(st.integers(0, sl.MIN_ENTRIES - 1), max_size=40))
def test_round_trip(indices: set[int]) -> None:
    bits = sl.new()
    for i in indices:
        sl.set(bits, i)
    decoded = sl.decode(sl.encode(bits))
    assert _set_indices(decoded) == sorted(indices)
    assert all(sl.get(decoded, i) for i in indices)


def test_a_large_list_inflates_in_steps() -> None:
    bits = sl.new(8 << 20)  # 1 MiB: four inflate steps
    sl.set(bits, (8 << 20) - 1)
    decoded = sl.decode(sl.encode(bits))
    assert len(decoded) == 1 << 20 and _set_indices(decoded) == [(8 << 20) - 1]


def test_set_and_clear() -> None:
    bits = sl.new(16)
    sl.set(bits, 0)
    sl.set(bits, 15)
    assert bits == bytearray(b"\x80\x01")
    sl.set(bits, 0, False)
    assert bits == bytearray(b"\x00\x01") and not sl.get(bits, 0) and sl.get(bits, 15)


def test_encode_pads_to_the_minimum_and_to_a_length() -> None:
    assert len(sl.decode(sl.encode(b"\xff"))) == 16384
    assert sl.decode(sl.encode(b"\xff"))[:2] == b"\xff\x00"
    assert len(sl.decode(sl.encode(b"", 2 * sl.MIN_ENTRIES))) == 32768
    assert len(sl.decode(sl.encode(b"\x01", 8, min_entries=8), min_entries=8)) == 1


def test_encode_accepts_a_bitarray_like_object() -> None:
    class Bits:
        def tobytes(self) -> bytes:
            return b"\x40"

    assert sl.get(sl.decode(sl.encode(Bits())), 1)


def test_encode_misuse_raises() -> None:
    with pytest.raises(ValueError, match="at least 131072"):
        sl.encode(b"", 1024)
    with pytest.raises(ValueError, match="do not fit"):
        sl.encode(bytes(16385), sl.MIN_ENTRIES)
    with pytest.raises(ValueError, match="larger than"):
        sl.encode(b"", (sl.MAX_BYTES + 1) * 8)
    with pytest.raises(TypeError):
        sl.encode(12345)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sl.new(0)


def test_index_outside_the_list() -> None:
    bits = sl.new()
    for bad in (-1, sl.MIN_ENTRIES):
        with pytest.raises(StatusListError) as exc:
            sl.get(bits, bad)
        assert exc.value.code == "vc.bad_status_list" and exc.value.w3c == "RANGE_ERROR"
        with pytest.raises(StatusListError):
            sl.set(bits, bad)
    with pytest.raises(TypeError):
        sl.get(bits, True)


# ------------------------------------------------------------------ strict decoding


def _bad(encoded: object, w3c: str = "MALFORMED_VALUE_ERROR", **kw: int) -> str:
    with pytest.raises(StatusListError) as exc:
        sl.decode(encoded, **kw)
    assert exc.value.code == "vc.bad_status_list"
    assert exc.value.w3c == w3c
    return exc.value.message


GOOD = VECTORS["spec_example_all_zero_131072_bits"]["encodedList"]


def test_not_a_string() -> None:
    assert "not a string" in _bad(b"uH4sI")
    _bad(None)


@pytest.mark.parametrize("prefix", ["", "z", "m", "U", "M"])
def test_missing_multibase_prefix(prefix: str) -> None:
    assert "prefix" in _bad(prefix + GOOD[1:])


@pytest.mark.parametrize("text", [GOOD + "=", GOOD[:10] + "+" + GOOD[11:], GOOD[:10] + "/" + GOOD[11:],
                                  GOOD + "A", GOOD[:20] + " " + GOOD[20:], GOOD + "\n", "u" + "é" * 4])
def test_bad_base64url(text: str) -> None:
    assert "base64url" in _bad(text)


def test_non_canonical_base64url() -> None:
    packed = next(p for k in range(1, 40) if len(p := gzip.compress(bytes(range(k)) + bytes(16384 - k), mtime=0)) % 3)
    text = _u(packed)
    assert len(text[1:]) % 4 != 0  # the last character carries unused bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(text[-1])
    sloppy = text[:-1] + alphabet[last | 1]
    assert sloppy != text and base64.urlsafe_b64decode(sloppy[1:] + "==") == packed
    assert "canonical" in _bad(sloppy)


def test_not_gzip() -> None:
    assert "GZIP" in _bad(_u(zlib.compress(bytes(16384))))  # zlib wrapper, not GZIP
    assert "GZIP" in _bad(_u(bytes(16384)))
    assert "GZIP" in _bad("u")


def test_bad_crc() -> None:
    packed = bytearray(gzip.compress(bytes(16384), mtime=0))
    packed[-8] ^= 0xFF  # CRC32 of the uncompressed data
    assert "GZIP" in _bad(_u(bytes(packed)))


def test_truncated_gzip() -> None:
    packed = gzip.compress(bytes(16384), mtime=0)
    assert "truncated" in _bad(_u(packed[:-4]))


def test_trailing_data_after_gzip() -> None:
    packed = gzip.compress(bytes(16384), mtime=0)
    assert "after the GZIP" in _bad(_u(packed + b"\x00"))
    assert "after the GZIP" in _bad(_u(packed + packed))  # a second member is not accepted either


def test_too_few_entries() -> None:
    assert "fewer than 131072" in _bad(_u(gzip.compress(bytes(16383), mtime=0)), "STATUS_LIST_LENGTH_ERROR")
    assert "fewer" in _bad(_u(gzip.compress(b"", mtime=0)), "STATUS_LIST_LENGTH_ERROR")
    assert len(sl.decode(_u(gzip.compress(bytes(2), mtime=0)), min_entries=16)) == 2  # an ecosystem's bound


def test_gzip_bomb_is_refused_while_inflating() -> None:
    """256 MiB of zeros compress to about 256 KiB; decoding stops at the cap (plus one byte) and refuses,
    never holding more than about the cap in memory."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1 << 20)
    packed = b"".join(comp.compress(chunk) for _ in range(256)) + comp.flush()
    encoded = _u(packed)
    del chunk
    assert len(packed) < 512 * 1024
    tracemalloc.start()
    try:
        assert "more than 16777216 bytes" in _bad(encoded, "STATUS_LIST_LENGTH_ERROR")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < sl.MAX_BYTES + 2 * 1024 * 1024


def test_cap_is_exact() -> None:
    at_cap = _u(gzip.compress(bytes(32768), mtime=0))
    assert len(sl.decode(at_cap, max_bytes=32768)) == 32768
    _bad(at_cap, "STATUS_LIST_LENGTH_ERROR", max_bytes=32767)


def test_oversized_text_is_refused_before_decoding() -> None:
    assert "longer than" in _bad("u" + "A" * 4096, "STATUS_LIST_LENGTH_ERROR", max_bytes=1024, min_entries=8)


# ------------------------------------------------------------------ JSON shapes


def test_status_list_subject() -> None:
    bits = sl.new()
    sl.set(bits, 7)
    subject = sl.status_list_subject(id="https://tn.example/status/3#list", purpose="revocation", bits=bits,
                                     ttl=300000)
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "revocation"
    assert subject["id"] == "https://tn.example/status/3#list" and subject["ttl"] == 300000
    assert _set_indices(sl.decode(subject["encodedList"])) == [7]
    assert "ttl" not in sl.status_list_subject(id="x", purpose="suspension", bits=bits)
    with pytest.raises(ValueError, match="statusPurpose"):
        sl.status_list_subject(id="x", purpose="message", bits=bits)
    with pytest.raises(ValueError, match="ttl"):
        sl.status_list_subject(id="x", purpose="revocation", bits=bits, ttl=-1)


def test_status_list_entry() -> None:
    entry = sl.status_list_entry(list_url="https://tn.example/status/3", index=94567, purpose="suspension")
    assert entry == {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": "94567",
                     "statusListCredential": "https://tn.example/status/3"}
    assert sl.parse_index(entry["statusListIndex"]) == 94567
    with_id = sl.status_list_entry(list_url="https://l", index=0, purpose="revocation", id="https://l#0")
    assert with_id["id"] == "https://l#0" and with_id["statusListIndex"] == "0"
    with pytest.raises(ValueError, match="must not be"):
        sl.status_list_entry(list_url="https://l", index=0, purpose="revocation", id="https://l")
    for bad_index in (-1, True, 1.0):
        with pytest.raises(ValueError):
            sl.status_list_entry(list_url="https://l", index=bad_index, purpose="revocation")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sl.status_list_entry(list_url="https://l", index=1, purpose="refresh")


@pytest.mark.parametrize("bad", ["", "-1", "+1", "01", "1.0", " 1", "1e3", "٣", "0x10", 5, None])
def test_parse_index_is_strict(bad: object) -> None:
    with pytest.raises(StatusListError):
        sl.parse_index(bad)
