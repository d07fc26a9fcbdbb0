"""The node's durable local copy of the ledger: SQLite (WAL, synchronous=FULL).

Event-sourced: every contract event the node has accepted is kept in ``events`` with its block; the other
tables are derived from them by :mod:`node.sync.apply` and can be rebuilt by replaying ``events`` (which is
what a reorg does). A whole batch of blocks is written in one SQLite transaction together with the new
sync position, so a process killed at any point loses and duplicates nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from node.errors import StoreError

__all__ = ["Store", "to_json", "SCHEMA_VERSION"]

SCHEMA_VERSION = 4  # 4: credentials.role

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash BLOB NOT NULL, timestamp INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_index INTEGER NOT NULL, tx_hash BLOB NOT NULL,
    timestamp INTEGER NOT NULL, contract TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL,
    PRIMARY KEY (block, log_index));
CREATE TABLE IF NOT EXISTS members (
    account TEXT PRIMARY KEY, roles INTEGER NOT NULL, spc TEXT NOT NULL, name TEXT NOT NULL,
    since_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS onboarded (
    account TEXT PRIMARY KEY, endorser TEXT NOT NULL, kind TEXT NOT NULL, since_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY, proposer TEXT NOT NULL, target TEXT NOT NULL, calldata BLOB NOT NULL,
    deadline INTEGER NOT NULL, votes INTEGER NOT NULL, state TEXT NOT NULL, created_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS votes (proposal_id INTEGER NOT NULL, voter TEXT NOT NULL, block INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, voter));
-- since = the holding epoch (NumberAuthority.epoch) at which the holder got the block / number
CREATE TABLE IF NOT EXISTS number_blocks (block INTEGER PRIMARY KEY, holder TEXT NOT NULL, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS numbers (tn INTEGER PRIMARY KEY, holder TEXT NOT NULL, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ports (
    block INTEGER NOT NULL, log_index INTEGER NOT NULL, start INTEGER NOT NULL, count INTEGER NOT NULL,
    from_holder TEXT NOT NULL, to_holder TEXT NOT NULL, epoch INTEGER NOT NULL, PRIMARY KEY (block, log_index));
CREATE TABLE IF NOT EXISTS dids (
    did BLOB PRIMARY KEY, controller TEXT NOT NULL, deactivated INTEGER NOT NULL,
    created_block INTEGER NOT NULL, updated_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    id BLOB PRIMARY KEY, kind INTEGER NOT NULL, issuer BLOB NOT NULL, subject BLOB NOT NULL, parent BLOB NOT NULL,
    flags INTEGER NOT NULL, depth INTEGER NOT NULL, valid_from INTEGER NOT NULL, valid_until INTEGER NOT NULL,
    root_holder TEXT NOT NULL, root_since INTEGER NOT NULL, status INTEGER NOT NULL, tns TEXT NOT NULL,
    credential BLOB NOT NULL,
    anchored_block INTEGER NOT NULL, anchored_at INTEGER NOT NULL, role TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS did_changes (
    did BLOB NOT NULL, block INTEGER NOT NULL, log_index INTEGER NOT NULL, timestamp INTEGER NOT NULL,
    name TEXT NOT NULL, args TEXT NOT NULL, PRIMARY KEY (did, block, log_index));
CREATE TABLE IF NOT EXISTS rejected_credentials (
    id BLOB PRIMARY KEY, block INTEGER NOT NULL, log_index INTEGER NOT NULL, code TEXT NOT NULL,
    message TEXT NOT NULL, status INTEGER NOT NULL, credential BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS credentials_subject ON credentials (subject);
CREATE INDEX IF NOT EXISTS credentials_issuer ON credentials (issuer);
CREATE INDEX IF NOT EXISTS credentials_parent ON credentials (parent);
"""

DERIVED_TABLES = ("members", "onboarded", "proposals", "votes", "number_blocks", "numbers", "ports", "dids",
                  "did_changes", "credentials", "rejected_credentials")


def to_json(value: Any) -> Any:
    """Event arguments as JSON-safe values (bytes as 0x-hex)."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


class Store:
    """One SQLite file. Not shared between processes for writing (one node process owns it)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if path != ":memory:" else path
        try:
            if isinstance(self.path, Path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the node index {path}: {exc}") from None
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(version) == 3:
            self._migrate_3_to_4()
        elif int(version) != SCHEMA_VERSION:
            raise StoreError(f"the node index {path} has schema {version}, this node needs {SCHEMA_VERSION}",
                             code="store.schema_mismatch")

    def _migrate_3_to_4(self) -> None:
        """Schema 4 adds ``credentials.role`` (the subject's role in a grant or delegation), read from the signed
        credentials the index already keeps; one transaction, so a node killed here migrates again next time."""
        from wallet.credentials import role_of_anchored

        with self.transaction() as db:
            db.execute("ALTER TABLE credentials ADD COLUMN role TEXT NOT NULL DEFAULT ''")
            rows = db.execute("SELECT id, kind, credential FROM credentials").fetchall()
            db.executemany("UPDATE credentials SET role = ? WHERE id = ?",
                           [(role_of_anchored(bytes(cred), kind), cid) for cid, kind, cred in rows])
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; rolled back on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # ------------------------------------------------------------------ meta

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    @property
    def synced_block(self) -> int | None:
        v = self.get_meta("synced_block")
        return None if v is None else int(v)

    def block_hash(self, number: int) -> bytes | None:
        row = self.db.execute("SELECT hash FROM blocks WHERE number = ?", (number,)).fetchone()
        return None if row is None else bytes(row[0])

    def known_blocks_desc(self, below: int) -> list[tuple[int, bytes]]:
        rows = self.db.execute("SELECT number, hash FROM blocks WHERE number <= ? ORDER BY number DESC",
                               (below,)).fetchall()
        return [(int(n), bytes(h)) for n, h in rows]

    # ------------------------------------------------------------------ reads

    def events(self, *, after: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        q = "SELECT block, log_index, tx_index, tx_hash, timestamp, contract, name, args FROM events"
        params: tuple[Any, ...] = ()
        if after is not None:
            q += " WHERE (block, log_index) > (?, ?)"
            params = after
        rows = self.db.execute(q + " ORDER BY block, log_index", params).fetchall()
        return [{"block": r[0], "log_index": r[1], "tx_index": r[2], "tx_hash": bytes(r[3]), "timestamp": r[4],
                 "contract": r[5], "name": r[6], "args": json.loads(r[7])} for r in rows]

    def count(self, table: str) -> int:
        if table not in DERIVED_TABLES + ("events", "blocks"):
            raise ValueError(table)
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every accepted event and every derived table, sorted: two indexes are equal iff dumps are."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table in ("events",) + DERIVED_TABLES:
            rows = self.db.execute(f"SELECT * FROM {table}").fetchall()
            out[table] = sorted(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows)
        out["synced_block"] = [(self.synced_block,)]
        return out
