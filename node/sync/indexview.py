"""A read-only view of the node's index file plus the in-memory TN index, kept current incrementally.

Shared by the REST ledger views (``node.api.ledger``) and the OSP's ledger snapshot (``node.attest.snapshot``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.vocab import Kind, Status
from did_method.syntax import format_did
from node.statuslist import status_indexes
from node.tnindex import TNIndex, build_from_db

if TYPE_CHECKING:
    from node.api.status import StatusIssuer

__all__ = ["IndexView"]


class IndexView:
    """The index file read-only, plus a TN index rebuilt when the synced block moves."""

    def __init__(self, index_path: Path, *, network: str, clock: Callable[[], float] = time.time,
                 status_issuer: StatusIssuer | None = None) -> None:
        self.db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, check_same_thread=False)
        self.network = network
        self.clock = clock
        self.status_issuer = status_issuer
        self._lock = threading.Lock()
        self._tn: TNIndex | None = None
        self._pos: tuple[int, ...] | None = None  # the last event (block, log_index) the TN index reflects
        self.rebuilds = 0

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def rows_status(self) -> list[tuple[bytes, int]]:
        with self._lock:
            return status_indexes(self.db)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def tn_index(self) -> TNIndex:
        """The TN index, brought up to date with the events synced since the last call (incrementally: number
        holdings and accepted credentials only; rejected ones are skipped). A reorg, or anything the incremental
        path cannot apply, rebuilds it from the index tables.

        Every update is a new version (:meth:`TNIndex.fork`, copy-on-write): an index returned earlier never
        changes, so a caller may keep reading it while the next update is applied."""
        with self._lock:
            last = self.db.execute("SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC "
                                   "LIMIT 1").fetchone()
            if self._tn is None or self._pos is None or self._reorged(last):
                return self._rebuild(last)
            rows = self.db.execute("SELECT block, log_index, contract, name, args FROM events WHERE (block, log_index) "
                                   "> (?, ?) AND contract IN ('NumberAuthority', 'CredentialRegistry') "
                                   "ORDER BY block, log_index", self._pos).fetchall()
            if rows:
                new = self._tn.fork()
                try:
                    for _block, _log_index, contract, name, args in rows:
                        a = json.loads(args)
                        if contract == "CredentialRegistry" and self._rejected(a["id"]):
                            continue
                        new.apply_event({"contract": contract, "name": name, "args": a})
                except Exception:  # an event the index cannot take incrementally (e.g. a parent it never saw)
                    return self._rebuild(last)
                self._tn = new
            if last is not None:
                self._pos = tuple(last)
            return self._tn

    def _reorged(self, last: Any) -> bool:
        """The events the TN index reflects are no longer all in the index file (a reorg was undone)."""
        assert self._pos is not None
        if self._pos == (-1, -1):
            return False
        if last is None or tuple(last) < self._pos:
            return True
        return self.db.execute("SELECT 1 FROM events WHERE (block, log_index) = (?, ?)", self._pos).fetchone() is None

    def _rejected(self, hex_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM rejected_credentials WHERE id = ?",
                               (bytes.fromhex(hex_id[2:]),)).fetchone() is not None

    def _rebuild(self, last: Any) -> TNIndex:
        self._tn = build_from_db(self.db)
        self._pos = tuple(last) if last is not None else (-1, -1)
        self.rebuilds += 1
        return self._tn

    def credential(self, r: tuple[Any, ...]) -> dict[str, Any]:
        cid, kind, issuer, subject, status, tns, cred, block = r
        return {"id": json.loads(bytes(cred)).get("id"), "key": "0x" + bytes(cid).hex(), "kind": Kind(kind).name,
                "issuer": format_did(self.network, bytes(issuer)), "subject": format_did(self.network, bytes(subject)),
                "status": Status(status).name.lower(), "anchoredBlock": block,
                "tnAuthList": [{"start": str(s), "count": c} for s, c in json.loads(tns)],
                "credential": json.loads(bytes(cred))}


