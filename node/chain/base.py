"""One interface for every chain the node can use (embedded py-evm, JSON-RPC to anvil or Besu).

The backends speak plain values (bytes, ints, checksummed address strings); contract ABI encoding lives one
level up in :mod:`node.ledger`. Every backend uses **zero fees and explicit gas** (a permissioned chain with a
free-gas genesis); accounts need no balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # annotations only: reading the chain must not import eth_account (and the BLS code it loads)
    from eth_account.signers.local import LocalAccount

__all__ = ["Call", "Log", "Receipt", "BlockRef", "ChainBackend", "DEFAULT_GAS"]

DEFAULT_GAS = 6_000_000


@dataclass(frozen=True, slots=True)
class Call:
    """One transaction to send. ``to=None`` deploys ``data`` as init code."""

    to: str | None
    data: bytes
    gas: int = DEFAULT_GAS


@dataclass(frozen=True, slots=True)
class Log:
    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


@dataclass(frozen=True, slots=True)
class Receipt:
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    status: int  # 1 success, 0 reverted
    gas_used: int
    contract_address: str | None
    logs: tuple[Log, ...]


@dataclass(frozen=True, slots=True)
class BlockRef:
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


@runtime_checkable
class ChainBackend(Protocol):
    """What the node needs from a chain.

    Errors: :class:`node.errors.ChainUnavailable` when the chain cannot be reached,
    :class:`node.errors.ChainRevert` (with the raw revert reason) when ``call`` reverts,
    :class:`node.errors.TransactionFailed` when a sent transaction is not mined or reverts.
    """

    kind: str  # "embedded" or "jsonrpc"

    def chain_id(self) -> int: ...

    def head(self) -> int:
        """Number of the newest block."""
        ...

    def block(self, number: int) -> BlockRef: ...

    def call(self, sender: str, to: str, data: bytes, *, block: int | None = None) -> bytes:
        """``eth_call`` at ``block`` (latest if None); raises ChainRevert with the reason on revert."""
        ...

    def send(self, account: LocalAccount, calls: Sequence[Call]) -> list[Receipt]:
        """Sign ``calls`` with consecutive nonces, submit them and wait until all are mined.

        Not atomic across calls (each is its own transaction); the embedded backend mines them into one
        block. A reverted transaction comes back with ``status == 0``; it is the caller's job to preflight
        with :meth:`call` so that a rule violation is refused before anything is sent.
        """
        ...

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[Log]:
        """All logs emitted by ``addresses`` in blocks ``from_block..to_block`` inclusive, in chain order."""
        ...

    def close(self) -> None: ...
