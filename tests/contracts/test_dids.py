"""DID registry: self-certifying ids, controller-only writes, key history, deactivation."""

from __future__ import annotations

from eth_account import Account
from nacl.signing import SigningKey

from contracts.vocab import Role
from did_method import KeyType, self_certifying_id
from tests.netkit import Net, refused


def _key() -> bytes:
    return bytes(SigningKey.generate().verify_key)


def test_create_is_self_certifying_and_known_accounts_only(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    pk = _key()
    did = self_certifying_id(KeyType.ED25519, pk)
    assert net.ledger.call("DIDRegistry", "self_id", 1, pk) == did
    with refused("did.unknown_account"):
        net.ledger.transact(Account.create(), "DIDRegistry", "create", did, "key-1", 1, pk, 3)
    with refused("did.id_mismatch"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 1, _key(), 3)
    with refused("did.bad_key"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 1, pk[:31], 3)
    with refused("did.bad_key_type"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 9, pk, 3)
    with refused("did.bad_relationships"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 1, pk, 0)
    with refused("did.bad_fragment"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "", 1, pk, 3)
    net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 1, pk, 3)
    assert net.ledger.call("DIDRegistry", "controller", did) == tnsp.address
    with refused("did.exists"):
        net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-1", 1, pk, 3)


def test_p256_keys(net: Net) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    tnsp = net.member("tnsp", Role.TNSP, "1234")
    pk = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    did = self_certifying_id(KeyType.P256, pk)
    net.ledger.transact(tnsp, "DIDRegistry", "create", did, "key-p256", 2, pk, 2)
    with refused("did.bad_key"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", did, "k2", 2, b"\x04" + pk[1:], 2)


def test_controller_only_writes_and_key_lifecycle(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    other = net.member("other", Role.VETTER)
    d = net.did(tnsp)
    with refused("did.not_controller"):
        net.ledger.transact(other, "DIDRegistry", "add_key", d.id, "key-2", 1, _key(), 2)
    with refused("did.not_found"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", b"\x01" * 16, "key-2", 1, _key(), 2)
    with refused("did.last_key"):
        net.ledger.transact(tnsp, "DIDRegistry", "revoke_key", d.id, "key-1")
    net.ledger.transact(tnsp, "DIDRegistry", "rotate_key", d.id, "key-1", "key-2", 1, _key(), 3)
    with refused("did.no_such_key"):
        net.ledger.transact(tnsp, "DIDRegistry", "revoke_key", d.id, "key-1")
    with refused("did.fragment_used"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, "key-1", 1, _key(), 3)
    net.ledger.transact(tnsp, "DIDRegistry", "set_service", d.id, "brand", "BrandService", "https://acme.example/rcd")
    with refused("did.fragment_used"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, "brand", 1, _key(), 3)
    net.ledger.transact(tnsp, "DIDRegistry", "remove_service", d.id, "brand")
    with refused("did.no_such_service"):
        net.ledger.transact(tnsp, "DIDRegistry", "remove_service", d.id, "brand")
    with refused("did.unknown_account"):
        net.ledger.transact(tnsp, "DIDRegistry", "change_controller", d.id, Account.create().address)
    net.ledger.transact(tnsp, "DIDRegistry", "change_controller", d.id, other.address)
    with refused("did.not_controller"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, "key-3", 1, _key(), 2)
    net.ledger.transact(other, "DIDRegistry", "deactivate", d.id)
    assert not net.ledger.call("DIDRegistry", "is_active", d.id)
    with refused("did.deactivated"):
        net.ledger.transact(other, "DIDRegistry", "add_key", d.id, "key-3", 1, _key(), 2)


def test_changes_link_to_previous_change(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    d = net.did(tnsp)
    first = net.ledger.call("DIDRegistry", "changed", d.id)
    r = net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, "key-2", 1, _key(), 2)
    (ev,) = net.ledger.events(r)
    assert ev.name == "KeyAdded" and ev.args["previous_change"] == first
    assert net.ledger.call("DIDRegistry", "changed", d.id) == r.block_number


def test_offboarded_account_controls_nothing(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    ent = net.onboarded("ent", tnsp)
    d = net.did(ent)
    assert net.ledger.call("DIDRegistry", "is_controller", d.id, ent.address)
    net.ledger.offboard(tnsp, ent.address)
    assert not net.ledger.call("DIDRegistry", "is_controller", d.id, ent.address)
    with refused("did.unknown_account"):
        net.ledger.transact(ent, "DIDRegistry", "add_key", d.id, "key-2", 1, _key(), 2)


def test_document_size_is_bounded(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    d = net.did(tnsp)
    for i in range(2, 17):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, f"key-{i}", 1, _key(), 2)
    with refused("did.too_many_keys"):
        net.ledger.transact(tnsp, "DIDRegistry", "add_key", d.id, "key-17", 1, _key(), 2)
    net.ledger.transact(tnsp, "DIDRegistry", "rotate_key", d.id, "key-16", "key-17", 1, _key(), 2)  # at the cap
    for i in range(16):
        net.ledger.transact(tnsp, "DIDRegistry", "set_service", d.id, f"s{i}", "T", "https://x.example")
    net.ledger.transact(tnsp, "DIDRegistry", "set_service", d.id, "s0", "T", "https://y.example")  # replace
    with refused("did.too_many_services"):
        net.ledger.transact(tnsp, "DIDRegistry", "set_service", d.id, "s16", "T", "https://x.example")
    net.ledger.transact(tnsp, "DIDRegistry", "remove_service", d.id, "s3")
    net.ledger.transact(tnsp, "DIDRegistry", "set_service", d.id, "s16", "T", "https://x.example")
