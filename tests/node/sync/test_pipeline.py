"""The node's one event pipeline (node/sync/pipeline.py): a new head wakes the sync service, the follower commits a
step and publishes the changes it made to the IndexView and the OSP's snapshot; nothing re-reads the events."""

from __future__ import annotations

import threading
from pathlib import Path

from contracts.vocab import Flags, Kind, Role, Status, TNRange
from node.attest.snapshot import LedgerSnapshot
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.sync.changes import Anchored, Holding, StatusSet
from node.sync.follower import Follower, SyncStep
from node.sync.indexview import IndexView
from node.sync.pipeline import Pipeline
from node.sync.service import SyncService
from node.sync.store import Store
from node.tnindex import build_from_db
from tests.netkit import Net

TN = 12025550142


def _world(tmp_path: Path) -> tuple[Net, Store, dict[str, object]]:
    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    vetter = net.member("vetter", Role.VETTER)
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp.address))
    t, v, e = net.did(tnsp), net.did(vetter), net.did(net.onboarded("ent", tnsp))
    net.anchor(v, net.anchor_for(Kind.ENTERPRISE_IDENTITY, v, e))
    grant = net.anchor(t, net.anchor_for(Kind.TN_RIGHT_TO_USE, t, e, tns=(TNRange(12025550100, 100),),
                                         flags=Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE))
    return net, Store(tmp_path / "index.sqlite"), {"tnsp": tnsp, "t": t, "e": e, "v": v, "grant": grant}


def _same(a: object, b: object) -> bool:
    from node.tnindex import TNIndex
    assert isinstance(a, TNIndex) and isinstance(b, TNIndex)
    return sorted(a.credentials()) == sorted(b.credentials()) and a.single_numbers() == b.single_numbers()


def test_steps_are_published_with_the_changes_the_tables_took(tmp_path: Path) -> None:
    net, store, w = _world(tmp_path)
    steps: list[SyncStep] = []
    follower = Follower(net.backend, store, net.ledger.deployment, listeners=(steps.append,))
    follower.sync()
    kinds = [type(c) for s in steps for c in s.changes]
    assert Holding in kinds and Anchored in kinds
    assert steps[-1].position == store.db.execute(
        "SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC LIMIT 1").fetchone()
    grant = w["grant"]
    net.ledger.transact(w["tnsp"], "CredentialRegistry", "revoke", grant.id)  # type: ignore[attr-defined]
    steps.clear()
    follower.sync()
    (change,) = [c for s in steps for c in s.changes]
    assert change == StatusSet(grant.id, Kind.TN_RIGHT_TO_USE, grant.subject, Status.REVOKED)  # type: ignore[attr-defined]


def test_the_view_and_the_snapshot_follow_pushed_steps_without_rebuilding(tmp_path: Path) -> None:
    net, store, w = _world(tmp_path)
    follower = Follower(net.backend, store, net.ledger.deployment)
    follower.sync()
    snapshot = LedgerSnapshot(tmp_path / "index.sqlite", network=net.ledger.deployment.network, chain_id=1337)
    view = snapshot.view
    Pipeline(view, listeners=(snapshot.applied,)).attach(follower)
    rebuilds = view.rebuilds
    now = net.backend.block(net.backend.head()).timestamp + 10
    assert [c.leaf.id for c in snapshot.state.tn.chains(TN, now=now)] == [w["grant"].id]  # type: ignore[attr-defined]
    before = snapshot.state
    net.ledger.transact(w["tnsp"], "CredentialRegistry", "revoke", w["grant"].id)  # type: ignore[attr-defined]
    follower.sync()
    assert snapshot.state.tn.chains(TN, now=now) == [] and view.rebuilds == rebuilds  # pushed, not rebuilt
    assert before.tn.chains(TN, now=now) != []  # the version a call held is untouched
    assert snapshot.state.position is not None and before.position is not None
    assert snapshot.state.position > before.position
    assert _same(snapshot.state.tn, build_from_db(store.db))  # the pushed version equals the tables
    assert view.tn_index() is snapshot.state.tn  # one TN index for REST and the call path


def test_a_failing_reader_neither_stops_the_follower_nor_keeps_a_wrong_view(tmp_path: Path) -> None:
    net, store, w = _world(tmp_path)
    follower = Follower(net.backend, store, net.ledger.deployment)
    follower.sync()
    view = IndexView(tmp_path / "index.sqlite", network="local")
    view.tn_index()

    def broken(step: SyncStep) -> None:
        raise RuntimeError("a defect in a reader")

    pipeline = Pipeline(view, listeners=(broken,))
    pipeline.attach(follower)
    poisoned = view.tn_index()
    poisoned.apply(StatusSet(w["grant"].id, Kind.TN_RIGHT_TO_USE, b"", Status.REVOKED))  # type: ignore[attr-defined]
    # the view's version is now wrong (a defect that changed it in place): the next step cannot apply a status change
    # to a revoked credential, so the view rebuilds from the tables instead of keeping it
    net.ledger.transact(w["tnsp"], "CredentialRegistry", "suspend", w["grant"].id)  # type: ignore[attr-defined]
    follower.sync()
    assert pipeline.steps >= 1 and store.synced_block == net.backend.head()
    got = view.tn_index().get(w["grant"].id)  # type: ignore[attr-defined]
    assert got is not None and got.status is Status.SUSPENDED
    assert _same(view.tn_index(), build_from_db(store.db))


def test_a_new_head_wakes_the_service_long_before_its_interval(tmp_path: Path) -> None:
    net, store, w = _world(tmp_path)
    view = IndexView(tmp_path / "index.sqlite", network="local")
    pipeline = Pipeline(view)
    confirmed = threading.Event()
    service = SyncService(lambda: pipeline.attach(Follower(net.backend, store, net.ledger.deployment)),
                          interval=600.0, head_poll=0.01, on_confirmed=lambda at: confirmed.set())
    service.start()
    try:
        assert confirmed.wait(60)
        first = service.health.synced
        assert first is not None
        net.ledger.transact(w["tnsp"], "CredentialRegistry", "revoke", w["grant"].id)  # type: ignore[attr-defined]
        head = net.backend.head()
        # the interval is 10 minutes: only the head poll can bring the revocation in within the wait
        health = service.wait_for(lambda h: h.synced is not None and h.synced >= head, timeout=60)
        assert health.synced == head
        now = net.backend.block(head).timestamp
        assert view.tn_index().chains(TN, now=now) == []
    finally:
        service.stop()
