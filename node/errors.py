"""The node's error tree. Every error carries a machine-readable ``code`` and a sentence a person understands.

Codes are dotted and namespaced (``chain.unavailable``, ``members.not_governor``). Contract revert reasons
(``"members: not governor"``) become codes by :func:`code_from_reason`. The CLI and the REST layer translate
these once, at the edge.
"""

from __future__ import annotations

import re
from typing import ClassVar

from contracts.errors import CodedError, ContractRefusal

__all__ = [
    "NodeError",
    "ConfigError",
    "ChainError",
    "ChainUnavailable",
    "ChainIdMismatch",
    "ChainRefused",
    "ChainRevert",
    "LedgerRuleError",
    "TransactionFailed",
    "StoreError",
    "NotInSync",
    "code_from_reason",
]

_REASON = re.compile(r"^([a-z_]+): ([a-z0-9 _/-]+)$")


def code_from_reason(reason: str) -> str:
    """Turn a namespaced revert reason (``"members: not governor"``) into a code (``members.not_governor``)."""
    m = _REASON.match(reason.strip())
    if not m:
        return "ledger.reverted"
    return f"{m.group(1)}.{m.group(2).strip().replace(' ', '_').replace('-', '_').replace('/', '_')}"


class NodeError(CodedError):
    """Base of every error the node raises on purpose (part of the one tree of :class:`contracts.errors.CodedError`;
    its namespace is open: the contracts' revert reasons become codes)."""

    CODES: ClassVar[frozenset[str] | None] = None
    code = "node.error"


class ConfigError(NodeError):
    code = "config.invalid"


class ChainError(NodeError):
    code = "chain.error"


class ChainUnavailable(ChainError):
    """The chain cannot be reached (wrong RPC URL, node down, timeout)."""

    code = "chain.unavailable"


class ChainIdMismatch(ChainError):
    code = "chain.id_mismatch"


class ChainRefused(ChainError):
    """The chain behind the configured URL is not the one the node's index was built from (replaced: another
    deployment block; rewound: it lost blocks the node had synced; or reorganised deeper than the node
    accepts). The node refuses to follow it and keeps its index: codes ``chain.replaced``, ``chain.rewound``,
    ``chain.reorg_too_deep``."""

    code = "chain.replaced"


class ChainRevert(ChainError):
    """The EVM refused a call or transaction. ``reason`` is the raw revert reason string ("" if none)."""

    code = "ledger.reverted"

    def __init__(self, reason: str, *, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or (f"the ledger refused the operation: {reason}" if reason else
                                     "the ledger refused the operation (no reason given)"),
                         code=code_from_reason(reason) if reason else "ledger.reverted")


class LedgerRuleError(ChainRevert, ContractRefusal):
    """A contract rule refused a write (a namespaced revert reason); nothing was written."""


class TransactionFailed(ChainError):
    """A transaction was mined but did not succeed (status 0) or was never mined."""

    code = "chain.tx_failed"


class StoreError(NodeError):
    code = "store.error"


class NotInSync(NodeError):
    code = "sync.lagging"
