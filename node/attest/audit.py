"""The attestation audit log: every decision, append-only, queryable by ``origid`` for traceback.

One SQLite file (WAL). The call path only enqueues the decision object; a writer thread serializes it and
commits in groups (everything queued, up to 512 decisions per transaction, one ``executemany``), so a decision
costs the caller a queue put, not JSON encoding and an fsync. The writer waits ``group_delay`` (5 ms) after the
first decision of a group so that a busy node writes groups, not single rows. Trade-off, stated:
a power cut can lose the decisions of the last group commit (milliseconds); :meth:`AuditLog.flush` waits for the
queue to be written and every query flushes first, so what was decided is always what is read back. Rows are
never updated or deleted by the node (retention is an operator's job: ``DELETE … WHERE decided_at < …``).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from node.errors import StoreError

__all__ = ["AuditLog", "AuditRecord"]

log = logging.getLogger("eidln.audit")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    origid TEXT PRIMARY KEY, decided_at REAL NOT NULL, trunk TEXT NOT NULL, orig TEXT NOT NULL, dest TEXT NOT NULL,
    attest TEXT NOT NULL, mechanism TEXT, reasons TEXT NOT NULL, evidence TEXT, ledger_position TEXT);
CREATE INDEX IF NOT EXISTS decisions_orig ON decisions (orig, decided_at);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (decided_at);
"""
_COLS = ("origid", "decided_at", "trunk", "orig", "dest", "attest", "mechanism", "reasons", "evidence",
         "ledger_position")
_INSERT = f"INSERT OR IGNORE INTO decisions ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"


class AuditRecord(Protocol):
    def audit_row(self) -> tuple[Any, ...]:
        """The values of the columns ``origid, decided_at, trunk, orig, dest, attest, mechanism, reasons,
        evidence, ledger_position`` (dest, reasons, evidence and ledger_position as JSON text)."""
        ...


class AuditLog:
    def __init__(self, path: Path, *, group_delay: float = 0.005) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the audit log {path}: {exc}") from None
        self._read = threading.Lock()
        self._queue: queue.Queue[AuditRecord | None] = queue.Queue()  # None: stop
        self.duplicates = 0
        self.failed = 0  # decisions a write error lost (logged; visible to metrics and tests)
        self._closed = False
        self.group_delay = group_delay
        self._writer = threading.Thread(target=self._run, name="eidln-audit", daemon=True)
        self._writer.start()

    def append(self, record: AuditRecord) -> None:
        """Queue one decision; the writer thread calls its ``audit_row()``."""
        if self._closed:
            raise StoreError("the audit log is closed")
        self._queue.put(record)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[AuditRecord] = []
            stop = item is None
            if item is not None:
                batch.append(item)
                time.sleep(self.group_delay)  # let a group gather: one transaction and no wake-up per decision
            while not stop and len(batch) < 512:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                else:
                    batch.append(nxt)
            try:
                if batch:
                    self._write(batch)
            except (sqlite3.Error, ValueError, TypeError):  # disk full, I/O error, a bad row: never wedge flush()
                self.failed += len(batch)
                log.exception("audit log: %d decision(s) not written", len(batch))
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _write(self, batch: list[AuditRecord]) -> None:
        rows = [r.audit_row() for r in batch]
        with self._read:
            before = self._db.total_changes
            try:
                self._db.execute("BEGIN")
                self._db.executemany(_INSERT, rows)
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self.duplicates += len(rows) - (self._db.total_changes - before)

    def flush(self) -> None:
        """Wait until everything appended so far is committed."""
        self._queue.join()

    def _rows(self, where: str, params: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
        self.flush()
        with self._read:
            rows = self._db.execute(f"SELECT {', '.join(_COLS)} FROM decisions {where} ORDER BY decided_at DESC "
                                    f"LIMIT ?", (*params, limit)).fetchall()
        out = []
        for r in rows:
            d = dict(zip(_COLS, r, strict=True))
            d["dest"] = json.loads(d["dest"])
            d["reasons"] = json.loads(d["reasons"])
            d["evidence"] = json.loads(d["evidence"]) if d["evidence"] else None
            out.append(d)
        return out

    def by_origid(self, origid: str) -> dict[str, Any] | None:
        rows = self._rows("WHERE origid = ?", (origid,), 1)
        return rows[0] if rows else None

    def query(self, *, orig: str | None = None, since: float | None = None, until: float | None = None,
              attest: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Decisions newest first, filtered by calling number, time window and attestation level."""
        clauses, params = [], []
        for sql, value in (("orig = ?", orig), ("decided_at >= ?", since), ("decided_at < ?", until),
                           ("attest = ?", attest)):
            if value is not None:
                clauses.append(sql)
                params.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self._rows(where, tuple(params), max(1, min(limit, 1000)))

    def close(self) -> None:
        self._closed = True
        if self._writer.is_alive():
            self._queue.put(None)
            self._writer.join()
        self._db.close()
