"""The DID history the resolver replays, read from the node's index (``did_changes``).

Each row's arguments are JSON the node wrote from a chain event (strings the DID's controller chose among
them), read back with :func:`wallet.strictjson.loads`: at most 16 KiB (the largest DID event, a service with
a 256-character endpoint, is well under 2 KiB even with every character escaped) and 8 levels (the events are
flat). A row it refuses is an :class:`~did_method.errors.InternalError`, which the resolver reports as
``internalError``; the sync's credential checks (:class:`node.sync.verify.ConnectionHistory`) read rows the
same way.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from did_method.document import Change
from did_method.errors import InternalError
from node.sync.indexdb import IndexReader
from wallet import strictjson

__all__ = ["IndexHistory", "change_of_row"]

_MAX_ARGS_BYTES = 16 * 1024
_MAX_ARGS_DEPTH = 8


def change_of_row(row: tuple[Any, ...]) -> Change:
    """A :class:`Change` from a ``(block, log_index, timestamp, name, args)`` row of ``did_changes``."""
    block, log_index, timestamp, name, args = row
    try:
        parsed = strictjson.loads(args, max_bytes=_MAX_ARGS_BYTES, max_depth=_MAX_ARGS_DEPTH)
    except strictjson.JsonError as exc:
        raise InternalError(f"the index row of {name} at block {block} is not readable JSON ({exc.code}); "
                            "re-sync the index") from None
    if not isinstance(parsed, dict):
        raise InternalError(f"the index row of {name} at block {block} is not a JSON object; re-sync the index")
    return Change(block, log_index, timestamp, name, parsed)


class IndexHistory:
    """Read-only view of ``did_changes``; its own SQLite connection, safe to share between threads."""

    def __init__(self, index_path: Path | str) -> None:
        if str(index_path) == ":memory:":
            raise ValueError("IndexHistory needs the index file (a separate read connection)")
        self._db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, check_same_thread=False)
        self._reader = IndexReader(self._db)
        self._lock = threading.Lock()

    def changes(self, ident: bytes) -> list[Change]:
        with self._lock:
            rows = self._reader.did_changes(ident)
        return [change_of_row(row) for row in rows]

    def close(self) -> None:
        self._db.close()
