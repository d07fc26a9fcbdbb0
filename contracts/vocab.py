"""The ledger's vocabulary on the Python side: the values the contracts encode (credential kinds, flags and status,
member roles), TN ranges with RFC 8226 TNAuthList semantics, the anchor record and the credential registry key.

The numbers here are fixed by the Vyper sources in ``src/`` (``CredentialRegistry.vy``, ``Members.vy``,
``NumberAuthority.vy``; ``tests/contracts/test_vocab.py`` compares them); both the wallet (which builds and anchors
credentials) and the node (which follows the chain) import them from here, so neither imports the other for them,
and no module writes ``kind == 3``, ``roles & 16`` or ``// 1000`` beside them.

Telephone numbers: :func:`strip_tn` is the one canonicalizer of a number as people and SIP write it (a leading
``+`` and visual separators dropped); :func:`parse_tn` turns it into the ledger's form, an E.164 number as an
integer within ``NumberAuthority``'s bounds. The PASSporT form (digits, ``*`` and ``#``) is
:func:`wallet.passport.tn.canonical_tn`, on top of :func:`strip_tn`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any

from contracts.errors import CodedError

__all__ = ["Kind", "Flags", "Status", "Role", "TNRange", "Anchor", "VocabError", "canonical_ranges", "credential_key",
           "parse_roles", "format_roles", "strip_tn", "parse_tn", "BLOCK", "MIN_TN", "MAX_TN", "MAX_RANGE_COUNT",
           "MAX_CREDENTIAL", "MAX_CHAIN_DEPTH", "NUMBER_HOLDER_ROLES"]

# NumberAuthority.vy
BLOCK = 1000  # numbers in a thousand-block (BlocksAssigned moves whole blocks)
MIN_TN = 1_000_000  # the smallest number: 7 digits
MAX_TN = 999_999_999_999_999  # the largest: 15 digits (E.164)
MAX_RANGE_COUNT = 100_000  # the most numbers in one range
# CredentialRegistry.vy
MAX_CREDENTIAL = 6144  # the most bytes of a credential the registry stores
MAX_CHAIN_DEPTH = 8  # MAX_DEPTH: delegations below a grant (a chain has at most MAX_CHAIN_DEPTH + 1 links)


class VocabError(CodedError, ValueError):
    """A value outside the ledger's vocabulary (codes are the contracts' own)."""

    CODES = frozenset({"numbers.bad_count", "numbers.bad_number", "members.bad_roles"})


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


_TN_SEPARATORS = re.compile(r"[\s().-]")  # RFC 3966 visual separators, and white space
_E164 = re.compile(r"[0-9]{7,15}")


def strip_tn(text: str) -> str:
    """A telephone number without its visual separators (white space, ``-``, ``.``, parentheses) and its leading
    ``+``: ``"+1 (202) 555-0100"`` -> ``"12025550100"``. What is left is not checked (callers check their form)."""
    tn = _TN_SEPARATORS.sub("", text)
    return tn[1:] if tn.startswith("+") else tn


def parse_tn(text: object) -> int:
    """An E.164 number as the ledger holds it: :func:`strip_tn`, then 7 to 15 ASCII digits within
    ``MIN_TN``..``MAX_TN`` (no leading zero), as an integer. Else ``numbers.bad_number``, the contract's code."""
    digits = strip_tn(text) if isinstance(text, str) else ""
    if not _E164.fullmatch(digits) or not MIN_TN <= int(digits) <= MAX_TN:
        raise VocabError(f"{str(text)[:40]!r} is not an E.164 number (7 to 15 digits, optional '+')",
                         code="numbers.bad_number")
    return int(digits)


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


NUMBER_HOLDER_ROLES = Role.TNSP | Role.RESP_ORG  # who may hold numbers and issue grants (CredentialRegistry.vy)


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
