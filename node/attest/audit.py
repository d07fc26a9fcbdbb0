"""The attestation audit log: every decision, append-only, queryable by ``origid`` for traceback.

One SQLite file (WAL). The call path only enqueues the decision object; a writer thread serializes it and
commits in groups (everything queued, up to 512 decisions per transaction, one ``executemany``), so a decision
costs the caller a queue put, not JSON encoding and an fsync. The writer waits ``group_delay`` (5 ms) after the
first decision of a group so that a busy node writes groups, not single rows. Trade-off, stated:
a power cut can lose the decisions of the last group commit (milliseconds); :meth:`AuditLog.flush` waits for the
queue to be written and every query flushes first, so what was decided is always what is read back. Rows are
never updated or deleted by the node (retention is an operator's job: ``DELETE … WHERE decided_at < …``).

**No decision is lost to another one.** A row is made safe before it is written: text that is not Unicode (a lone
surrogate from a caller) is stored backslash-escaped, a value SQLite cannot store becomes its JSON text, and a record
whose own ``audit_row()`` fails is still written with its ``origid`` and the failure as its reason. When a group
commit fails (the database is locked, the disk is full, an I/O error), the group is rolled back and its rows are
written one by one; rows that still fail wait in a bounded retry buffer (:data:`RETRY_LIMIT`) and are retried
before anything new, every ``retry_delay`` seconds, until they are written. Counters: ``failed`` (row writes that
failed), ``pending`` (rows waiting), ``dropped`` (rows given up because the retry buffer was full; logged as errors),
``written``, ``malformed`` (records stored with reason ``audit.row_failed``). ``/metrics`` exports them and
``/readyz`` reports rows pending.
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
    attest TEXT NOT NULL, mechanism TEXT, reasons TEXT NOT NULL, evidence TEXT, ledger_position TEXT,
    identity TEXT, identities TEXT, rcd TEXT, entity TEXT);
CREATE INDEX IF NOT EXISTS decisions_orig ON decisions (orig, decided_at);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (decided_at);
"""
_INDEXES = "CREATE INDEX IF NOT EXISTS decisions_entity ON decisions (entity, decided_at);"
_COLS = ("origid", "decided_at", "trunk", "orig", "dest", "attest", "mechanism", "reasons", "evidence",
         "ledger_position", "identity", "identities", "rcd", "entity")
_JSON_COLS = ("dest", "reasons", "evidence", "ledger_position", "identities", "rcd")
_ADDED = ("identity", "identities", "rcd", "entity")  # columns a log written before they existed lacks: added on open
_INSERT = f"INSERT OR IGNORE INTO decisions ({', '.join(_COLS)}) VALUES ({', '.join('?' * len(_COLS))})"
RETRY_LIMIT = 100_000  # decisions kept for retry while the database refuses writes (about 100 MB at most)


def _text(value: str) -> str:
    """``value`` as storable text: lone surrogates (not Unicode) become ``\\udxxx`` escapes."""
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("ascii", "replace")


def _storable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    out: list[Any] = []
    for v in row:
        if isinstance(v, str):
            out.append(_text(v))
        elif v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
            out.append(v)
        else:
            out.append(_text(json.dumps(v, default=str)))
    return tuple(out)


def _safe_row(record: AuditRecord) -> tuple[tuple[Any, ...], bool]:
    """The record's row, made storable, and whether the record described itself; a record that cannot make its row
    is kept with its ``origid`` and the failure as its reason (code ``audit.row_failed``)."""
    try:
        row = tuple(record.audit_row())
        if len(row) != len(_COLS):
            raise ValueError(f"{len(row)} columns")
    except Exception as exc:  # a defect in a record type: keep what identifies the decision, never drop it
        log.exception("audit log: a decision could not describe itself; storing its origid and the failure")
        origid = getattr(record, "origid", None)
        row = (str(origid) if origid else f"unknown-{id(record):x}-{time.time_ns()}", time.time(),
               str(getattr(record, "trunk", "")), str(getattr(record, "orig", "")), "[]",
               str(getattr(record, "attest", "?")), None,
               json.dumps([{"code": "audit.row_failed", "text": f"{type(exc).__name__}: {exc}"[:300]}]), None, None,
               None, None, None, None)
        return _storable(row), False
    return _storable(row), True


