"""Chain backends behind one interface: :class:`EmbeddedChain` (in-process, durable) and
:class:`JsonRpcChain` (anvil, Besu). Import the backend modules directly to avoid loading both."""

from node.chain.base import DEFAULT_GAS, BlockRef, Call, ChainBackend, Log, Receipt

__all__ = ["DEFAULT_GAS", "BlockRef", "Call", "ChainBackend", "Log", "Receipt"]
