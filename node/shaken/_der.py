"""A tiny, strict DER reader/writer for the few types a TNAuthList needs (no external ASN.1 library).

The reader accepts only DER: single-byte tags (low tag numbers), definite and minimally encoded lengths, and
refuses trailing bytes. Every failure is a :class:`DERError` (callers translate it once).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DERError", "TLV", "read_all", "read_one", "tlv", "encode_integer", "decode_integer"]

SEQUENCE = 0x30
IA5STRING = 0x16
PRINTABLESTRING = 0x13
INTEGER = 0x02


class DERError(ValueError):
    """Input is not the DER this reader accepts."""


@dataclass(frozen=True)
class TLV:
    tag: int
    body: bytes
    raw: bytes


def _length(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise DERError("truncated length")
    first = data[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    if n == 0:
        raise DERError("indefinite length is not DER")
    if n > 4 or i + 1 + n > len(data):
        raise DERError("length too long or truncated")
    value = int.from_bytes(data[i + 1 : i + 1 + n], "big")
    if value < 0x80 or data[i + 1] == 0:
        raise DERError("length not minimally encoded")
    return value, i + 1 + n


def read_one(data: bytes, i: int = 0) -> tuple[TLV, int]:
    """Read the TLV starting at ``i``; return it and the index just after it."""
    if i >= len(data):
        raise DERError("truncated tag")
    tag = data[i]
    if tag & 0x1F == 0x1F:
        raise DERError("high tag numbers are not supported")
    length, j = _length(data, i + 1)
    if j + length > len(data):
        raise DERError("value truncated")
    return TLV(tag, data[j : j + length], data[i : j + length]), j + length


def read_all(data: bytes) -> list[TLV]:
    """Read consecutive TLVs covering ``data`` exactly."""
    out: list[TLV] = []
    i = 0
    while i < len(data):
        item, i = read_one(data, i)
        out.append(item)
    return out


def tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + body


def encode_integer(value: int) -> bytes:
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def decode_integer(body: bytes) -> int:
    if not body:
        raise DERError("empty INTEGER")
    if len(body) > 1 and ((body[0] == 0 and body[1] < 0x80) or (body[0] == 0xFF and body[1] >= 0x80)):
        raise DERError("INTEGER not minimally encoded")
    return int.from_bytes(body, "big", signed=True)
