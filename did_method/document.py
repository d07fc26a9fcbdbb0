"""Build a did:eidln DID document by replaying the DID's ledger changes (SPEC.md, "Read").

Pure: the changes come in (chain order), the document and its metadata go out. The ledger events are the
only source; nothing else is trusted or fetched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from did_method.errors import MultikeyError
from did_method.ident import KeyType
from did_method.multikey import encode_public_key
from did_method.syntax import is_valid_fragment
from did_method.timefmt import parse_date_time_stamp, xml_datetime

__all__ = ["Change", "DidState", "VerificationKey", "replay", "render", "xml_datetime", "parse_date_time_stamp",
           "RELATIONSHIPS", "CONTEXT"]

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
# bit -> DID Core verification relationship, in the order documents list them
RELATIONSHIPS = ((1, "authentication"), (2, "assertionMethod"), (4, "keyAgreement"),
                 (8, "capabilityInvocation"), (16, "capabilityDelegation"))


@dataclass(frozen=True, slots=True)
class Change:
    """One DID registry event as the node's index stores it (arguments in JSON form: bytes as 0x-hex)."""

    block: int
    log_index: int
    timestamp: int
    name: str
    args: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class VerificationKey:
    fragment: str
    key_type: KeyType
    public_key: bytes
    relationships: int
    added_block: int
    added_at: int
    revoked_block: int | None = None
    revoked_at: int | None = None

    def active_at(self, timestamp: int) -> bool:
        """Valid for a signature made at ``timestamp`` (added at or before it, not revoked by then)."""
        return self.added_at <= timestamp and (self.revoked_at is None or timestamp < self.revoked_at)


@dataclass(slots=True)
class DidState:
    controller: str = ""
    deactivated: bool = False
    created: int = 0
    created_block: int = 0
    updated: int | None = None
    version_block: int = 0
    keys: dict[str, VerificationKey] = field(default_factory=dict)  # insertion order = document order
    services: dict[str, tuple[str, str]] = field(default_factory=dict)


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def replay(changes: Sequence[Change]) -> DidState:
    """Apply changes in order. Revoked keys stay in ``keys`` with their revocation time (key history)."""
    st = DidState()
    for ch in changes:
        a = ch.args
        if ch.name == "DIDCreated":
            st.controller, st.created, st.created_block = a["controller"], ch.timestamp, ch.block
        elif ch.name == "KeyAdded":
            st.keys[a["fragment"]] = VerificationKey(a["fragment"], KeyType(a["key_type"]), _bytes(a["public_key"]),
                                                     int(a["relationships"]), ch.block, ch.timestamp)
        elif ch.name == "KeyRevoked":
            k = st.keys[a["fragment"]]
            st.keys[a["fragment"]] = VerificationKey(k.fragment, k.key_type, k.public_key, k.relationships,
                                                     k.added_block, k.added_at, ch.block, ch.timestamp)
        elif ch.name == "ServiceSet":
            st.services[a["fragment"]] = (a["service_type"], a["endpoint"])
        elif ch.name == "ServiceRemoved":
            st.services.pop(a["fragment"], None)
        elif ch.name == "ControllerChanged":
            st.controller = a["controller"]
        elif ch.name == "DIDDeactivated":
            st.deactivated = True
        else:
            continue
        st.version_block = ch.block
        if ch.block != st.created_block:
            st.updated = ch.timestamp
    return st


_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$")


def _multikey(k: VerificationKey) -> str | None:
    try:
        return encode_public_key(k.key_type, k.public_key)
    except MultikeyError:
        return None


def render(did: str, st: DidState) -> dict[str, Any]:
    """The DID document (JSON-LD, ``application/did+ld+json``) of a non-deactivated state.

    Entries the contract could not vet are left out (SPEC.md 5.3): a fragment outside the method's
    fragment syntax, a key that is not a valid key of its type, a service endpoint that is not an
    absolute URI. Only the DID that holds such an entry is affected.
    """
    live: list[tuple[VerificationKey, str]] = []
    for k in st.keys.values():
        mk = _multikey(k) if k.revoked_block is None and is_valid_fragment(k.fragment) else None
        if mk is not None:
            live.append((k, mk))
    doc: dict[str, Any] = {"@context": list(CONTEXT), "id": did}
    if live:  # never an empty array (SPEC.md 5.3)
        doc["verificationMethod"] = [{"id": f"{did}#{k.fragment}", "type": "Multikey", "controller": did,
                                      "publicKeyMultibase": mk} for k, mk in live]
    for bit, name in RELATIONSHIPS:
        refs = [f"{did}#{k.fragment}" for k, _ in live if k.relationships & bit]
        if refs:
            doc[name] = refs
    services = [{"id": f"{did}#{frag}", "type": typ, "serviceEndpoint": endpoint}
                for frag, (typ, endpoint) in st.services.items()
                if is_valid_fragment(frag) and _ABSOLUTE_URI.match(endpoint)]
    if services:
        doc["service"] = services
    return doc
