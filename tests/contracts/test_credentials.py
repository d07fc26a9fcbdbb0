"""Credential registry: who may anchor what, delegation as a live subset, revocation, porting, batches."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from contracts.vocab import Flags, Kind, Role, Status, TNRange
from node.chain.base import ChainBackend
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action, Ledger
from tests.netkit import Did, Net, refused

BOTH = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE
BLOCK = 12025550000



class World:
    """A TNSP holding 12025550000-12025559999, a vetter, an enterprise, two call centers and a CPaaS."""

    def __init__(self, net: Net) -> None:
        self.net = net
        self.tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
        self.vetter_acct = net.member("vetter", Role.VETTER)
        net.govern(Action.assign_blocks(BLOCK, 10000, self.tnsp_acct.address))
        self.tnsp = net.did(self.tnsp_acct)
        self.vetter = net.did(self.vetter_acct)
        self.ent = net.did(net.onboarded("ent", self.tnsp_acct))
        self.cc = net.did(net.onboarded("cc", self.tnsp_acct, "call-center"))
        self.cc2 = net.did(net.onboarded("cc2", self.tnsp_acct, "call-center"))
        self.cpaas = net.did(net.onboarded("cpaas", self.tnsp_acct, "cpaas"))

    def grant(self, tns: tuple[TNRange, ...] = (TNRange(BLOCK, 100),), flags: Flags = BOTH, **kw):  # type: ignore[no-untyped-def]
        return self.net.anchor(self.tnsp, self.net.anchor_for(Kind.TN_RIGHT_TO_USE, self.tnsp, self.ent, tns=tns,
                                                              flags=flags, **kw))

    def delegate(self, issuer: Did, subject: Did, parent: bytes, tns: tuple[TNRange, ...],
                 flags: Flags = BOTH, **kw):  # type: ignore[no-untyped-def]
        return self.net.anchor(issuer, self.net.anchor_for(Kind.TN_DELEGATION, issuer, subject, tns=tns,
                                                           parent=parent, flags=flags, **kw))


@dataclass(frozen=True)
class Made:
    path: Path  # the embedded chain's SQLite file, closed
    world: World


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """The world on the embedded chain, made once for the module (twenty-odd blocks, most of a test's cost)."""
    path = tmp_path_factory.mktemp("world") / "chain.sqlite"
    chain = EmbeddedChain(path)
    world = World(Net.create(chain))
    chain.close()
    return Made(path, world)


@pytest.fixture
def w(backend: ChainBackend, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    """A fresh world. On the embedded chain, a copy of the made one: its chain file copied and re-opened (the same
    parties and keys, the test's own ledger); on anvil, made on the spot."""
    if not isinstance(backend, EmbeddedChain):
        yield World(Net.create(backend))
        return
    made: Made = request.getfixturevalue("made")
    shutil.copyfile(made.path, tmp_path / "chain.sqlite")
    chain = EmbeddedChain(tmp_path / "chain.sqlite")
    world = copy.copy(made.world)
    world.net = replace(made.world.net, backend=chain, ledger=Ledger(chain, made.world.net.ledger.deployment),
                        accounts=dict(made.world.net.accounts), cids=dict(made.world.net.cids))
    yield world
    chain.close()


@pytest.fixture
def net(w: World) -> Net:
    """The world's network (overrides tests/contracts/conftest.py: every test here uses both)."""
    return w.net


def test_enterprise_identity_only_by_vetters(w: World) -> None:
    a = w.net.anchor(w.vetter, w.net.anchor_for(Kind.ENTERPRISE_IDENTITY, w.vetter, w.ent))
    rec = w.net.record(a.id)
    assert rec["kind"] == Kind.ENTERPRISE_IDENTITY and rec["status"] == Status.ACTIVE
    with refused("credentials.not_vetter"):
        w.net.anchor(w.tnsp, w.net.anchor_for(Kind.ENTERPRISE_IDENTITY, w.tnsp, w.ent))
    with refused("credentials.bad_identity"):
        w.net.anchor(w.vetter, w.net.anchor_for(Kind.ENTERPRISE_IDENTITY, w.vetter, w.ent, tns=(TNRange(BLOCK),)))


def test_root_grant_only_by_the_holder(w: World, net: Net) -> None:
    g = w.grant()
    assert net.record(g.id)["root_holder"] == w.tnsp_acct.address
    assert net.covers(g.id, BLOCK + 99) and not net.covers(g.id, BLOCK + 100)
    other_acct = net.member("other", Role.TNSP, "9999")
    other = net.did(other_acct)
    with refused("credentials.numbers_not_held"):
        net.anchor(other, net.anchor_for(Kind.TN_RIGHT_TO_USE, other, w.ent, tns=(TNRange(BLOCK, 10),)))
    with refused("credentials.numbers_not_held"):
        w.grant(tns=(TNRange(BLOCK + 9990, 20),))
    with refused("credentials.not_tn_holder_role"):
        net.anchor(w.vetter, net.anchor_for(Kind.TN_RIGHT_TO_USE, w.vetter, w.ent, tns=(TNRange(BLOCK),)))
    with refused("credentials.no_numbers"):
        w.grant(tns=())


def test_anchor_input_rules(w: World, net: Net) -> None:
    a = net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK),), flags=BOTH)
    with refused("credentials.not_issuer_controller"):  # the vetter's account does not control the TNSP DID
        net.ledger.anchor(w.vetter_acct, [a.to_abi()])
    with refused("credentials.unknown_subject"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, subject=b"\x07" * 16).to_abi()])
    with refused("credentials.self_issued"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, subject=w.tnsp.id).to_abi()])
    with refused("credentials.bad_validity"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, valid_from=a.valid_until).to_abi()])
    with refused("credentials.expired"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, valid_from=1, valid_until=net.now - 10).to_abi()])
    with refused("credentials.unknown_kind"):
        net.ledger.anchor(w.tnsp_acct, [dict(a.to_abi(), kind=7)])
    with refused("credentials.bad_flags"):
        net.ledger.anchor(w.tnsp_acct, [dict(a.to_abi(), flags=4)])
    with refused("credentials.empty_id"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, id=b"\x00" * 32).to_abi()])
    with refused("credentials.empty_credential"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, credential=b"").to_abi()])
    with refused("credentials.ranges_not_canonical"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, tns=(TNRange(BLOCK + 10), TNRange(BLOCK))).to_abi()])
    with refused("credentials.ranges_not_canonical"):  # adjacent ranges must be merged
        net.ledger.anchor(w.tnsp_acct, [replace(a, tns=(TNRange(BLOCK, 2), TNRange(BLOCK + 2))).to_abi()])
    with refused("numbers.bad_count"):
        net.ledger.anchor(w.tnsp_acct, [replace(a, tns=(TNRange(BLOCK, 0),)).to_abi()])
    net.ledger.anchor(w.tnsp_acct, [a.to_abi()])
    with refused("credentials.duplicate_id"):
        net.ledger.anchor(w.tnsp_acct, [a.to_abi()])


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_delegation_chains(w: World, net: Net, depth: int) -> None:
    g = w.grant(tns=(TNRange(BLOCK, 1000),))
    parties = [w.ent, w.cc, w.cc2, w.cpaas, w.vetter]
    parent, width = g, 1000
    for i in range(depth):
        width //= 2
        parent = w.delegate(parties[i], parties[i + 1], parent.id, (TNRange(BLOCK, width),))
        assert net.record(parent.id)["depth"] == i + 1
    assert net.covers(parent.id, BLOCK) and not net.covers(parent.id, BLOCK + width)
    assert net.ledger.call("CredentialRegistry", "is_live", parent.id)


