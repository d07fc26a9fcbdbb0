"""DID lifecycle through the wallet library on the embedded chain, both key types."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.vocab import Role
from did_method import KeyType
from did_method.resolver import Resolver
from node.chain.embedded import EmbeddedChain
from node.errors import LedgerRuleError
from node.ledger.client import Ledger
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
    reopened = Wallet.open(mallory.path, "a long enough passphrase")
    assert len(reopened.keys()) == keys_before and "pending" not in reopened.metadata  # nothing kept


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


class _Hooked:
    """The real ledger, with a hook that runs as each write is about to reach it (a probe, another writer)."""

    def __init__(self, ledger: Ledger, hook: Callable[[], None]) -> None:
        self._ledger, self._hook = ledger, hook

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def transact(self, *args: Any, **kwargs: Any) -> Any:
        self._hook()
        return self._ledger.transact(*args, **kwargs)


def test_the_new_key_is_saved_as_pending_before_the_ledger_write(
        env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    """A crash (even SIGKILL) during the ledger write leaves the key in the file, marked as of unknown outcome."""
    net, w, _, _, _ = env
    seen: list[tuple[Any, list[str]]] = []

    def probe() -> None:
        on_disk = Wallet.open(w.path, "a long enough passphrase")
        seen.append((on_disk.metadata.get("pending"), [k.name for k in on_disk.keys()]))

    did = create_did(w, _Hooked(net.ledger, probe))  # type: ignore[arg-type]
    [(pending, names)] = seen
    assert len(pending) == 1 and pending[0] in names
    after = Wallet.open(w.path, "a long enough passphrase").metadata
    assert "pending" not in after and after["dids"][did]["keys"] == {"key-1": pending[0]}


def test_another_writer_during_the_ledger_writes_loses_nothing(
        env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    """Another process (here another Wallet object) saves the same wallet while each DID write is in flight."""
    net, w, _, _, _ = env
    added: list[str] = []

    def other_writer() -> None:
        other = Wallet.open(w.path, "a long enough passphrase")
        name = f"sti{len(added)}"
        other.add_key(name, KeyType.P256)
        other.metadata.setdefault("held", {})[name] = {"id": name}
        other.save()
        added.append(name)

    hooked: Any = _Hooked(net.ledger, other_writer)
    did = create_did(w, hooked)
    assert rotate_key(w, hooked, did) == "key-2"
    deactivate(w, hooked, did)
    assert added == ["sti0", "sti1", "sti2"]
    reopened = Wallet.open(w.path, "a long enough passphrase")
    names = [k.name for k in reopened.keys()]
    assert all(name in names for name in added)
    assert sorted(reopened.metadata["held"]) == added
    entry = reopened.metadata["dids"][did]
    assert entry["active"] == ["key-2"] and entry["deactivated"] is True
    assert set(entry["keys"].values()) <= set(names) and "pending" not in reopened.metadata
    assert reopened.metadata == w.metadata


def test_holder_keeps_verified_credentials(env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    """Issue with the wallet recipe, then the holder keeps it only if it is about its DID and verifies."""
    import time

    from node.ledger.client import Action
    from wallet.credentials import enterprise_identity
    from wallet.holder import held, keep
    from wallet.issue import issue

    net, acme, vetter_w, resolver, follower = env
    net.govern(Action.admit(vetter_w.ledger_account().address, Role.VETTER, "", "Vet Co"))
    holder_did = create_did(acme, net.ledger)
    vetter_did = create_did(vetter_w, net.ledger)
    now = int(time.time())
    vc = issue(vetter_w, net.ledger, vetter_did, enterprise_identity(
        issuer=vetter_did, subject=holder_did, legal_name="Acme Corp", jurisdiction="US-DE", lei="5493001KJTIIGC8Y1R12",
        vetting_level="full", vetting_date="2026-11-01", valid_from=now - 60, valid_until=now + 3600,
        brand_name="Acme", call_reason="Delivery updates", logo="https://acme.example/logo.png"))
    follower.sync()

    def key_for(vm: str, created: Any) -> tuple[KeyType, bytes]:
        key = resolver.key_at(vm, int(created.timestamp()))
        return key.key_type, key.public_key

    assert keep(acme, vc, key_resolver=key_for) == vc["id"]
    kept = held(Wallet.open(acme.path, "a long enough passphrase"))
    assert kept[vc["id"]]["credentialSubject"]["brandName"] == "Acme"
    with pytest.raises(WalletError):  # not about the vetter's DIDs
        keep(vetter_w, vc, key_resolver=key_for)
    forged = {**vc, "credentialSubject": {**vc["credentialSubject"], "legalName": "Evil Corp"}}
    with pytest.raises(WalletError, match="vc.signature_invalid"):
        keep(acme, forged, key_resolver=key_for)


def test_overlapping_rotation_keeps_old_signatures_until_revoked(
        env: tuple[Net, Wallet, Wallet, Resolver, Follower]) -> None:
    """add_key puts a second key next to the first (both active, the wallet signs with the newest); revoke_key ends
    the old one; the last key cannot be revoked."""
    from wallet.dids import add_key, revoke_key

    net, w, _, resolver, follower = env
    did = create_did(w, net.ledger)
    assert add_key(w, net.ledger, did, key_type=KeyType.P256) == "key-2"
    assert signer_for(w, did)[1] == f"{did}#key-2"
    assert signer_for(w, did, "key-1")[1] == f"{did}#key-1"  # the old key still signs while it is active
    follower.sync()
    doc = resolver.resolve(did).did_document
    assert [vm["id"] for vm in doc["verificationMethod"]] == [f"{did}#key-1", f"{did}#key-2"]
    revoke_key(w, net.ledger, did, "key-1")
    follower.sync()
    assert [vm["id"] for vm in resolver.resolve(did).did_document["verificationMethod"]] == [f"{did}#key-2"]
    with pytest.raises(WalletError) as err:
        signer_for(w, did, "key-1")
    assert err.value.code == "wallet.no_such_key"
    with pytest.raises(LedgerRuleError) as refused:
        revoke_key(w, net.ledger, did, "key-2")
    assert refused.value.code == "did.last_key"
    assert signer_for(Wallet.open(w.path, "a long enough passphrase"), did)[1] == f"{did}#key-2"  # saved
