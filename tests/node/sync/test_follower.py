"""Sync into the durable index: contents, idempotence, resumability, identity checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.vocab import Status
from node.chain.embedded import EmbeddedChain
from node.errors import ChainIdMismatch, NotInSync, StoreError
from node.ledger.deployment import Deployment
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net, populate


@pytest.fixture(scope="module")
def world() -> tuple[Net, dict]:  # type: ignore[type-arg]
    """A populated ledger, built once for the module: the tests that use it only read the chain (each syncs its own
    index from it); a test that writes to the chain builds its own."""
    chain = EmbeddedChain(None)
    net = Net.create(chain)
    info = populate(net, rounds=3)
    return net, info


def test_index_reflects_the_ledger(world: tuple[Net, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    net, info = world
    store = Store(tmp_path / "index.sqlite")
    f = Follower(net.backend, store, net.ledger.deployment, batch_blocks=7)
    st = f.sync()
    assert st.lag == 0 and st.synced == net.backend.head()
    db = store.db
    assert db.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 3 + 3  # governors + tnsp, other, vetter
    assert db.execute("SELECT COUNT(*) FROM onboarded").fetchone()[0] == 6
    assert db.execute("SELECT COUNT(*) FROM number_blocks").fetchone()[0] == 30
    assert db.execute("SELECT COUNT(*) FROM ports").fetchone()[0] == 3
    other = net.accounts["other"].address
    assert db.execute("SELECT holder FROM numbers WHERE tn = 12025550005").fetchone()[0] == other
    for cid in info["credentials"]:
        (status,) = db.execute("SELECT status FROM credentials WHERE id = ?", (cid,)).fetchone()
        assert status == net.record(cid)["status"]
    statuses = {r[0] for r in db.execute("SELECT status FROM credentials")}
    assert statuses == {Status.ACTIVE, Status.REVOKED, Status.SUSPENDED}
    assert db.execute("SELECT COUNT(*) FROM dids WHERE deactivated = 1").fetchone()[0] == 1
    creds = db.execute("SELECT credential FROM credentials WHERE kind = 2").fetchall()
    assert all("TNRightToUseCredential" in json.loads(bytes(c[0]))["type"] for c in creds)
    assert all(json.loads(bytes(c[0]))["proof"]["cryptosuite"] == "eddsa-rdfc-2022" for c in creds)
    assert store.count("rejected_credentials") == 0  # every credential re-verified at sync
    assert store.get_meta("threshold") == "2"
    (state,) = {r[0] for r in db.execute("SELECT state FROM proposals")}
    assert state == "executed"


def test_idempotent_and_resumable(world: tuple[Net, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    net, _ = world
    full = Store(tmp_path / "full.sqlite")
    Follower(net.backend, full, net.ledger.deployment).sync()
    part = Store(tmp_path / "part.sqlite")
    f = Follower(net.backend, part, net.ledger.deployment, batch_blocks=5)
    for _ in range(4):
        f.step()
    part.close()
    part = Store(tmp_path / "part.sqlite")  # "restart"
    f = Follower(net.backend, part, net.ledger.deployment, batch_blocks=5)
    f.sync()
    assert part.dump() == full.dump()
    # replaying an already ingested range changes nothing (events keyed by block and log index)
    part.set_meta("synced_block", str(net.ledger.deployment.start_block + 3))
    f.sync()
    assert part.dump() == full.dump()


def test_confirmations_and_lag(world: tuple[Net, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    net, _ = world
    store = Store(tmp_path / "i.sqlite")
    f = Follower(net.backend, store, net.ledger.deployment, confirmations=3)
    with pytest.raises(NotInSync, match="blocks behind"):
        f.require_in_sync()
    st = f.sync()
    assert st.synced == net.backend.head() - 3 and st.lag == 0
    f.require_in_sync()


def test_wrong_chain_or_other_network(world: tuple[Net, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    net, _ = world
    dep = net.ledger.deployment
    store = Store(tmp_path / "i.sqlite")
    with pytest.raises(ChainIdMismatch):
        Follower(net.backend, store, Deployment(5, dep.members, dep.numbers, dep.dids, dep.credentials,
                                                dep.start_block))
    Follower(net.backend, store, dep).sync()
    other = Deployment(dep.chain_id, dep.numbers, dep.members, dep.dids, dep.credentials, dep.start_block)
    with pytest.raises(StoreError, match="another network"):
        Follower(net.backend, store, other)


def test_store_schema_guard(tmp_path: Path) -> None:
    s = Store(tmp_path / "i.sqlite")
    s.set_meta("schema_version", "999")
    s.close()
    with pytest.raises(StoreError) as exc:
        Store(tmp_path / "i.sqlite")
    assert exc.value.code == "store.schema_mismatch"


def test_replay_rebuilds_the_same_tables(world: tuple[Net, dict], tmp_path: Path) -> None:  # type: ignore[type-arg]
    """A reorg rebuilds derived tables by replaying events: replay must equal incremental application."""
    from node.sync.apply import apply_event
    from node.sync.store import DERIVED_TABLES

    net, _ = world
    store = Store(tmp_path / "i.sqlite")
    Follower(net.backend, store, net.ledger.deployment, batch_blocks=3).sync()
    before = store.dump()
    with store.transaction() as db:
        for table in DERIVED_TABLES:
            db.execute(f"DELETE FROM {table}")
        for ev in store.events():
            apply_event(db, ev)
    assert store.dump() == before


@pytest.mark.parametrize("parallel", [False, pytest.param(True, marks=pytest.mark.slow)])  # True: a process pool
def test_forged_or_inconsistent_credentials_are_kept_aside(tmp_path: Path, parallel: bool) -> None:
    """The contracts accept any bytes from an authorized issuer; the node verifies them and keeps failures
    aside with their reason, never among the usable credentials. The same verdicts whether proofs are
    checked inline or by the process pool."""
    import json as _json
    from dataclasses import replace

    from contracts.vocab import Flags, Kind, Role, TNRange
    from node.ledger.client import Action
    from wallet.credentials import anchor_of, credential_bytes

    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_acct.address))
    tnsp, ent = net.did(tnsp_acct), net.did(net.onboarded("ent", tnsp_acct))
    both = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE

    def grant(n: int) -> object:
        return net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp, ent, tns=(TNRange(12025550000 + 10 * n, 5),), flags=both)

    good = net.anchor(tnsp, grant(0))
    # 1. the signed credential altered after signing (one more number), anchored consistently with the alteration
    a = grant(1)
    vc = _json.loads(a.credential)
    vc["credentialSubject"]["tnAuthList"] = [{"tnRange": {"start": "12025550010", "count": 6}}]
    forged = anchor_of(vc)
    net.anchor(tnsp, forged)
    # 2. the ledger record claims more than the credential says
    b = grant(2)
    net.anchor(tnsp, replace(b, tns=(TNRange(12025550020, 9),)))
    # 3. bytes that are not a credential
    c = grant(3)
    net.anchor(tnsp, replace(c, credential=b"not json"))
    # 4. signed by someone else's key (the enterprise's) while naming the TNSP as issuer
    d = grant(4)
    vc = _json.loads(d.credential)
    vc["proof"]["verificationMethod"] = net.did_str(ent) + "#key-1"
    net.anchor(tnsp, replace(d, credential=credential_bytes(vc)))
    net.ledger.transact(tnsp_acct, "CredentialRegistry", "revoke", c.id)  # status of a rejected credential
    # 5. a correctly signed delegation resting on the forged grant: the chain is only as good as its links
    cc = net.did(net.onboarded("cc", tnsp_acct))
    child = net.anchor(ent, net.anchor_for(Kind.TN_DELEGATION, ent, cc, tns=(TNRange(12025550010, 2),),
                                           parent=forged.id, flags=Flags.MAY_ORIGINATE))

    from node.sync.verify import CredentialChecker

    checker = CredentialChecker(network="local", chain_id=1337, workers=2 if parallel else 1)
    checker.PARALLEL_MIN = 1 if parallel else 10**9
    store = Store(tmp_path / "i.sqlite")
    Follower(net.backend, store, net.ledger.deployment, check=checker).sync()
    checker.close()
    assert [bytes(r[0]) for r in store.db.execute("SELECT id FROM credentials")] == [good.id]
    rejected = {bytes(i): (code, status) for i, code, status in
                store.db.execute("SELECT id, code, status FROM rejected_credentials")}
    assert rejected == {forged.id: ("vc.signature_invalid", 1), b.id: ("vc.anchor_mismatch", 1),
                        c.id: ("vc.malformed", 2), d.id: ("vc.key_not_found", 1),
                        child.id: ("vc.parent_not_accepted", 1)}


def test_issuer_authority_is_checked_by_the_node(tmp_path: Path) -> None:
    """Defense in depth: the node checks the issuer's role and authority from its own tables."""
    import sqlite3

    from node.sync.verify import CredentialChecker

    db = sqlite3.connect(":memory:")
    db.executescript("CREATE TABLE dids (did BLOB, controller TEXT, deactivated INTEGER);"
                     "CREATE TABLE members (account TEXT, roles INTEGER);"
                     "CREATE TABLE credentials (id BLOB, subject BLOB);")
    issuer, other = b"\x01" * 16, b"\x02" * 16
    db.execute("INSERT INTO dids VALUES (?, '0xA', 0), (?, '0xB', 1)", (issuer, other))
    db.execute("INSERT INTO members VALUES ('0xA', 2)")  # a TNSP, not a vetter
    db.execute("INSERT INTO credentials VALUES (?, ?)", (b"\x09" * 32, other))

    def args(kind: int, issuer_id: bytes = issuer, root: str = "0xA") -> dict[str, object]:
        return {"issuer": "0x" + issuer_id.hex(), "kind": kind, "root_holder": root, "parent": "0x" + "09" * 32}

    auth = CredentialChecker._authority
    assert auth(db, args(2), {}) is None
    assert auth(db, args(1), {}).code == "vc.issuer_not_authorized"  # type: ignore[union-attr]
    assert auth(db, args(2, root="0xC"), {}).code == "vc.issuer_not_authorized"  # type: ignore[union-attr]
    assert auth(db, args(2, issuer_id=other), {}).code == "vc.issuer_not_authorized"  # type: ignore[union-attr]
    assert auth(db, args(3), {}).code == "vc.issuer_not_authorized"  # type: ignore[union-attr]
