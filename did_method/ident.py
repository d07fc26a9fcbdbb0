"""did:eidln identifiers: 16 self-certifying bytes, as the DID registry contract checks them."""

from __future__ import annotations

import hashlib
from enum import IntEnum

__all__ = ["KeyType", "MULTICODEC_PREFIX", "self_certifying_id"]


class KeyType(IntEnum):
    ED25519 = 1
    P256 = 2


# multicodec varint prefixes: ed25519-pub 0xed, p256-pub 0x1200
MULTICODEC_PREFIX = {KeyType.ED25519: b"\xed\x01", KeyType.P256: b"\x80\x24"}


def self_certifying_id(key_type: KeyType, public_key: bytes) -> bytes:
    """First 16 bytes of sha256(multicodec prefix || public key) of a DID's first key."""
    return hashlib.sha256(MULTICODEC_PREFIX[key_type] + public_key).digest()[:16]
