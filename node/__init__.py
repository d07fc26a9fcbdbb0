"""EIDLN node: chain backends, ledger client, sync into a durable index, CLI."""

__version__ = "0.1.0"
