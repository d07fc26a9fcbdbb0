"""Follow the contracts' events from a checkpoint into the durable :class:`~node.sync.store.Store`.

* Only blocks at least ``confirmations`` deep are ingested.
* Each step reads one range of blocks and writes it in **one** SQLite transaction together with the new
  sync position (idempotent: events are keyed by (block, log_index); resumable: the position is in the same
  transaction).
* Reorgs: before each step the stored hash of the last synced block is compared with the chain's. On a
  mismatch the node walks back through the block hashes it stored until one matches the chain (hash
  equality there means the whole prefix is equal), drops the events above it and rebuilds the derived
  tables by replaying the rest — again in one transaction.
* **A chain that is not ours is refused, never followed** (:class:`~node.errors.ChainRefused`; the index is left
  exactly as it was). The index remembers the hash of the deployment block (the block of the first contract); a
  chain with another one at the same URL and chain id is a different chain (``chain.replaced``: a test chain
  restarted without its state, a network re-created). Not the genesis block: it is the same for every anvil, and
  for every Besu network made from one genesis file, and anvil even regenerates it when it reloads a state file
  (seen with anvil 1.7.1: block 0's hash changed on the second restart while blocks 1.. kept theirs). A chain
  whose head is below the node's synced block has lost blocks the node already applied (``chain.rewound``):
  following it would silently undo revocations. A reorganisation deeper than ``max_reorg_depth`` blocks is
  refused too (``chain.reorg_too_deep``). The default is 0: the blocks a
  node ingests are final (a QBFT chain's are; ``confirmations`` keeps a probabilistic chain's recent blocks out),
  so any change under them is refused rather than replayed; a test chain that reorganises on purpose sets it
  higher (``EIDLN_MAX_REORG_DEPTH``). :meth:`Follower.check_chain` runs at start and after every reconnection.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.vocab import Kind
from node.chain.base import BlockRef, ChainBackend, Log
from node.errors import ChainError, ChainIdMismatch, ChainRefused, ConfigError, NotInSync, StoreError
from node.ledger.codec import codec
from node.ledger.deployment import Deployment
from node.sync.apply import Checker, apply_event
from node.sync.changes import Change
from node.sync.indexdb import IndexReader
from node.sync.store import DERIVED_TABLES, Store, to_json
from node.sync.verify import CredentialChecker, ProofJob, Rejection

__all__ = ["Follower", "SyncStatus", "SyncStep"]


@dataclass(frozen=True, slots=True)
class SyncStatus:
    head: int
    synced: int
    confirmations: int

    @property
    def target(self) -> int:
        return max(self.head - self.confirmations, 0)

    @property
    def lag(self) -> int:
        return max(self.target - self.synced, 0)


@dataclass(frozen=True, slots=True)
class SyncStep:
    """One committed step: the blocks it ingested, the changes it made (chain order) and the last event it applied
    (``position``; None if the step had none). ``reorg_depth > 0``: the derived tables were rebuilt by replay, so a
    reader rebuilds its in-memory views from them instead of applying ``changes``."""

    from_block: int
    to_block: int
    events: int
    reorg_depth: int = 0
    changes: tuple[Change, ...] = ()
    position: tuple[int, int] | None = None


Listener = Callable[[SyncStep], None]


class Follower:
    def __init__(self, backend: ChainBackend, store: Store, deployment: Deployment, *, confirmations: int = 0,
                 batch_blocks: int = 500, check: Checker | None = None, max_reorg_depth: int = 0,
                 listeners: tuple[Listener, ...] = ()) -> None:
        if confirmations < 0 or batch_blocks < 1 or max_reorg_depth < 0:
            raise ConfigError("confirmations and max_reorg_depth must be >= 0 and batch_blocks >= 1")
        self.max_reorg_depth = max_reorg_depth
        self.backend = backend
        self.store = store
        self.deployment = deployment
        self.confirmations = confirmations
        self.batch_blocks = batch_blocks
        # every anchored credential is re-verified unless the caller passes its own checker
        self.check = check if check is not None else CredentialChecker(network=deployment.network,
                                                                       chain_id=deployment.chain_id)
        self._by_address = {a.lower(): n for n, a in deployment.addresses().items()}
        self._listeners = list(listeners)
        self.check_chain()

    def listen(self, listener: Listener) -> None:
        """Call ``listener(step)`` after every committed step, in the follower's thread (the node's pipeline:
        :mod:`node.sync.pipeline`). A listener must not raise: the step is committed whatever it does."""
        self._listeners.append(listener)

    def _publish(self, step: SyncStep) -> SyncStep:
        for listener in self._listeners:
            listener(step)
        return step

    def _check_identity(self) -> None:
        chain_id = self.backend.chain_id()
        if chain_id != self.deployment.chain_id:
            raise ChainIdMismatch(f"the chain has id {chain_id} but the network was deployed on chain "
                                  f"{self.deployment.chain_id}")
        stored = self.store.get_meta("deployment")
        mine = json.dumps(self.deployment.addresses(), sort_keys=True) + f"@{chain_id}"
        if stored is None:
            self.store.set_meta("deployment", mine)
        elif stored != mine:
            raise StoreError("this index belongs to another network deployment; use a fresh index file",
                             code="store.other_network")

    def check_chain(self) -> None:
        """Refuse a chain that is not the one this index was built from (see the module notice): compare, or on
        first use record, the hash of the deployment block; then check the synced block. Raises
        :class:`~node.errors.ChainRefused`; changes nothing in the index but the first record."""
        self._check_identity()
        number = self.deployment.start_block
        chain_hash = self._chain_hash(number)
        stored = self.store.get_meta("deployment_hash")
        if stored is None:
            if chain_hash is not None:
                self.store.set_meta("deployment_hash", chain_hash.hex())
        elif chain_hash is None or chain_hash.hex() != stored:
            seen = "missing" if chain_hash is None else "0x" + chain_hash.hex()[:16] + "…"
            raise ChainRefused(f"the chain's deployment block {number} is {seen}, but this index was built from "
                               f"0x{stored[:16]}…: a different chain answers at this URL; the node keeps its index "
                               "and does not follow it", code="chain.replaced")
        synced = self.store.synced_block
        if synced is not None and synced > self.backend.head():
            self._rewound(synced)

    def _rewound(self, synced: int) -> None:
        raise ChainRefused(f"the chain's head {self.backend.head()} is below block {synced} that this node has "
                           "synced: the chain lost blocks (restored from an old state?); following it would undo "
                           "what the node applied, so it does not", code="chain.rewound")

    @property
    def synced(self) -> int:
        s = self.store.synced_block
        return self.deployment.start_block - 1 if s is None else s

    def status(self) -> SyncStatus:
        return SyncStatus(head=self.backend.head(), synced=self.synced, confirmations=self.confirmations)

    def require_in_sync(self, max_lag: int = 0) -> SyncStatus:
        st = self.status()
        if st.lag > max_lag:
            raise NotInSync(f"the node index is {st.lag} blocks behind the chain (synced {st.synced}, "
                            f"target {st.target}); run 'eidln node run' to catch up")
        return st

    # ------------------------------------------------------------------ one step

    def step(self) -> SyncStep | None:
        """Ingest the next range of confirmed blocks; None when there is nothing to do."""
        reorg = self._handle_reorg()
        st = self.status()
        start = self.synced + 1
        if st.target < start:
            return self._publish(SyncStep(start, start - 1, 0, reorg)) if reorg else None
        end = min(st.target, start + self.batch_blocks - 1)
        logs = self.backend.get_logs(start, end, list(self.deployment.addresses().values()))
        blocks: dict[int, BlockRef] = {}
        for n in sorted({lg.block_number for lg in logs} | {end}):
            blocks[n] = self.backend.block(n)
        for lg in logs:
            if lg.block_hash != blocks[lg.block_number].hash:
                # the chain moved under us; the next step re-checks
                return self._publish(SyncStep(start, start - 1, 0, reorg)) if reorg else SyncStep(start, start - 1, 0)
        events = [self._event(lg, blocks[lg.block_number].timestamp) for lg in logs]
        with self.store.transaction() as db:
            fresh = []
            for ev in events:
                cur = db.execute(
                    "INSERT OR IGNORE INTO events (block, log_index, tx_index, tx_hash, timestamp, contract, name, "
                    "args) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (ev["block"], ev["log_index"], ev["tx_index"], ev["tx_hash"], ev["timestamp"], ev["contract"],
                     ev["name"], json.dumps(ev["args"], sort_keys=True)))
                if cur.rowcount == 1:
                    fresh.append(ev)
            changes = self._apply(db, fresh)
            db.executemany("INSERT OR REPLACE INTO blocks (number, hash, timestamp) VALUES (?, ?, ?)",
                           [(b.number, b.hash, b.timestamp) for b in blocks.values()])
            self._prune_blocks(db, end)
            db.execute("INSERT INTO meta (key, value) VALUES ('synced_block', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(end),))
        last = (logs[-1].block_number, logs[-1].log_index) if logs else None
        return self._publish(SyncStep(start, end, len(events), reorg, tuple(changes), last))

    def _apply(self, db: sqlite3.Connection, events: list[dict[str, Any]]) -> list[Change]:
        """Apply events in chain order; credentials in three passes so that proofs can be checked together.

        1. In order: every non-credential event is applied; each anchored credential is *prepared* at its own
           position (content = record, issuer key from the DID history up to that position, issuer role and
           authority from the members / DIDs tables as they stand there).
        2. The proofs of the batch are verified together (a process pool when there are many).
        3. In order: credential events are applied; a delegation whose parent the node did not accept is
           refused too (``vc.parent_not_accepted``): a chain is only as good as its links.
        """
        later: list[dict[str, Any]] = []
        changed: dict[tuple[int, int], Change] = {}
        prepared: dict[tuple[int, int], Any] = {}
        check = self.check
        for ev in events:
            if ev["contract"] != "CredentialRegistry":
                change = apply_event(db, ev)
                if change is not None:
                    changed[(ev["block"], ev["log_index"])] = change
                continue
            later.append(ev)
            if ev["name"] == "CredentialAnchored" and isinstance(check, CredentialChecker):
                prepared[(ev["block"], ev["log_index"])] = check.prepare(db, ev)
        if isinstance(check, CredentialChecker):
            jobs = [(k, p) for k, p in prepared.items() if isinstance(p, ProofJob)]
            for (k, _), verdict in zip(jobs, check.verify_all([p for _, p in jobs]), strict=True):
                prepared[k] = verdict

            def check(db_: sqlite3.Connection, ev: Mapping[str, Any]) -> Any:
                verdict = prepared[(ev["block"], ev["log_index"])]
                if verdict is None and ev["args"]["kind"] == Kind.TN_DELEGATION:  # its parent must be accepted
                    parent = bytes.fromhex(ev["args"]["parent"][2:])
                    if not IndexReader(db_).accepted(parent):
                        return Rejection(code="vc.parent_not_accepted",
                                         message="the parent credential was refused by this node")
                return verdict

        for ev in later:
            change = apply_event(db, ev, check=check)
            if change is not None:
                changed[(ev["block"], ev["log_index"])] = change
        return [changed[k] for k in sorted(changed)]  # chain order

    def _event(self, lg: Log, timestamp: int) -> dict[str, object]:
        name = self._by_address[lg.address.lower()]
        ev = codec(name).decode_log(lg)
        return {"block": lg.block_number, "log_index": lg.log_index, "tx_index": lg.tx_index, "tx_hash": lg.tx_hash,
                "timestamp": timestamp, "contract": name, "name": ev.name, "args": to_json(ev.args)}

    def _prune_blocks(self, db: sqlite3.Connection, end: int) -> None:
        # keep the hashes of blocks with events (history) and of the last 256 batch ends (reorg search)
        db.execute(
            "DELETE FROM blocks WHERE number < ? AND number NOT IN (SELECT DISTINCT block FROM events) "
            "AND number NOT IN (SELECT number FROM blocks ORDER BY number DESC LIMIT 256)", (end,))

    # ------------------------------------------------------------------ reorgs

    def _handle_reorg(self) -> int:
        synced = self.store.synced_block
        if synced is None:
            return 0
        mine = self.store.block_hash(synced)
        if mine is None or self._chain_hash(synced) == mine:
            return 0
        self.check_chain()  # another deployment block, or a head below ours: refused, not reorganised
        ancestor: int | None = None
        for number, h in self.store.known_blocks_desc(synced - 1):
            if synced - number > self.max_reorg_depth:
                break
            if self._chain_hash(number) == h:
                ancestor = number
                break
        if ancestor is None:
            raise ChainRefused(f"block {synced} of the chain is not the one this node synced, and no common block "
                               f"lies within {self.max_reorg_depth} blocks: a reorganisation deeper than the node "
                               "accepts (max_reorg_depth); the node keeps its index and does not follow",
                               code="chain.reorg_too_deep")
        with self.store.transaction() as db:
            db.execute("DELETE FROM events WHERE block > ?", (ancestor,))
            db.execute("DELETE FROM blocks WHERE number > ?", (ancestor,))
            for table in DERIVED_TABLES:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key = 'threshold'")
            self._apply(db, self.store.events())
            db.execute("UPDATE meta SET value = ? WHERE key = 'synced_block'", (str(ancestor),))
        return synced - ancestor

    def _chain_hash(self, number: int) -> bytes | None:
        if number > self.backend.head():
            return None
        try:
            return self.backend.block(number).hash
        except ChainError as exc:
            if exc.code == "chain.block_not_found":
                return None
            raise

    # ------------------------------------------------------------------ loops

    def sync(self, *, progress: Callable[[SyncStep, SyncStatus], None] | None = None) -> SyncStatus:
        """Step until caught up with the confirmed head; returns the final status."""
        while True:
            step = self.step()
            if step is None:
                return self.status()
            if progress is not None:
                progress(step, self.status())

    def run(self, *, interval: float = 1.0, stop: Callable[[], bool] = lambda: False,
            progress: Callable[[SyncStep, SyncStatus], None] | None = None,
            sleep: Callable[[float], None] = time.sleep) -> None:
        """Follow the chain until ``stop()`` is true."""
        while not stop():
            self.sync(progress=progress)
            sleep(interval)
