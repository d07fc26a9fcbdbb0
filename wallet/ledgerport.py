"""What the wallet needs of a ledger: two writes. The node's :class:`node.ledger.client.Ledger` provides them; the
wallet names only this protocol, so ``wallet`` does not import ``node`` (``node`` imports ``wallet``).

A write the contracts refuse raises :class:`contracts.errors.ContractRefusal` (nothing was written).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["LedgerPort"]


class LedgerPort(Protocol):
    @property
    def network(self) -> str:
        """The network name DIDs on this ledger carry (``did:eidln:<network>:…``)."""

    def head_time(self) -> int:
        """The timestamp of the chain's newest block (Unix seconds)."""

    def transact(self, account: Any, contract: str, fn: str, *args: Any, gas: int | None = None) -> Any:
        """Preflight, send and check one contract call from ``account`` (the wallet's ledger account)."""

    def anchor(self, account: Any, anchors: Sequence[dict[str, Any]]) -> Any:
        """Anchor signed credentials (``Anchor.to_abi()`` records) in the credential registry."""
