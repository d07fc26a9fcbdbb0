"""What one applied ledger event changed, computed once, for every reader of the ledger copy.

:func:`node.sync.apply.apply_event` writes an accepted contract event into the index tables and returns the
:data:`Change` values it made. The same values then update the in-memory views (the TN index versions of
:class:`node.sync.indexview.IndexView`, the attestation snapshot of :mod:`node.attest.snapshot`), so a rule such as
"a port of whole thousand-blocks moves the blocks, anything else moves single numbers" is decided here, once
(:func:`holding`), and never re-derived by a reader from the raw event rows.

Changes are small frozen values in chain order; a reader that cannot apply one rebuilds from the tables instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocab import BLOCK

__all__ = ["BLOCK", "Holding", "Anchored", "StatusSet", "DidChanged", "MembersChanged", "Change", "holding", "unhex"]


@dataclass(frozen=True, slots=True)
class Holding:
    """``count`` numbers from ``start`` are held by ``holder`` (lower-case address) since holding epoch ``since``;
    ``blocks``: as whole thousand-blocks (``start`` and ``count`` multiples of :data:`BLOCK`), else number by number
    (each overriding its block)."""

    start: int
    count: int
    holder: str
    since: int
    blocks: bool

    def block_numbers(self) -> range:
        return range(self.start // BLOCK, (self.start + self.count) // BLOCK)

    def numbers(self) -> range:
        return range(self.start, self.start + self.count)


@dataclass(frozen=True, slots=True)
class Anchored:
    """A credential this node accepted (a refused one makes no change), with the registry's record."""

    id: bytes
    kind: int
    issuer: bytes
    subject: bytes
    parent: bytes
    flags: int
    depth: int
    valid_from: int
    valid_until: int
    root_holder: str
    root_since: int
    tns: tuple[tuple[int, int], ...]  # (start, count)
    role: str

    @classmethod
    def from_event(cls, args: Mapping[str, Any], *, role: str) -> Anchored:
        """The record of a ``CredentialAnchored`` event's arguments (as the follower decodes them: ids hex)."""
        return cls(unhex(args["id"]), int(args["kind"]), unhex(args["issuer"]), unhex(args["subject"]),
                   unhex(args["parent"]), int(args["flags"]), int(args["depth"]), int(args["valid_from"]),
                   int(args["valid_until"]), str(args["root_holder"]), int(args["root_since"]),
                   tuple((int(r["start"]), int(r["count"])) for r in args["tns"]), role)


@dataclass(frozen=True, slots=True)
class StatusSet:
    """An accepted credential's new status (``contracts.vocab.Status``)."""

    id: bytes
    kind: int
    subject: bytes
    status: int


@dataclass(frozen=True, slots=True)
class DidChanged:
    """A DID's document changed (created, keys, services, controller, deactivated)."""

    ident: bytes


@dataclass(frozen=True, slots=True)
class MembersChanged:
    """The member list or a member's roles changed."""


Change = Holding | Anchored | StatusSet | DidChanged | MembersChanged


def unhex(v: str) -> bytes:
    """The bytes of a ``0x…`` hex value as the follower decodes event arguments (``bytes32`` ids, DIDs, blobs)."""
    return bytes.fromhex(v[2:] if v.startswith("0x") else v)


def holding(name: str, args: Mapping[str, Any], *, has_single: Callable[[int, int], bool]) -> Holding:
    """The one holdings rule, for the NumberAuthority events ``BlocksAssigned``, ``NumbersAssigned`` and
    ``NumbersPorted``. ``has_single(start, end)``: some number in ``[start, end)`` is held on its own now (then a
    port of whole blocks still moves number by number, as the contract does)."""
    start, count = int(args["start"]), int(args["count"])
    if name == "BlocksAssigned":
        return Holding(start, count, str(args["holder"]), int(args["epoch"]), True)
    if name == "NumbersAssigned":
        return Holding(start, count, str(args["holder"]), int(args["epoch"]), False)
    if name == "NumbersPorted":
        whole = start % BLOCK == 0 and count % BLOCK == 0 and not has_single(start, start + count)
        return Holding(start, count, str(args["to_holder"]), int(args["epoch"]), whole)
    raise ValueError(f"{name} is not a holdings event")
