"""A read-only view of the node's index file plus the in-memory TN index, kept current incrementally.

Shared by the REST ledger views (``node.api.ledger``) and the OSP's ledger snapshot (``node.attest.snapshot``).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from contracts.vocab import Kind, Status
from did_method.syntax import format_did
from node.statuslist import status_indexes
from node.sync.indexdb import IndexReader
from node.tnindex import TNIndex, build_from_reader

if TYPE_CHECKING:
    from node.api.status import StatusIssuer
    from node.sync.follower import SyncStep

__all__ = ["IndexView"]

T = TypeVar("T")

log = logging.getLogger("eidln.sync")


class IndexView:
    """The index file read-only, plus the TN index versions (fed by the follower, or rebuilt when the index moved)."""

    def __init__(self, index_path: Path, *, network: str, clock: Callable[[], float] = time.time,
                 status_issuer: StatusIssuer | None = None) -> None:
        self.db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, check_same_thread=False)
        self.reader = IndexReader(self.db)
        self.network = network
        self.clock = clock
        self.status_issuer = status_issuer
        self._lock = threading.Lock()
        self._tn: TNIndex | None = None
        self._pos: tuple[int, int] | None = None  # the last event (block, log_index) the TN index reflects
        self.rebuilds = 0
        self.fed = False  # a follower publishes its steps here (then reads never go to SQLite for the TN index)

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def rows_status(self) -> list[tuple[bytes, int]]:
        with self._lock:
            return status_indexes(self.reader)

    def read(self, query: Callable[[IndexReader], T]) -> T:
        """Run one query of :class:`IndexReader` on the view's connection (guarded: threads share it)."""
        with self._lock:
            return query(self.reader)

    def tn_index(self) -> TNIndex:
        """The current TN index version (an index returned earlier never changes: see :meth:`TNIndex.fork`).

        A view fed by the node's follower (:meth:`applied`, wired by :mod:`node.sync.pipeline`) returns what the last
        committed step published, without touching SQLite. A view nobody feeds (another process's index, a tool)
        rebuilds from the index tables when the index has moved since its last answer."""
        with self._lock:
            if self._tn is None or (not self.fed and self._moved()):
                return self._rebuild()
            return self._tn

    def applied(self, step: SyncStep) -> None:
        """Publish the changes of one committed sync step as a new TN index version (the follower calls this after
        its transaction; see :meth:`node.sync.follower.Follower.listen`). A reorg, or a change this index cannot
        take (which would be a defect), rebuilds it from the tables instead: it never keeps a version that differs
        from the tables. The changes are applied to a fork outside the lock (the follower is the only writer);
        readers wait only for the one assignment that publishes it."""
        self.fed = True
        if self._tn is None or step.reorg_depth:
            with self._lock:
                self._rebuild()
            return
        new = self._tn
        if step.changes:
            new = new.fork()
            try:
                for change in step.changes:
                    new.apply(change)
            except Exception:
                log.exception("the TN index could not apply a sync step; rebuilding it from the index tables")
                with self._lock:
                    self._rebuild()
                return
        with self._lock:  # the version and the position it reflects, published together
            self._tn = new
            if step.position is not None:
                self._pos = step.position

    def _last(self) -> tuple[int, int] | None:
        return self.reader.last_position()

    def _moved(self) -> bool:
        return self._last() != self._pos

    def _rebuild(self) -> TNIndex:
        self._pos = self._last()
        self._tn = build_from_reader(self.reader)
        self.rebuilds += 1
        return self._tn

    def credential(self, r: tuple[Any, ...]) -> dict[str, Any]:
        cid, kind, issuer, subject, status, tns, cred, block = r
        return {"id": json.loads(bytes(cred)).get("id"), "key": "0x" + bytes(cid).hex(), "kind": Kind(kind).name,
                "issuer": format_did(self.network, bytes(issuer)), "subject": format_did(self.network, bytes(subject)),
                "status": Status(status).name.lower(), "anchoredBlock": block,
                "tnAuthList": [{"start": str(s), "count": c} for s, c in json.loads(tns)],
                "credential": json.loads(bytes(cred))}


