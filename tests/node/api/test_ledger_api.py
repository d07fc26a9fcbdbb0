"""REST views of the index: credentials by id / holder / issuer, chains for a number, rejected credentials."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from contracts.vocab import Flags, Kind, Role, TNRange
from did_method.resolver import Resolver
from node.api import create_app
from node.api.ledger import IndexView
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net

BOTH = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("ledger-api")
    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_acct.address))
    tnsp = net.did(tnsp_acct)
    ent, cc = (net.did(net.onboarded(name, tnsp_acct)) for name in ("ent", "cc"))
    g = net.anchor(tnsp, net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp, ent, tns=(TNRange(12025550100, 100),), flags=BOTH))
    d = net.anchor(ent, net.anchor_for(Kind.TN_DELEGATION, ent, cc, tns=(TNRange(12025550140, 10),), parent=g.id,
                                       flags=Flags.MAY_ORIGINATE))
    bad = net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp, ent, tns=(TNRange(12025550500),), flags=BOTH)
    net.anchor(tnsp, replace(bad, credential=b"{}"))
    Follower(net.backend, Store(tmp / "index.sqlite"), net.ledger.deployment).sync()
    view = IndexView(tmp / "index.sqlite", network="local")
    app = create_app(Resolver(IndexHistory(tmp / "index.sqlite"), network="local", chain_id=1337), view)
    return {"client": TestClient(app), "net": net, "g": g, "d": d, "bad": bad, "ent": net.did_str(ent),
            "cc": net.did_str(cc), "cids": net.cids}


def test_credential_by_id_and_key(world: dict[str, Any]) -> None:
    c, g = world["client"], world["g"]
    cid = world["cids"][g.id]
    for ref in (quote(cid, safe=""), "0x" + g.id.hex()):
        r = c.get(f"/v1/credentials/{ref}")
        assert r.status_code == 200
        body = r.json()
        assert body["id"] == cid and body["kind"] == "TN_RIGHT_TO_USE" and body["status"] == "active"
        assert body["credential"]["proof"]["type"] == "DataIntegrityProof"
    assert c.get("/v1/credentials/urn:uuid:nope").status_code == 404
    assert c.get("/v1/credentials/0x1234").status_code == 400
    assert c.get("/v1/credentials/0xzz" + "0" * 62).status_code == 400
    r = c.get(f"/v1/credentials/0x{world['bad'].id.hex()}")
    assert r.status_code == 409 and "vc.malformed" in r.json()["detail"]


def test_by_holder_and_issuer(world: dict[str, Any]) -> None:
    c = world["client"]
    assert [x["kind"] for x in c.get("/v1/credentials", params={"holder": world["cc"]}).json()] == ["TN_DELEGATION"]
    assert [x["kind"] for x in c.get("/v1/credentials", params={"issuer": world["ent"]}).json()] == ["TN_DELEGATION"]
    for params in ({}, {"holder": "x", "issuer": "y"}, {"holder": "did:eidln:local:bad"}):
        r = c.get("/v1/credentials", params=params)
        assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


def test_chains_and_rejected(world: dict[str, Any]) -> None:
    c = world["client"]
    body = c.get("/v1/tn/+12025550143/chains").json()
    assert {ch["subject"] for ch in body["chains"]} == {world["ent"], world["cc"]}
    leaf = [ch for ch in body["chains"] if ch["subject"] == world["cc"]][0]
    assert leaf["links"] == ["0x" + world["d"].id.hex(), "0x" + world["g"].id.hex()] and leaf["mayOriginate"]
    assert c.get("/v1/tn/12025550199/chains").json()["chains"][0]["subject"] == world["ent"]
    assert c.get("/v1/tn/12025550200/chains").json()["chains"] == []
    assert c.get("/v1/tn/12ab/chains").status_code == 400
    rejected = c.get("/v1/rejected").json()
    assert [r["code"] for r in rejected] == ["vc.malformed"]


def test_tn_index_follows_new_blocks_incrementally(world: dict[str, Any], tmp_path: Path) -> None:
    """New grants, a revocation and a port after the first query are picked up without a rebuild (pushed by the
    follower); a view nobody feeds catches up by rebuilding from the tables."""
    net = world["net"]
    store_path = tmp_path / "index.sqlite"
    follower = Follower(net.backend, Store(store_path), net.ledger.deployment)
    follower.sync()
    view = IndexView(store_path, network="local")
    first = view.tn_index().chains(12025550143, now=int(time.time()))
    assert len(first) == 2 and view.rebuilds == 1
    follower.listen(view.applied)  # the node's pipeline: the follower publishes what it applied
    tnsp_acct = net.accounts["tnsp"]
    net.ledger.transact(net.accounts["ent"], "CredentialRegistry", "revoke", world["d"].id)
    b_acct = net.member("b", Role.TNSP, "5555")
    net.govern(Action.port(12025550150, 1, b_acct.address))
    follower.sync()
    now = int(time.time())
    index = view.tn_index()
    assert view.rebuilds == 1  # incremental
    assert [c.leaf.id for c in index.chains(12025550143, now=now)] == [world["g"].id]
    assert index.chains(12025550150, now=now) == []  # ported away from the grant's root holder
    assert tnsp_acct.address != b_acct.address
    unfed = IndexView(store_path, network="local")
    assert [c.ids for c in unfed.tn_index().chains(12025550143, now=now)] == [c.ids for c in
                                                                           index.chains(12025550143, now=now)]
    assert unfed.tn_index().chains(12025550150, now=now) == []


def test_signed_status_lists(world: dict[str, Any], tmp_path: Path) -> None:
    """The revocation list sets the bit of the credential the node refused; the list verifies with the
    node's DID key; each credential view carries its statusListIndex."""
    from did_method.resolver import Resolver as R
    from node.api.status import StatusIssuer
    from node.statuslist import decode, get
    from wallet.dataintegrity import document_loader, verify
    from wallet.keys import Ed25519Key

    net = world["net"]
    store_path = tmp_path / "index.sqlite"
    Follower(net.backend, Store(store_path), net.ledger.deployment).sync()
    node_did = net.did(net.accounts["tnsp"])
    Follower(net.backend, Store(store_path), net.ledger.deployment).sync()
    issuer = StatusIssuer(net.did_str(node_did), net.did_str(node_did) + "#key-1",
                          Ed25519Key.from_seed(node_did.key.encode()), "https://osp.example")
    view = IndexView(store_path, network="local", status_issuer=issuer)
    client = TestClient(create_app(R(IndexHistory(store_path), network="local", chain_id=1337), view))
    revocation = client.get("/v1/status/revocation")
    assert revocation.status_code == 200 and revocation.headers["content-type"] == "application/vc"
    vc = revocation.json()
    assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    resolver = R(IndexHistory(store_path), network="local", chain_id=1337)

    def key_for(vm: str, created: Any) -> Any:
        k = resolver.key_at(vm, int(created.timestamp()))
        return k.key_type, k.public_key

    assert verify(vc, key_resolver=key_for, loader=document_loader).verified
    bits = decode(vc["credentialSubject"]["encodedList"])
    g_view = client.get(f"/v1/credentials/0x{world['g'].id.hex()}").json()
    g_index = int(g_view["credentialStatus"][0]["statusListIndex"])
    assert g_view["credentialStatus"][0]["statusListCredential"] == "https://osp.example/v1/status/revocation"
    assert not get(bits, g_index)
    bad_index = g_index + 2  # anchoring order: grant, delegation, the refused one
    assert get(bits, bad_index)
    assert client.get("/v1/status/suspension").status_code == 200
    assert client.get("/v1/status/other").status_code == 404
    plain = TestClient(create_app(R(IndexHistory(store_path), network="local", chain_id=1337),
                                  IndexView(store_path, network="local")))
    assert plain.get("/v1/status/revocation").json()["title"] == "status.not_configured"
