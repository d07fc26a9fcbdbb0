"""SQLite key-value store for py-evm's chain database, with block-sized write batches.

py-evm 0.12 ships only an in-memory key-value store (the LevelDB backend is gone), but its
:class:`eth.db.atomic.AtomicDB` wraps any :class:`eth.db.backends.base.BaseDB`. :class:`SQLiteKV` is that
``BaseDB``: one ``kv(k, v)`` table in a SQLite file.

**Writes are buffered in memory** and reach SQLite only in :meth:`SQLiteKV.flush`, which the owner calls
inside its own SQLite transaction (together with any rows of its own, e.g. a log index). So a block is either
entirely on disk or not at all: py-evm writes trie nodes, the header, the body, receipts, the transaction
index and the canonical-head pointer at different moments while it mines and imports a block, and a crash
between two of them must not leave half a block. :meth:`SQLiteKV.discard` throws a failed block away.
Reads see the buffer first, then the table.

The connection uses WAL with ``synchronous=FULL`` (a committed block survives power loss) and
``locking_mode=EXCLUSIVE``: the first write takes a lock held until close, so a second process (or a second
handle in this one) cannot open the same chain and fork it behind the first one's back.
"""

from __future__ import annotations

import pathlib
import sqlite3
from collections.abc import Iterable

from eth.db.backends.base import BaseDB

__all__ = ["SQLiteKV", "open_sqlite"]


def open_sqlite(path: pathlib.Path | None) -> sqlite3.Connection:
    """Open (or create) the database file; ``None`` opens a private in-memory database.

    Autocommit mode (``isolation_level=None``): transactions are opened explicitly with ``BEGIN IMMEDIATE``.
    Raises :class:`sqlite3.OperationalError` ("database is locked") if another handle holds the file.
    """
    target = ":memory:" if path is None else str(path)
    conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False, timeout=0.5)
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        if path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("CREATE TABLE IF NOT EXISTS kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        # An empty write transaction takes the exclusive lock now rather than at the first block.
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


class SQLiteKV(BaseDB):
    """A py-evm ``BaseDB`` over the ``kv`` table of ``conn``, writes held back until :meth:`flush`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._pending: dict[bytes, bytes | None] = {}

    # -- BaseDB -------------------------------------------------------------------------------------------

    def __getitem__(self, key: bytes) -> bytes:
        if key in self._pending:
            value = self._pending[key]
            if value is None:  # deleted
                raise KeyError(key)
            return value
        row = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return bytes(row[0])

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[bytes(key)] = bytes(value)

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self._pending[bytes(key)] = None

    def _exists(self, key: bytes) -> bool:
        if key in self._pending:
            return self._pending[key] is not None
        return self._conn.execute("SELECT 1 FROM kv WHERE k = ?", (key,)).fetchone() is not None

    # -- batching -----------------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        return bool(self._pending)

    def flush(self) -> None:
        """Write the buffered changes. The caller must hold an open SQLite transaction and commit it."""
        upserts: Iterable[tuple[bytes, bytes]] = ((k, v) for k, v in self._pending.items() if v is not None)
        deletes = [(k,) for k, v in self._pending.items() if v is None]
        self._conn.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", upserts)
        if deletes:
            self._conn.executemany("DELETE FROM kv WHERE k = ?", deletes)
        self._pending.clear()

    def discard(self) -> None:
        """Forget every buffered change (a block that failed to mine)."""
        self._pending.clear()
