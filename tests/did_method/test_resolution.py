"""Resolution from a real ledger: create, two rotations, a service, deactivation; past versions; key history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from contracts.vocab import Role
from did_method import KeyType, self_certifying_id
from did_method.document import xml_datetime
from did_method.errors import Deactivated, NotFound
from did_method.multikey import encode_public_key
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.chain.embedded import EmbeddedChain
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def story(tmp_path: Path) -> dict[str, Any]:
    """A DID's life with 100 s between steps (an injected chain clock, so versionTime is exact)."""
    clock = Clock(1_800_000_000)
    chain = EmbeddedChain(None, clock=clock)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    keys = [SigningKey.generate() for _ in range(3)]
    pks = [bytes(k.verify_key) for k in keys]
    ident = self_certifying_id(KeyType.ED25519, pks[0])
    times = {}

    def at(label: str, fn: Any, *args: Any) -> None:
        clock.t += 100
        receipt = net.ledger.transact(tnsp, "DIDRegistry", fn, ident, *args)
        times[label] = (receipt.block_number, chain.block(receipt.block_number).timestamp)

    at("created", "create", "key-1", 1, pks[0], 3)
    at("rotated1", "rotate_key", "key-1", "key-2", 1, pks[1], 3)
    at("service", "set_service", "brand", "BrandService", "https://acme.example/rcd")
    at("rotated2", "rotate_key", "key-2", "key-3", 1, pks[2], 2)
    at("deactivated", "deactivate")
    store = Store(tmp_path / "index.sqlite")
    Follower(chain, store, net.ledger.deployment).sync()
    resolver = Resolver(IndexHistory(tmp_path / "index.sqlite"), network="local", chain_id=1337)
    return {"resolver": resolver, "did": format_did("local", ident), "times": times, "pks": pks,
            "controller": tnsp.address}


def test_current_state_is_deactivated(story: dict[str, Any]) -> None:
    res = story["resolver"].resolve(story["did"])
    assert res.did_document is None
    assert res.did_resolution_metadata["error"] == "deactivated"
    assert res.did_document_metadata["deactivated"] is True
    assert res.did_document_metadata["versionId"] == str(story["times"]["deactivated"][0])


def test_each_past_version(story: dict[str, Any]) -> None:
    r, did, t, pks = story["resolver"], story["did"], story["times"], story["pks"]
    v1 = r.resolve(did, version_time=xml_datetime(t["created"][1]))
    doc = v1.did_document
    assert doc["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert doc["verificationMethod"] == [{"id": f"{did}#key-1", "type": "Multikey", "controller": did,
                                          "publicKeyMultibase": encode_public_key(KeyType.ED25519, pks[0])}]
    assert doc["authentication"] == doc["assertionMethod"] == [f"{did}#key-1"]
    assert "service" not in doc and "updated" not in v1.did_document_metadata
    assert v1.did_document_metadata["created"] == xml_datetime(t["created"][1])
    assert v1.did_document_metadata["nextVersionId"] == str(t["rotated1"][0])
    assert v1.did_document_metadata["ledgerController"] == f"eip155:1337:{story['controller']}"
    # between changes: the version in force then
    v2 = r.resolve(did, version_time=t["service"][1] - 1)
    assert [vm["id"] for vm in v2.did_document["verificationMethod"]] == [f"{did}#key-2"]
    v3 = r.resolve(did, version_id=str(t["service"][0]))
    assert v3.did_document["service"] == [{"id": f"{did}#brand", "type": "BrandService",
                                            "serviceEndpoint": "https://acme.example/rcd"}]
    v4 = r.resolve(did, version_time=xml_datetime(t["rotated2"][1]))
    assert v4.did_document["assertionMethod"] == [f"{did}#key-3"] and "authentication" not in v4.did_document
    assert v4.did_document_metadata["updated"] == xml_datetime(t["rotated2"][1])


def test_errors_are_metadata(story: dict[str, Any]) -> None:
    r, did, t = story["resolver"], story["did"], story["times"]
    assert r.resolve("did:eidln:local").did_resolution_metadata["error"] == "invalidDid"
    assert r.resolve("did:web:example.com").did_resolution_metadata["error"] == "methodNotSupported"
    assert r.resolve(format_did("local", b"\x01" * 16)).did_resolution_metadata["error"] == "notFound"
    assert r.resolve(did.replace(":local:", ":other:")).did_resolution_metadata["error"] == "notFound"
    assert r.resolve(did, version_time=t["created"][1] - 1).did_resolution_metadata["error"] == "notFound"
    assert r.resolve(did, version_id="12345678").did_resolution_metadata["error"] == "notFound"
    assert r.resolve(did, version_time="yesterday").did_resolution_metadata["error"] == "invalidOptions"
    both = r.resolve(did, version_id="1", version_time="2026-01-01T00:00:00Z")
    assert both.did_resolution_metadata["error"] == "invalidOptions"


def test_key_history(story: dict[str, Any]) -> None:
    """A signature made before a rotation verifies at its own time; a revoked key's later signature does not."""
    r, did, t = story["resolver"], story["did"], story["times"]
    before_rotation = t["rotated1"][1] - 50
    key = r.key_at(f"{did}#key-1", before_rotation)
    assert key.public_key == story["pks"][0]
    with pytest.raises(NotFound, match="revoked"):
        r.key_at(f"{did}#key-1", t["rotated1"][1] + 10)
    with pytest.raises(NotFound, match="did not exist"):
        r.key_at(f"{did}#key-2", before_rotation)
    with pytest.raises(NotFound, match="not an authentication key"):
        r.key_at(f"{did}#key-3", t["rotated2"][1] + 1, relationship="authentication")
    assert r.key_at(f"{did}#key-3", t["rotated2"][1] + 1).public_key == story["pks"][2]
    with pytest.raises(Deactivated):
        r.key_at(f"{did}#key-3", t["deactivated"][1] + 1)
