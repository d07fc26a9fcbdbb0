"""The replay cache (window, capacity) and the audit log (group commits, queries, restart)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from node.attest import AuditLog, ReplayCache
from node.errors import StoreError


def test_replay_window_and_capacity() -> None:
    rc = ReplayCache(capacity=3)
    assert rc.check_and_add(b"a", now=100, until=160)
    assert not rc.check_and_add(b"a", now=160, until=220)  # still inside its window
    assert rc.check_and_add(b"a", now=161, until=221)  # expired: the token would be stale anyway
    for sig in (b"b", b"c", b"d"):
        assert rc.check_and_add(sig, now=161, until=221)
    assert len(rc) == 3 and rc.evicted == 1  # the oldest live entry gave way


def test_replay_is_atomic_under_threads() -> None:
    rc = ReplayCache()
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(rc.check_and_add(b"same", now=1, until=9)))
               for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1


@dataclass
class Rec:
    origid: str
    orig: str
    attest: str
    at: float

    def audit_row(self) -> tuple[Any, ...]:
        return (self.origid, self.at, "trunk", self.orig, json.dumps(["1310"]), self.attest, None,
                json.dumps([{"code": "evidence.none"}]), None, None, None, None, None, None)


def test_audit_log_groups_queries_and_survives_reopen(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    for i in range(1000):
        log.append(Rec(f"o{i}", f"1202555{i % 3:04d}", "AB"[i % 2], 1000.0 + i))
    log.append(Rec("o0", "x", "C", 1.0))  # a duplicate origid: ignored, counted
    assert log.by_origid("o999") == {"origid": "o999", "decided_at": 1999.0, "trunk": "trunk", "orig": "12025550000",
                                     "dest": ["1310"], "attest": "B", "mechanism": None,
                                     "reasons": [{"code": "evidence.none"}], "evidence": None, "ledger_position": None,
                                     "identity": None, "identities": None, "rcd": None,
                                     "entity": None}
    rows = log.query(orig="12025550001", attest="B", since=1500, limit=5)
    assert len(rows) == 5 and all(r["orig"] == "12025550001" and r["attest"] == "B" for r in rows)
    assert [r["decided_at"] for r in rows] == sorted((r["decided_at"] for r in rows), reverse=True)
    assert log.duplicates == 1 and log.by_origid("o0")["attest"] == "A"  # type: ignore[index]
    log.close()
    again = AuditLog(tmp_path / "audit.sqlite")
    assert len(again.query(limit=1000)) == 1000
    again.close()


class Broken(Rec):
    def audit_row(self) -> tuple[Any, ...]:
        return ("only", "three", "values")  # the INSERT wants ten: sqlite3.ProgrammingError


def test_a_record_that_cannot_describe_itself_is_kept_and_close_refuses_appends(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    log.append(Broken("x", "1", "A", 1.0))
    log.append(Rec("ok", "1", "B", 2.0))
    log.flush()  # returns: the queue is drained
    assert log.malformed == 1 and log.failed == 0
    assert log.by_origid("ok") is not None
    kept = log.by_origid("x")  # never lost: stored with its origid and the failure as its reason
    assert kept is not None and kept["reasons"][0]["code"] == "audit.row_failed"
    log.close()
    with pytest.raises(StoreError):
        log.append(Rec("late", "1", "B", 3.0))


class Poison(Rec):
    """A decision whose text is not Unicode (a lone surrogate, as a caller could send) and whose evidence is an
    object SQLite cannot store: it used to take its whole group commit down with it."""

    def audit_row(self) -> tuple[Any, ...]:
        row = list(super().audit_row())
        row[2] = "trunk-\ud800"
        row[8] = {"not": "text"}
        return tuple(row)


def test_poison_rows_do_not_take_their_group_with_them(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite", group_delay=0.05)  # a long gather: poison and good rows share groups
    for i in range(40):
        log.append(Rec(f"good{i}", "12025550100", "A", 10.0 + i))
        if i % 8 == 0:
            log.append(Poison(f"poison{i}", "12025550100", "C", 10.0 + i))
    log.flush()
    assert len(log.query(attest="A", limit=1000)) == 40
    kept = log.by_origid("poison0")
    assert kept is not None and kept["trunk"] == "trunk-\\ud800" and kept["evidence"] == {"not": "text"}
    assert log.failed == 0 and log.pending == 0
    log.close()


def test_rows_refused_by_a_locked_database_are_retried_until_written(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "audit.sqlite"
    log = AuditLog(path, busy_timeout=0.05, retry_delay=0.05)
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the database: every write fails for now
    for i in range(20):
        log.append(Rec(f"r{i}", "12025550100", "A", 1.0 + i))
    deadline = threading.Event()
    while log.pending < 20 and not deadline.wait(0.01):  # wait for the state: all 20 refused and kept for retry
        pass
    assert log.failed >= 20 and log.pending == 20 and log.dropped == 0
    other.execute("ROLLBACK")
    other.close()
    while log.pending and not deadline.wait(0.01):  # the writer retries on its own
        pass
    assert len(log.query(limit=100)) == 20 and log.pending == 0
    log.close()


def test_replay_memory_follows_the_window_not_the_uptime() -> None:
    """Expired entries leave as new ones arrive (the first soak saw the cache grow without end below its cap)."""
    rc = ReplayCache()
    for t in range(10_000):  # 10,000 seconds of 3 tokens a second, each valid for a 60 s window
        for i in range(3):
            assert rc.check_and_add(f"{t}/{i}".encode(), now=t, until=t + 60)
    assert len(rc) <= 3 * 61 and rc.evicted == 0
    assert not rc.check_and_add(b"9999/0", now=9_999, until=10_059)  # live ones are still refused


def test_an_audit_log_written_before_the_new_columns_opens_and_gains_them(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "audit.sqlite"
    old = sqlite3.connect(str(path))
    old.executescript("CREATE TABLE decisions (origid TEXT PRIMARY KEY, decided_at REAL NOT NULL, trunk TEXT NOT NULL, "
                      "orig TEXT NOT NULL, dest TEXT NOT NULL, attest TEXT NOT NULL, mechanism TEXT, reasons TEXT NOT "
                      "NULL, evidence TEXT, ledger_position TEXT);"
                      "INSERT INTO decisions VALUES ('old', 1.0, 't', '1', '[]', 'B', NULL, '[]', NULL, NULL);")
    old.commit()
    old.close()
    log = AuditLog(path)
    log.append(Rec("new", "1", "A", 2.0))
    assert log.by_origid("old") == {"origid": "old", "decided_at": 1.0, "trunk": "t", "orig": "1", "dest": [],
                                    "attest": "B", "mechanism": None, "reasons": [], "evidence": None,
                                    "ledger_position": None, "identity": None, "identities": None, "rcd": None,
                                    "entity": None}
    assert log.by_origid("new") is not None
    log.close()
