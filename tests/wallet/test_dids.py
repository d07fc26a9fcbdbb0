"""DID lifecycle through the wallet library on the embedded chain, both key types."""

from __future__ import annotations

from pathlib import Path

import pytest

from did_method import KeyType
from did_method.resolver import Resolver
from node.chain.embedded import EmbeddedChain
from node.errors import LedgerRuleError
from node.ledger.roles import Role
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net
from wallet import Wallet, verify
from wallet.dids import create_did, deactivate, rotate_key, set_service, signer_for
from wallet.errors import WalletError


@pytest.fixture
def env(tmp_path: Path) -> tuple[Net, Wallet, Wallet, Resolver, Follower]:
    chain = EmbeddedChain(None)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    wallets = []
    for name in ("acme", "mallory"):
        w = Wallet.create(tmp_path / f"{name}.json", "a long enough passphrase", fast=True)
        net.ledger.onboard(tnsp, w.ledger_account().address, "enterprise")
        wallets.append(w)
    follower = Follower(chain, Store(tmp_path / "index.sqlite"), net.ledger.deployment)
    follower.sync()
    resolver = Resolver(IndexHistory(tmp_path / "index.sqlite"), network="local", chain_id=1337)
    return net, wallets[0], wallets[1], resolver, follower


@pytest.mark.parametrize(("key_type", "prefix", "alg"), [(KeyType.ED25519, "z6Mk", "EdDSA"),
                                                         (KeyType.P256, "zDn", "ES256")])
def test_lifecycle(env: tuple[Net, Wallet, Wallet, Resolver, Follower], key_type: KeyType, prefix: str,
                   alg: str) -> None:
    net, w, _, resolver, follower = env
    did = create_did(w, net.ledger, key_type=key_type)
    signer, url = signer_for(w, did)
    assert url == f"{did}#key-1" and signer.algorithm == alg
    sig = signer.sign(b"call data")
    follower.sync()
    doc = resolver.resolve(did).did_document
    assert doc["verificationMethod"][0]["publicKeyMultibase"].startswith(prefix)
    key = resolver.key_at(url, net.backend.block(net.backend.head()).timestamp)
    assert verify(key.key_type, key.public_key, b"call data", sig)
    assert rotate_key(w, net.ledger, did, key_type=key_type) == "key-2"
    set_service(w, net.ledger, did, "rcd", "RichCallData", "https://acme.example/rcd.json")
    follower.sync()
    doc = resolver.resolve(did).did_document
    assert [vm["id"] for vm in doc["verificationMethod"]] == [f"{did}#key-2"]
    assert signer_for(w, did)[1] == f"{did}#key-2"
    reopened = Wallet.open(w.path, "a long enough passphrase")  # everything was saved
    assert signer_for(reopened, did)[0].public_key == signer_for(w, did)[0].public_key
    deactivate(w, net.ledger, did)
    with pytest.raises(WalletError, match="deactivated"):
        signer_for(w, did)


def test_only_the_controller_writes(env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    net, w, mallory, _, _ = env
    did = create_did(w, net.ledger)
    with pytest.raises(WalletError) as exc:
        rotate_key(mallory, net.ledger, did)
    assert exc.value.code == "wallet.unknown_did"
    # even with the wallet entry copied, the ledger refuses a controller that is not the signer
    mallory.metadata["dids"] = {did: dict(w.metadata["dids"][did])}
    keys_before = len(mallory.keys())
    with pytest.raises(LedgerRuleError) as err:
        rotate_key(mallory, net.ledger, did)
    assert err.value.code == "did.not_controller"
    assert len(Wallet.open(mallory.path, "a long enough passphrase").keys()) == keys_before  # nothing kept


def test_unknown_outcome_keeps_the_key(env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    """If the ledger cannot be reached, nobody knows whether the write landed: the key must not vanish."""
    from node.errors import NodeError

    net, w, _, _, _ = env
    net.backend.close()
    with pytest.raises(NodeError):
        create_did(w, net.ledger)
    reopened = Wallet.open(w.path, "a long enough passphrase")
    pending = reopened.metadata["pending"]
    assert len(pending) == 1 and pending[0] in [k.name for k in reopened.keys()]
