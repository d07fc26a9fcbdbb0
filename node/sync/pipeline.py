"""The node's one event pipeline: new head → follow → apply → index → snapshot, pushed, never polled.

::

    chain head moves ──► SyncService wakes (head poll / subscription)
                          │
                          ▼
                    Follower.step ── one SQLite transaction: events, derived tables (node.sync.apply)
                          │            └─ returns the Change values it made (node.sync.changes)
                          ▼ after COMMIT, in the follower's thread
                    Pipeline.applied(step)
                          ├─► IndexView.applied     new TN index version (copy-on-write fork + the same changes)
                          └─► listeners             e.g. LedgerSnapshot.applied: a new immutable LedgerState
                                                     (REST and the call path read these versions, never SQLite
                                                      for the TN index)
                    SyncService: at the head ──► Pipeline.confirmed(t) ──► LedgerSnapshot.confirm(t)

Each reader takes the very changes the tables took; a reorg (``step.reorg_depth``) makes every reader rebuild from
the tables. A listener that fails is logged and its view rebuilt from the tables by itself (the step is committed
whatever a reader does), so a defect in a reader can cost time, never a view that differs from the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from node.sync.follower import Follower, SyncStep
from node.sync.indexview import IndexView

__all__ = ["Pipeline"]

log = logging.getLogger("eidln.sync")


class Pipeline:
    """Wires one follower to the node's :class:`IndexView` and to the listeners above it (the OSP's snapshot)."""

    def __init__(self, view: IndexView, *, listeners: tuple[Callable[[SyncStep], None], ...] = (),
                 on_confirmed: tuple[Callable[[float], None], ...] = ()) -> None:
        self.view = view
        self._listeners = listeners
        self._on_confirmed = on_confirmed
        self.steps = 0  # committed steps published (for /metrics and tests)
        self.changes = 0

    def attach(self, follower: Follower) -> Follower:
        """Publish every step ``follower`` commits from now on; returns it."""
        follower.listen(self.applied)
        return follower

    def applied(self, step: SyncStep) -> None:
        self.steps += 1
        self.changes += len(step.changes)
        self.view.applied(step)
        for listener in self._listeners:
            try:
                listener(step)
            except Exception:  # a defect in a reader: it must not stop the follower, whose step is committed
                log.exception("a ledger view failed to apply sync step %s-%s", step.from_block, step.to_block)

    def confirmed(self, at: float) -> None:
        """The follower saw the index current with the chain's confirmed head at ``at``."""
        for fn in self._on_confirmed:
            fn(at)
