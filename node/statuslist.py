"""W3C Bitstring Status List v1.0: the ``encodedList`` codec, bit access, and the two JSON shapes.

* ``encodedList`` = ``"u"`` (multibase base64url, no padding) + base64url(GZIP(bitstring)).
* Index *i* is bit ``0x80 >> (i % 8)`` of byte ``i // 8``: index 0 is the left-most (most significant) bit.
* A list has at least 131,072 entries (16 KiB) unless an ecosystem sets a lower bound (``min_entries``).
* GZIP output differs between implementations (header, deflate level): compare decoded bits, never strings.

Decoding is strict and bounded, since lists come from the network: the multibase prefix, the base64url
alphabet and canonical form (no padding, no stray bits), one complete GZIP member with a valid CRC and nothing
after it, and at most ``max_bytes`` (16 MiB by default) of output, enforced while inflating so a GZIP bomb
never gets allocated. Every failure is a :class:`StatusListError` (code ``vc.bad_status_list``) naming the W3C
error type (``MALFORMED_VALUE_ERROR``, ``STATUS_LIST_LENGTH_ERROR``, ``RANGE_ERROR``).

Only status purposes with one bit per entry are supported: ``revocation`` and ``suspension``.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import sqlite3
import zlib
from typing import Any, Protocol

from contracts.vocab import Status
from node.errors import NodeError
from node.sync.indexdb import IndexReader

__all__ = [
    "status_indexes",
    "StatusListError", "MIN_ENTRIES", "MAX_BYTES", "PURPOSES", "new", "encode", "decode", "get", "set",
    "parse_index", "status_list_subject", "status_list_entry",
]

MIN_ENTRIES = 131_072  # minimumNumberOfEntries: 16 KiB of bits
MAX_BYTES = 16 * 1024 * 1024  # decompressed size cap (2^27 entries)
PURPOSES = ("revocation", "suspension")

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")  # base-10, no sign, no leading zero, ASCII digits only
_GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for a GZIP (RFC 1952) stream with header and CRC checks
_STEP = 256 * 1024  # inflate this much at a time


class StatusListError(NodeError):
    """A status list or entry that cannot be used. ``w3c`` is the specification's error type."""

    code = "vc.bad_status_list"

    def __init__(self, message: str, *, w3c: str = "MALFORMED_VALUE_ERROR") -> None:
        super().__init__(message)
        self.w3c = w3c


class _HasToBytes(Protocol):
    def tobytes(self) -> bytes: ...


