"""A grant's or delegation's role reaches the node's index and TN index (issue 10); an index of schema 3 gains the
column on open, filled from the signed credentials it keeps; unknown roles are refused at sync."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from contracts.vocab import Flags, Kind, Role, TNRange
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.sync.follower import Follower
from node.sync.store import SCHEMA_VERSION, Store
from node.tnindex import build_from_store
from tests.netkit import Net
from wallet.credentials import CredentialError, anchor_of, role_of, tn_delegation, tn_right_to_use

BOTH = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE


@pytest.fixture
def world(tmp_path: Path) -> tuple[Net, Store, dict[str, bytes]]:
    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_acct.address))
    tnsp = net.did(tnsp_acct)
    platform, tenant = (net.did(net.onboarded(n, tnsp_acct)) for n in ("platform", "tenant"))
    g = net.anchor(tnsp, net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp, platform, tns=(TNRange(12025550100, 100),),
                                        flags=BOTH, role="platform"))
    d = net.anchor(platform, net.anchor_for(Kind.TN_DELEGATION, platform, tenant, tns=(TNRange(12025550110, 10),),
                                            parent=g.id, flags=Flags.MAY_ORIGINATE, role="enterprise"))
    store = Store(tmp_path / "index.sqlite")
    Follower(net.backend, store, net.ledger.deployment).sync()
    return net, store, {"grant": g.id, "delegation": d.id}


def test_roles_reach_the_index_and_the_tn_index(world: tuple[Net, Store, dict[str, bytes]]) -> None:
    net, store, ids = world
    roles = dict(store.db.execute("SELECT id, role FROM credentials WHERE kind != 1").fetchall())
    assert roles == {ids["grant"]: "platform", ids["delegation"]: "enterprise"}
    chain = build_from_store(store).chains(12025550111, now=net.now + 100)
    assert [c.role for c in chain[-1].links] == ["enterprise", "platform"]


def test_an_index_of_schema_3_gains_the_role_column(world: tuple[Net, Store, dict[str, bytes]],
                                                   tmp_path: Path) -> None:
    _, store, ids = world
    store.close()
    db = sqlite3.connect(str(tmp_path / "index.sqlite"))
    db.execute("ALTER TABLE credentials DROP COLUMN role")  # as a node of the previous version wrote it
    db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    migrated = Store(tmp_path / "index.sqlite")
    assert migrated.get_meta("schema_version") == str(SCHEMA_VERSION) == "4"
    roles = dict(migrated.db.execute("SELECT id, role FROM credentials WHERE kind != 1").fetchall())
    assert roles == {ids["grant"]: "platform", ids["delegation"]: "enterprise"}


def test_roles_in_credentials() -> None:
    issuer, subject = "did:eidln:local:12drXXUifSrRnXLGbXg8E", "did:eidln:local:12drXXUifSrRnXLGbXg8F"
    grant = tn_right_to_use(issuer=issuer, subject=subject, ranges=(TNRange(12025550100, 10),), valid_from=1,
                            valid_until=2)
    assert grant["credentialSubject"]["role"] == "enterprise" and role_of(grant) == "enterprise"
    deleg = tn_delegation(issuer=issuer, subject=subject, parent="urn:x", ranges=(TNRange(12025550100, 1),),
                          valid_from=1, valid_until=2, role="platform")
    assert role_of(deleg) == "platform"
    v1 = {**deleg, "credentialSubject": {k: v for k, v in deleg["credentialSubject"].items() if k != "role"}}
    assert role_of(v1) == "vendor"  # a TN context v1 delegation has no role
    with pytest.raises(CredentialError, match="role"):
        tn_delegation(issuer=issuer, subject=subject, parent="urn:x", ranges=(TNRange(1, 1),), valid_from=1,
                      valid_until=2, role="landlord")
    bad = {**deleg, "credentialSubject": {**deleg["credentialSubject"], "role": "landlord"}}
    with pytest.raises(CredentialError, match="role"):
        anchor_of(bad)  # refused at sync: the node keeps it aside as malformed
