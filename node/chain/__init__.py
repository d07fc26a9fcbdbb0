"""Chain backends behind one interface."""

from node.chain.base import DEFAULT_GAS, BlockRef, Call, ChainBackend, Log, Receipt

__all__ = ["DEFAULT_GAS", "BlockRef", "Call", "ChainBackend", "Log", "Receipt"]
