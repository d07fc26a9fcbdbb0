"""Shared fixtures for the Data Integrity tests: the W3C vc-di-eddsa vectors, their key, a did:key resolver."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from did_method.ident import KeyType
from did_method.multikey import decode_public_key
from did_method.syntax import b58decode
from wallet.keys import Ed25519Key

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "w3c"
# The verification method of every W3C vc-di-eddsa vector: the did:key of keyPair.json, fragment = the key.
VECTOR_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_VM = VECTOR_DID + "#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_CREATED = "2023-02-24T23:36:38Z"


def vector_bytes(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def vector_json(name: str) -> Any:
    return json.loads(vector_bytes(name))


def vector_key() -> Ed25519Key:
    """The W3C test key: ``privateKeyMultibase`` is ``z`` + base58btc(0x8026 || 32-byte seed)."""
    secret = b58decode(vector_json("keyPair.json")["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"
    return Ed25519Key.from_seed(secret[2:])


def did_key_resolver(vm: str, created: datetime) -> tuple[KeyType, bytes]:
    """A did:key resolver for ``did:key:<mb>#<mb>`` URLs (the key is in the identifier; time plays no part)."""
    did, _, fragment = vm.partition("#")
    if not did.startswith("did:key:") or fragment != did[len("did:key:"):]:
        raise LookupError(f"not a did:key key URL: {vm!r}")
    return decode_public_key(fragment)
