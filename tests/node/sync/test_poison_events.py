"""An event no honest client would send cannot halt sync: a DID service endpoint of invalid UTF-8 (hand-made
calldata from an onboarded account) used to raise in the ABI decoder at every node, so no node could sync past it."""

from __future__ import annotations

from pathlib import Path

import eth_abi
from eth_utils import function_abi_to_4byte_selector

from contracts import artifact
from contracts.vocab import Role
from did_method.resolver import Resolver
from node.chain.base import Call
from node.chain.embedded import EmbeddedChain
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net


def test_invalid_utf8_in_an_event_is_kept_readable_and_sync_goes_on(tmp_path: Path) -> None:
    chain = EmbeddedChain(None)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    acct = net.onboarded("mallory", tnsp)
    d = net.did(acct)
    abi = next(i for i in artifact("DIDRegistry").abi if i.get("name") == "set_service")
    data = function_abi_to_4byte_selector(abi) + eth_abi.encode(  # a string is encoded as bytes are
        ["bytes16", "string", "string", "bytes"], [d.id, "brand", "BrandService", b"https://x.example/\xff\xfe"])
    (receipt,) = chain.send(acct, [Call(net.ledger.deployment.addresses()["DIDRegistry"], data)])
    assert receipt.status == 1  # the contract stores whatever bytes it is given
    later = net.member("after", Role.VETTER)  # and the ledger goes on after it

    store = Store(tmp_path / "index.sqlite")
    Follower(chain, store, net.ledger.deployment).sync()
    assert store.synced_block == chain.head()
    assert store.db.execute("SELECT COUNT(*) FROM members WHERE account = ?", (later.address,)).fetchone()[0] == 1
    doc = Resolver(IndexHistory(tmp_path / "index.sqlite"), network=net.ledger.deployment.network,
                   chain_id=1337).resolve(net.did_str(d)).did_document
    assert doc is not None
    assert [s["serviceEndpoint"] for s in doc["service"]] == ["https://x.example/\ufffd\ufffd"]