def new(entries: int = MIN_ENTRIES) -> bytearray:
    """An all-zero list of ``entries`` bits (rounded up to whole bytes)."""
    if entries < 1:
        raise ValueError("a status list needs at least one entry")
    return bytearray((entries + 7) // 8)


def encode(bits: bytes | bytearray | memoryview | _HasToBytes, length: int | None = None, *,
           min_entries: int = MIN_ENTRIES) -> str:
    """The ``encodedList`` of ``bits`` (MSB-first bytes, or anything with ``tobytes()`` such as a big-endian
    bitarray), zero-padded to ``length`` entries (default: the larger of ``len(bits) * 8`` and ``min_entries``)."""
    if isinstance(bits, bytes | bytearray | memoryview):
        raw = bytes(bits)
    elif hasattr(bits, "tobytes"):
        raw = bytes(bits.tobytes())
    else:
        raise TypeError("bits are bytes, or an object with tobytes() (a big-endian bitarray)")
    if length is None:
        length = max(len(raw) * 8, min_entries)
    if length < min_entries:
        raise ValueError(f"a status list has at least {min_entries} entries (got {length})")
    size = (length + 7) // 8
    if len(raw) > size:
        raise ValueError(f"{len(raw)} bytes of bits do not fit in {length} entries")
    if size > MAX_BYTES:
        raise ValueError(f"a status list of {length} entries is larger than {MAX_BYTES} bytes")
    packed = gzip.compress(raw + bytes(size - len(raw)), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii")


def decode(encoded: object, *, min_entries: int = MIN_ENTRIES, max_bytes: int = MAX_BYTES) -> bytes:
    """The bitstring of an ``encodedList``; raises :class:`StatusListError` on anything but a well-formed list."""
    if not isinstance(encoded, str):
        raise StatusListError("encodedList is not a string")
    if not encoded.startswith("u"):
        raise StatusListError("encodedList does not start with the multibase base64url prefix 'u'")
    text = encoded[1:]
    if len(text) > (max_bytes + max_bytes // 64 + 1024) * 4 // 3:  # more than any GZIP of max_bytes needs
        raise StatusListError(f"encodedList is longer than a list of {max_bytes} bytes can be",
                              w3c="STATUS_LIST_LENGTH_ERROR")
    if not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise StatusListError("encodedList is not unpadded base64url")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise StatusListError("encodedList is not unpadded base64url") from None
    if base64.urlsafe_b64encode(packed).rstrip(b"=").decode("ascii") != text:
        raise StatusListError("encodedList is not canonical base64url (stray bits in the last character)")
    inflater = zlib.decompressobj(_GZIP)
    chunks: list[bytes] = []
    size = 0
    tail = packed
    try:
        while True:  # in steps, so a GZIP bomb stops at the cap instead of being allocated
            chunk = inflater.decompress(tail, _STEP)
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise StatusListError(f"encodedList inflates to more than {max_bytes} bytes",
                                      w3c="STATUS_LIST_LENGTH_ERROR")
            tail = inflater.unconsumed_tail
            if inflater.eof or (not tail and len(chunk) < _STEP):
                break
    except zlib.error as exc:
        raise StatusListError(f"encodedList is not valid GZIP ({exc})") from None
    if not inflater.eof:
        raise StatusListError("encodedList is truncated GZIP")
    if inflater.unused_data:
        raise StatusListError("encodedList has data after the GZIP stream")
    raw = b"".join(chunks)
    if len(raw) * 8 < min_entries:
        raise StatusListError(f"the status list has {len(raw) * 8} entries, fewer than {min_entries}",
                              w3c="STATUS_LIST_LENGTH_ERROR")
    return raw


def _position(bits: bytes | bytearray, index: int) -> tuple[int, int]:
    if isinstance(index, bool) or not isinstance(index, int):
        raise TypeError("a status list index is an int")
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"index {index} is outside a list of {len(bits) * 8} entries", w3c="RANGE_ERROR")
    return index // 8, 0x80 >> (index % 8)


def get(bits: bytes | bytearray, index: int) -> bool:
    """The status bit at ``index`` (True = revoked / suspended)."""
    byte, mask = _position(bits, index)
    return bool(bits[byte] & mask)


def set(bits: bytearray, index: int, value: bool = True) -> None:  # the spec's verb; import the module, not the name
    """Set or clear the status bit at ``index`` in place."""
    byte, mask = _position(bits, index)
    bits[byte] = bits[byte] | mask if value else bits[byte] & ~mask


def parse_index(value: object) -> int:
    """``statusListIndex``: a string holding a base-10 integer >= 0."""
    if not isinstance(value, str) or not _INDEX.fullmatch(value):
        raise StatusListError(f"statusListIndex {value!r} is not a base-10 integer string")
    return int(value)


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"statusPurpose must be one of {', '.join(PURPOSES)} (got {purpose!r})")
    return purpose


def status_list_subject(*, id: str, purpose: str, bits: bytes | bytearray | _HasToBytes,
                        length: int | None = None, ttl: int | None = None) -> dict[str, Any]:
    """The ``credentialSubject`` of a ``BitstringStatusListCredential`` (``ttl`` in milliseconds)."""
    subject: dict[str, Any] = {"id": id, "type": "BitstringStatusList", "statusPurpose": _purpose(purpose),
                               "encodedList": encode(bits, length)}
    if ttl is not None:
        if ttl < 0:
            raise ValueError("ttl is a number of milliseconds >= 0")
        subject["ttl"] = ttl
    return subject


def status_list_entry(*, list_url: str, index: int, purpose: str, id: str | None = None) -> dict[str, Any]:
    """A ``credentialStatus`` entry pointing at bit ``index`` of the list credential at ``list_url``."""
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise ValueError("statusListIndex is an int >= 0")
    if id is not None and id == list_url:
        raise ValueError("an entry's id must not be the status list credential's URL")
    entry: dict[str, Any] = {} if id is None else {"id": id}
    entry.update({"type": "BitstringStatusListEntry", "statusPurpose": _purpose(purpose),
                  "statusListIndex": str(index), "statusListCredential": list_url})
    return entry


def status_indexes(index: IndexReader | sqlite3.Connection) -> list[tuple[bytes, int]]:
    """(credential registry key, status) for every anchored credential, in statusListIndex order. A rejected
    credential has status REVOKED in this view (it must never verify off the ledger)."""
    reader = index if isinstance(index, IndexReader) else IndexReader(index)
    status = reader.statuses()
    return [(k, int(status.get(k, Status.REVOKED))) for k in reader.anchored_in_order()]
