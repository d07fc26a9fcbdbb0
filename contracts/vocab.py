"""The ledger's vocabulary on the Python side: the values the contracts encode (credential kinds, flags and status,
member roles), TN ranges with RFC 8226 TNAuthList semantics, the anchor record and the credential registry key.

The numbers here are fixed by the Vyper sources in ``src/`` (``CredentialRegistry.vy``, ``Members.vy``); both the
wallet (which builds and anchors credentials) and the node (which follows the chain) import them from here, so
neither imports the other for them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from contracts.errors import CodedError

__all__ = ["Kind", "Flags", "Status", "Role", "TNRange", "Anchor", "VocabError", "canonical_ranges", "credential_key",
           "parse_roles", "format_roles"]


class VocabError(CodedError, ValueError):
    """A value outside the ledger's vocabulary (codes are the contracts' own)."""

    CODES = frozenset({"numbers.bad_count", "members.bad_roles"})


class Kind(IntEnum):
    ENTERPRISE_IDENTITY = 1
    TN_RIGHT_TO_USE = 2
    TN_DELEGATION = 3


class Flags(IntFlag):
    NONE = 0
    MAY_ORIGINATE = 1
    MAY_DELEGATE = 2


class Status(IntEnum):
    UNKNOWN = 0
    ACTIVE = 1
    REVOKED = 2
    SUSPENDED = 3


@dataclass(frozen=True, slots=True, order=True)
class TNRange:
    """RFC 8226 TNAuthList semantics: ``count`` numbers from ``start`` (E.164 digits as an integer)."""

    start: int
    count: int = 1

    @property
    def end(self) -> int:  # exclusive
        return self.start + self.count

    def __contains__(self, tn: object) -> bool:
        return isinstance(tn, int) and self.start <= tn < self.end

    def to_abi(self) -> dict[str, int]:
        return {"start": self.start, "count": self.count}


def canonical_ranges(ranges: Iterable[TNRange]) -> tuple[TNRange, ...]:
    """Sort and merge overlapping or adjacent ranges: the form the credential registry requires."""
    out: list[TNRange] = []
    for r in sorted(ranges):
        if r.count < 1:
            raise VocabError(f"a number range needs a count of at least 1 (got {r.count})", code="numbers.bad_count")
        if out and r.start <= out[-1].end:
            last = out[-1]
            out[-1] = TNRange(last.start, max(last.end, r.end) - last.start)
        else:
            out.append(r)
    return tuple(out)


def credential_key(credential_id: str) -> bytes:
    """The registry key of a credential: SHA-256 of its ``id`` URI (UTF-8)."""
    return hashlib.sha256(credential_id.encode()).digest()


@dataclass(frozen=True, slots=True)
class Anchor:
    """What the credential registry records for one signed credential."""

    id: bytes
    kind: Kind
    issuer: bytes
    subject: bytes
    credential: bytes
    valid_from: int
    valid_until: int
    parent: bytes = b"\x00" * 32
    flags: Flags = Flags.NONE
    tns: Sequence[TNRange] = field(default_factory=tuple)

    def to_abi(self) -> dict[str, Any]:
        return {"id": self.id, "kind": int(self.kind), "issuer": self.issuer, "subject": self.subject,
                "parent": self.parent, "flags": int(self.flags), "valid_from": self.valid_from,
                "valid_until": self.valid_until, "tns": [r.to_abi() for r in self.tns],
                "credential": self.credential}


class Role(IntFlag):
    GOVERNOR = 1
    TNSP = 2
    RESP_ORG = 4
    TN_RESELLER = 8
    VETTER = 16
    OSP = 32


def parse_roles(text: str) -> Role:
    """``"TNSP,OSP"`` (case-insensitive, ``-`` or ``_``) -> ``Role.TNSP | Role.OSP``."""
    roles = Role(0)
    for part in text.split(","):
        name = part.strip().upper().replace("-", "_")
        if not name:
            continue
        if name not in Role.__members__:
            raise VocabError(f"unknown role {part.strip()!r}; roles are {', '.join(Role.__members__)}",
                            code="members.bad_roles")
        roles |= Role[name]
    if not roles:
        raise VocabError("no role given", code="members.bad_roles")
    return roles


def format_roles(value: int) -> str:
    return ",".join(r.name for r in Role if value & r and r.name) or "-"