def test_delegation_refusals(w: World, net: Net) -> None:
    g = w.grant(tns=(TNRange(BLOCK, 100), TNRange(BLOCK + 200, 100)))
    with refused("credentials.not_a_subset"):
        w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK + 50, 100),))
    with refused("credentials.not_a_subset"):  # spans the gap between two parent ranges
        w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK + 90, 120),))
    with refused("credentials.not_parent_subject"):
        w.delegate(w.cc, w.cc2, g.id, (TNRange(BLOCK, 10),))
    with refused("credentials.unknown_parent"):
        w.delegate(w.ent, w.cc, b"\x05" * 32, (TNRange(BLOCK, 10),))
    with refused("credentials.outlives_parent"):
        w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 10),), valid_until=net.now + 10 * 365 * 24 * 3600)
    relay = w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 10),), flags=Flags.NONE)  # relay-only, no delegation
    with refused("credentials.parent_may_not_delegate"):
        w.delegate(w.cc, w.cpaas, relay.id, (TNRange(BLOCK, 5),), flags=Flags.NONE)
    origin_only = w.delegate(w.ent, w.cc2, g.id, (TNRange(BLOCK, 10),), flags=Flags.MAY_DELEGATE)
    with refused("credentials.wider_than_parent"):  # may not add may-originate the parent lacks
        w.delegate(w.cc2, w.cpaas, origin_only.id, (TNRange(BLOCK, 5),), flags=BOTH)
    id_cred = net.anchor(w.vetter, net.anchor_for(Kind.ENTERPRISE_IDENTITY, w.vetter, w.ent))
    with refused("credentials.unknown_parent"):
        w.delegate(w.ent, w.cc, id_cred.id, (TNRange(BLOCK, 10),))
    with refused("credentials.root_has_parent"):
        net.anchor(w.tnsp, net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK),), parent=g.id))


