"""Members and governance: M-of-N proposals, roles, removal, onboarding by endorsers."""

from __future__ import annotations

import pytest
from eth_account import Account

from contracts.vocab import Role
from node.ledger.client import Action
from tests.netkit import Net, refused


def test_admission_needs_threshold_votes(net: Net) -> None:
    acct = Account.create()
    res = net.ledger.propose(net.governors[0], Action.admit(acct.address, Role.TNSP, "1234", "Tel One"))
    assert not res.executed and res.votes == 1
    assert net.ledger.roles_of(acct.address) == 0
    res = net.ledger.vote(net.governors[1], res.proposal_id)
    assert res.executed and res.votes == 2
    assert net.ledger.roles_of(acct.address) == Role.TNSP
    assert net.ledger.call("Members", "spc", acct.address) == "1234"


def test_only_governors_propose_and_vote(net: Net) -> None:
    outsider = Account.create()
    with refused("members.not_governor"):
        net.ledger.propose(outsider, Action.admit(outsider.address, Role.TNSP, "1", ""))
    res = net.ledger.propose(net.governors[0], Action.admit(outsider.address, Role.VETTER, "", ""))
    with refused("members.not_governor"):
        net.ledger.vote(outsider, res.proposal_id)
    with refused("members.already_voted"):
        net.ledger.vote(net.governors[0], res.proposal_id)
    net.ledger.vote(net.governors[1], res.proposal_id)
    with refused("members.proposal_not_open"):
        net.ledger.vote(net.governors[2], res.proposal_id)


def test_actions_only_by_proposal(net: Net) -> None:
    g = net.governors[0]
    with refused("members.only_by_proposal"):
        net.ledger.transact(g, "Members", "admit", g.address, 2, "1", "")
    with refused("members.only_by_proposal"):
        net.ledger.transact(g, "Members", "set_threshold", 1)
    with refused("numbers.only_by_proposal"):
        net.ledger.transact(g, "NumberAuthority", "assign_blocks", 12025550000, 1000, g.address)
    with refused("members.target_not_governed"):
        net.ledger.transact(g, "Members", "propose", Account.create().address, b"\x01\x02\x03\x04")


def test_bind_only_once_by_deployer(net: Net) -> None:
    with refused("members.not_deployer"):
        net.ledger.transact(net.governors[0], "Members", "bind", [net.ledger.address("Members")])


@pytest.mark.parametrize(("roles", "spc", "code"), [
    (0, "", "members.bad_roles"),
    (64, "", "members.bad_roles"),
    (int(Role.TNSP), "", "members.spc_required"),
    (int(Role.OSP), "", "members.spc_required"),
])
def test_bad_admissions_fail_when_executed(net: Net, roles: int, spc: str, code: str) -> None:
    acct = Account.create()
    res = net.ledger.propose(net.governors[0], Action.admit(acct.address, roles, spc, ""))
    with refused(code):  # the executing vote carries the inner reason and reverts as a whole
        net.ledger.vote(net.governors[1], res.proposal_id)
    assert net.ledger.proposal(res.proposal_id)["state"] == 1  # still open, nothing applied
    assert net.ledger.roles_of(acct.address) == 0


def test_vetter_needs_no_spc_and_double_admission_refused(net: Net) -> None:
    v = net.member("vetter", Role.VETTER)
    res = net.ledger.propose(net.governors[0], Action.admit(v.address, Role.VETTER, "", ""))
    with refused("members.already_member"):
        net.ledger.vote(net.governors[1], res.proposal_id)


def test_set_roles_remove_and_quorum(net: Net) -> None:
    t = net.member("tnsp", Role.TNSP, "1111")
    net.govern(Action.set_roles(t.address, Role.TNSP | Role.OSP, "2222"))
    assert net.ledger.roles_of(t.address) == Role.TNSP | Role.OSP
    net.govern(Action.remove(t.address))
    assert net.ledger.roles_of(t.address) == 0
    with refused("members.not_member"):
        net.govern(Action.remove(t.address))
    # 3 governors, threshold 2: removing one is fine, removing a second would lose quorum
    net.govern(Action.remove(net.governors[2].address))
    assert net.ledger.call("Members", "governor_count") == 2
    res = net.ledger.propose(net.governors[0], Action.remove(net.governors[1].address))
    with refused("members.quorum_lost"):
        net.ledger.vote(net.governors[1], res.proposal_id)


def test_threshold_change(net: Net) -> None:
    res = net.ledger.propose(net.governors[0], Action.set_threshold(4))
    with refused("members.bad_threshold"):
        net.ledger.vote(net.governors[1], res.proposal_id)
    net.govern(Action.set_threshold(1))
    assert net.threshold() == 1
    acct = Account.create()
    assert net.ledger.propose(net.governors[2], Action.admit(acct.address, Role.VETTER, "", "")).executed


def test_cancel_only_by_proposer(net: Net) -> None:
    res = net.ledger.propose(net.governors[0], Action.set_threshold(3))
    with refused("members.not_proposer"):
        net.ledger.cancel(net.governors[1], res.proposal_id)
    net.ledger.cancel(net.governors[0], res.proposal_id)
    assert net.ledger.proposal(res.proposal_id)["state"] == 3
    with refused("members.proposal_not_open"):
        net.ledger.vote(net.governors[1], res.proposal_id)


def test_onboarding_by_endorsers(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    vetter = net.member("vetter", Role.VETTER)
    ent = Account.create()
    with refused("members.not_endorser"):
        net.ledger.onboard(net.governors[0], ent.address, "enterprise")  # a pure governor does not endorse
    with refused("members.not_endorser"):
        net.ledger.onboard(Account.create(), ent.address, "enterprise")
    net.ledger.onboard(tnsp, ent.address, "enterprise")
    assert net.ledger.call("Members", "is_known", ent.address)
    assert net.ledger.call("Members", "endorser_of", ent.address) == tnsp.address
    with refused("members.already_onboarded"):
        net.ledger.onboard(vetter, ent.address, "enterprise")
    with refused("members.already_member"):
        net.ledger.onboard(vetter, tnsp.address, "enterprise")
    with refused("members.not_endorser"):
        net.ledger.offboard(vetter, ent.address)
    net.ledger.offboard(tnsp, ent.address)
    assert not net.ledger.call("Members", "is_known", ent.address)
    with refused("members.not_onboarded"):
        net.ledger.offboard(tnsp, ent.address)


def test_governance_offboards_anyone(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    ent = net.onboarded("ent", tnsp)
    net.govern(Action.offboard(ent.address))
    assert not net.ledger.call("Members", "is_known", ent.address)


def test_removed_endorser_cannot_offboard(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    ent = net.onboarded("ent", tnsp)
    net.govern(Action.remove(tnsp.address))
    assert net.ledger.call("Members", "is_known", ent.address)  # customers stay onboarded
    with refused("members.not_endorser"):
        net.ledger.offboard(tnsp, ent.address)
