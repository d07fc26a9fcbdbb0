"""Sync: follow the chain into the node's SQLite index, verify what is anchored, and keep the TN index current."""