def test_depth_limit(w: World, net: Net) -> None:
    parent = w.grant(tns=(TNRange(BLOCK, 10),))
    a, b = w.ent, w.cc
    for _ in range(8):
        parent = w.delegate(a, b, parent.id, (TNRange(BLOCK, 10),))
        a, b = b, (w.cc2 if b is not w.cc2 else w.cc)
    with refused("credentials.too_deep"):
        w.delegate(a, b, parent.id, (TNRange(BLOCK, 10),))


def test_revocation_ends_everything_below(w: World, net: Net) -> None:
    g = w.grant()
    mid = w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 50),))
    leaf = w.delegate(w.cc, w.cpaas, mid.id, (TNRange(BLOCK, 10),))
    with refused("credentials.not_issuer"):
        net.ledger.transact(w.cc.controller, "CredentialRegistry", "revoke", mid.id)  # the subject cannot
    net.ledger.transact(w.ent.controller, "CredentialRegistry", "revoke", mid.id)
    assert net.record(mid.id)["status"] == Status.REVOKED
    assert not net.ledger.call("CredentialRegistry", "is_live", leaf.id)
    assert not net.covers(leaf.id, BLOCK) and net.covers(g.id, BLOCK)
    with refused("credentials.parent_not_live"):
        w.delegate(w.cc, w.cpaas, mid.id, (TNRange(BLOCK, 5),))
    with refused("credentials.already_revoked"):
        net.ledger.transact(w.ent.controller, "CredentialRegistry", "revoke", mid.id)
    with refused("credentials.wrong_status"):
        net.ledger.transact(w.ent.controller, "CredentialRegistry", "reinstate", mid.id)


def test_suspend_and_reinstate(w: World, net: Net) -> None:
    g = w.grant()
    d = w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 50),))
    net.ledger.transact(w.tnsp_acct, "CredentialRegistry", "suspend", g.id)
    assert not net.covers(d.id, BLOCK)
    with refused("credentials.wrong_status"):
        net.ledger.transact(w.tnsp_acct, "CredentialRegistry", "suspend", g.id)
    net.ledger.transact(w.tnsp_acct, "CredentialRegistry", "reinstate", g.id)
    assert net.covers(d.id, BLOCK)
    with refused("credentials.not_found"):
        net.ledger.transact(w.tnsp_acct, "CredentialRegistry", "suspend", b"\x09" * 32)


def test_governance_revokes(w: World, net: Net) -> None:
    g = w.grant()
    net.govern(Action.revoke_credential(g.id))
    assert net.record(g.id)["status"] == Status.REVOKED


def test_reallocation_of_a_call_center(w: World, net: Net) -> None:
    """A call center's numbers move from one enterprise to another: revoke one delegation, issue another."""
    ent2 = net.did(net.onboarded("ent2", w.tnsp_acct))
    g1 = w.grant(tns=(TNRange(BLOCK, 100),))
    g2 = net.anchor(w.tnsp, net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, ent2, tns=(TNRange(BLOCK + 500, 100),),
                                           flags=BOTH))
    d1 = w.delegate(w.ent, w.cc, g1.id, (TNRange(BLOCK, 10),))
    net.ledger.transact(w.ent.controller, "CredentialRegistry", "revoke", d1.id)
    d2 = w.delegate(ent2, w.cc, g2.id, (TNRange(BLOCK + 500, 10),))
    assert not net.covers(d1.id, BLOCK) and net.covers(d2.id, BLOCK + 505)


