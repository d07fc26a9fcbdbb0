"""Typed values of the credential registry and number authority (kinds, flags, status, TN ranges, anchors)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from node.errors import NodeError

__all__ = ["Kind", "Flags", "Status", "TNRange", "Anchor", "canonical_ranges", "credential_key"]


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
            raise NodeError(f"a number range needs a count of at least 1 (got {r.count})", code="numbers.bad_count")
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