class AuditRecord(Protocol):
    def audit_row(self) -> tuple[Any, ...]:
        """The values of the columns ``origid, decided_at, trunk, orig, dest, attest, mechanism, reasons,
        evidence, ledger_position, identity, identities, rcd`` (dest, reasons, evidence, ledger_position,
        identities and rcd as JSON text): ``identity`` is the OSP's own SHAKEN Identity header, ``identities`` the
        enterprise Identity headers the call carried, as received (so that a decision can be proven later), ``rcd``
        what the OSP passed on (``{"rcd", "rcdi", "crn"}``)."""
        ...


class AuditLog:
    def __init__(self, path: Path, *, group_delay: float = 0.005, retry_delay: float = 1.0,
                 busy_timeout: float = 5.0) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=busy_timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(decisions)")}
            for column in _ADDED:
                if column not in have:
                    self._db.execute(f"ALTER TABLE decisions ADD COLUMN {column} TEXT")
            self._db.execute(_INDEXES)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the audit log {path}: {exc}") from None
        self._read = threading.Lock()
        self._queue: queue.Queue[AuditRecord | None] = queue.Queue()  # None: stop
        self.duplicates = 0
        self.written = 0  # rows committed (duplicates included)
        self.failed = 0  # row writes that failed (each is retried; see the module notice)
        self.dropped = 0  # rows given up because the retry buffer was full
        self.malformed = 0  # records whose audit_row() failed (stored with reason audit.row_failed)
        self._retry: list[tuple[Any, ...]] = []
        self._closed = False
        self.group_delay = group_delay
        self.retry_delay = retry_delay
        self._writer = threading.Thread(target=self._run, name="eidln-audit", daemon=True)
        self._writer.start()

    def append(self, record: AuditRecord) -> None:
        """Queue one decision; the writer thread calls its ``audit_row()``."""
        if self._closed:
            raise StoreError("the audit log is closed")
        self._queue.put(record)

    @property
    def pending(self) -> int:
        """Rows waiting in the retry buffer (the database refused them; they are retried)."""
        return len(self._retry)

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.retry_delay if self._retry else None)
            except queue.Empty:
                self._write([])  # nothing new: retry what is pending
                continue
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
                rows = []
                for r in batch:
                    row, ok = _safe_row(r)
                    rows.append(row)
                    self.malformed += not ok
                self._write(rows)
            except Exception:  # never wedge flush(): whatever happened, the queue is marked done below
                log.exception("audit log: unexpected failure writing %d decision(s)", len(batch))
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _write(self, rows: list[tuple[Any, ...]]) -> None:
        """Commit the retry buffer and ``rows``: as one group if possible, else row by row (see the notice)."""
        rows = self._retry + rows
        self._retry = []
        if not rows:
            return
        try:
            self._commit(rows)
            return
        except sqlite3.Error:
            pass
        for row in rows:  # isolate: one row that cannot be written does not take its group with it
            try:
                self._commit([row])
            except sqlite3.Error as exc:
                self.failed += 1
                if len(self._retry) < RETRY_LIMIT:
                    self._retry.append(row)
                else:
                    self.dropped += 1
                    log.error("audit log: retry buffer full, decision %s dropped (%s)", row[0], exc)
        if self._retry:
            log.warning("audit log: %d decision(s) waiting to be written (%s)", len(self._retry),
                        "database refuses writes")

    def _commit(self, rows: list[tuple[Any, ...]]) -> None:
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
            self.written += len(rows)
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
            for column in _JSON_COLS:
                d[column] = json.loads(d[column]) if d[column] else None
            out.append(d)
        return out

    def by_origid(self, origid: str) -> dict[str, Any] | None:
        rows = self._rows("WHERE origid = ?", (origid,), 1)
        return rows[0] if rows else None

    def query(self, *, orig: str | None = None, since: float | None = None, until: float | None = None,
              attest: str | None = None, entity: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Decisions newest first, filtered by calling number, time window, attestation level and the entity the
        evidence identifies (a DID, a Lemon Twist entity id, a certificate subject: ``Decision.entity``)."""
        clauses, params = [], []
        for sql, value in (("orig = ?", orig), ("decided_at >= ?", since), ("decided_at < ?", until),
                           ("attest = ?", attest), ("entity = ?", entity)):
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