def test_porting_ends_grants_for_ported_numbers_only(w: World, net: Net) -> None:
    g = w.grant()
    d = w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 20),))
    b_acct = net.member("b", Role.TNSP, "5555")
    b = net.did(b_acct)
    net.govern(Action.port(BLOCK + 5, 1, b_acct.address))
    assert not net.covers(g.id, BLOCK + 5) and not net.covers(d.id, BLOCK + 5)
    assert net.covers(g.id, BLOCK + 6) and net.covers(d.id, BLOCK + 6)
    with refused("credentials.numbers_ported"):
        w.delegate(w.cc, w.cpaas, d.id, (TNRange(BLOCK, 10),))
    w.delegate(w.cc, w.cpaas, d.id, (TNRange(BLOCK + 6, 4),))
    # the gaining provider grants the ported number to the same enterprise
    g_b = net.anchor(b, net.anchor_for(Kind.TN_RIGHT_TO_USE, b, w.ent, tns=(TNRange(BLOCK + 5),), flags=BOTH))
    assert net.covers(g_b.id, BLOCK + 5)
    with refused("credentials.numbers_not_held"):
        w.grant(tns=(TNRange(BLOCK + 5),))
    # porting back does not revive grants issued before the number left
    net.govern(Action.port(BLOCK + 5, 1, w.tnsp_acct.address))
    assert not net.covers(g.id, BLOCK + 5) and not net.covers(g_b.id, BLOCK + 5)
    fresh = w.grant(tns=(TNRange(BLOCK + 5),))
    assert net.covers(fresh.id, BLOCK + 5)


def test_toll_free_grants_by_resp_org(w: World, net: Net) -> None:
    resp_acct = net.member("resp", Role.RESP_ORG, "ABC01")
    resp = net.did(resp_acct)
    net.govern(Action.assign_numbers(18005550100, 10, resp_acct.address))
    g = net.anchor(resp, net.anchor_for(Kind.TN_RIGHT_TO_USE, resp, w.ent, tns=(TNRange(18005550100, 10),),
                                        flags=BOTH))
    assert net.covers(g.id, 18005550105)
    with refused("credentials.numbers_not_held"):
        w.grant(tns=(TNRange(18005550100),))


def test_batch_is_all_or_nothing(w: World, net: Net) -> None:
    g = net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK, 100),), flags=BOTH)
    bad = net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK + 9999, 2),), flags=BOTH)
    with refused("credentials.numbers_not_held"):
        net.ledger.anchor(w.tnsp_acct, [g.to_abi(), bad.to_abi()])
    assert net.record(g.id)["kind"] == 0
    more = [net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK + 100 * i, 50),), flags=BOTH)
            for i in range(1, 16)]
    r = net.ledger.anchor(w.tnsp_acct, [g.to_abi()] + [m.to_abi() for m in more])
    assert len([e for e in net.ledger.events(r) if e.name == "CredentialAnchored"]) == 16
    # a delegation rests on a grant anchored by another account in an earlier transaction
    g2 = net.anchor_for(Kind.TN_RIGHT_TO_USE, w.tnsp, w.ent, tns=(TNRange(BLOCK + 5000, 10),), flags=BOTH)
    d = net.anchor_for(Kind.TN_DELEGATION, w.ent, w.cc, tns=(TNRange(BLOCK + 5000, 5),), parent=g2.id, flags=BOTH)
    net.ledger.anchor(w.tnsp_acct, [g2.to_abi()])
    net.ledger.anchor(w.ent.controller, [d.to_abi()])
    assert net.covers(d.id, BLOCK + 5004)


def test_covers_needs_active_subject_and_a_member_root_holder(w: World, net: Net) -> None:
    g = w.grant()
    d = w.delegate(w.ent, w.cc, g.id, (TNRange(BLOCK, 10),))
    net.ledger.transact(w.cc.controller, "DIDRegistry", "deactivate", w.cc.id)
    assert not net.covers(d.id, BLOCK) and net.covers(g.id, BLOCK)
    net.govern(Action.remove(w.tnsp_acct.address))
    assert not net.covers(g.id, BLOCK)


def test_grant_over_blocks_with_ported_numbers(w: World, net: Net) -> None:
    """Ported numbers inside the granted blocks are checked one by one, within the gas a grant gets."""
    b_acct = net.member("b", Role.TNSP, "5555")
    net.govern(Action.port(BLOCK + 1500, 1, b_acct.address))
    net.govern(Action.port(BLOCK + 2500, 1, b_acct.address))
    g = w.grant(tns=(TNRange(BLOCK + 1000, 500), TNRange(BLOCK + 1501, 999), TNRange(BLOCK + 2501, 499)))
    assert net.covers(g.id, BLOCK + 2999) and not net.covers(g.id, BLOCK + 1500)
