"""The DID history the resolver replays, read from the node's index (``did_changes``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from did_method.document import Change

__all__ = ["IndexHistory"]


class IndexHistory:
    """Read-only view of ``did_changes``; its own SQLite connection, safe to share between threads."""

    def __init__(self, index_path: Path | str) -> None:
        if str(index_path) == ":memory:":
            raise ValueError("IndexHistory needs the index file (a separate read connection)")
        self._db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()

    def changes(self, ident: bytes) -> list[Change]:
        with self._lock:
            rows = self._db.execute("SELECT block, log_index, timestamp, name, args FROM did_changes WHERE did = ? "
                                    "ORDER BY block, log_index", (ident,)).fetchall()
        return [Change(b, i, t, n, json.loads(a)) for b, i, t, n, a in rows]

    def close(self) -> None:
        self._db.close()
