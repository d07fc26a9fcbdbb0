"""Number authority: block and number assignment by governance, toll-free by Resp Orgs, porting."""

from __future__ import annotations

from contracts.vocab import Role
from node.ledger.client import Action
from tests.netkit import Net, refused

ZERO = "0x0000000000000000000000000000000000000000"


def govern_refused(net: Net, action: Action, code: str) -> None:
    res = net.ledger.propose(net.governors[0], action)
    with refused(code):
        net.ledger.vote(net.governors[1], res.proposal_id)


def test_blocks_to_tnsp(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    vetter = net.member("vetter", Role.VETTER)
    net.govern(Action.assign_blocks(12025550000, 10000, tnsp.address))
    assert net.ledger.holder_of(12025550000) == tnsp.address
    assert net.ledger.holder_of(12025559999) == tnsp.address
    assert net.ledger.holder_of(12025560000) == ZERO
    assert net.ledger.call("NumberAuthority", "holds", tnsp.address, 12025550100, 5000, 2**63)
    assert not net.ledger.call("NumberAuthority", "holds", tnsp.address, 12025559000, 2000, 2**63)
    govern_refused(net, Action.assign_blocks(12025550000, 1000, tnsp.address), "numbers.already_assigned")
    govern_refused(net, Action.assign_blocks(12025560100, 1000, tnsp.address), "numbers.not_block_aligned")
    govern_refused(net, Action.assign_blocks(12025560000, 1000, vetter.address), "numbers.holder_not_tnsp")
    govern_refused(net, Action.assign_blocks(18005550000, 1000, tnsp.address), "numbers.toll_free_by_number")
    govern_refused(net, Action.assign_blocks(12025560000, 101000, tnsp.address), "numbers.bad_count")
    govern_refused(net, Action.assign_blocks(999000, 1000, tnsp.address), "numbers.bad_number")
    govern_refused(net, Action.assign_numbers(9999999, 2, tnsp.address), "numbers.range_crosses_length")


def test_toll_free_only_to_resp_orgs(net: Net) -> None:
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    resp = net.member("resp", Role.RESP_ORG, "ABC01")
    assert net.ledger.call("NumberAuthority", "is_toll_free", 18005551234)
    assert net.ledger.call("NumberAuthority", "is_toll_free", 18885551234)
    assert not net.ledger.call("NumberAuthority", "is_toll_free", 18095551234)
    assert not net.ledger.call("NumberAuthority", "is_toll_free", 8005551234)
    govern_refused(net, Action.assign_numbers(18005551234, 1, tnsp.address), "numbers.holder_not_resp_org")
    net.govern(Action.assign_numbers(18005551234, 3, resp.address))
    assert net.ledger.holder_of(18005551235) == resp.address
    govern_refused(net, Action.assign_numbers(18005551236, 1, resp.address), "numbers.already_assigned")
    govern_refused(net, Action.assign_numbers(12025550000, 1, resp.address), "numbers.holder_not_tnsp")


def test_porting_numbers_and_blocks(net: Net) -> None:
    a = net.member("a", Role.TNSP, "1111")
    b = net.member("b", Role.TNSP, "2222")
    net.govern(Action.assign_blocks(12025550000, 2000, a.address))
    before = net.ledger.call("NumberAuthority", "holder_since", 12025550143)
    net.govern(Action.port(12025550143, 1, b.address))
    assert net.ledger.holder_of(12025550143) == b.address
    assert net.ledger.holder_of(12025550144) == a.address
    assert net.ledger.call("NumberAuthority", "holder_since", 12025550143) > before  # a later holding epoch
    assert net.ledger.call("NumberAuthority", "overrides", 12025550) == 1
    # a block with a ported number inside moves number by number; a clean block moves whole
    govern_refused(net, Action.port(12025550000, 1000, b.address), "numbers.mixed_holders")
    net.govern(Action.port(12025551000, 1000, b.address))
    assert net.ledger.call("NumberAuthority", "block_holder", 12025551) == b.address
    govern_refused(net, Action.port(12025551000, 1, b.address), "numbers.same_holder")
    govern_refused(net, Action.port(12025560000, 1, b.address), "numbers.not_assigned")
    # port back: the number is a's again, from a later time
    net.govern(Action.port(12025550143, 1, a.address))
    assert net.ledger.holder_of(12025550143) == a.address
    assert net.ledger.call("NumberAuthority", "overrides", 12025550) == 1


def test_holds_reads_only_ported_numbers_one_by_one(net: Net) -> None:
    """A range over blocks with ported numbers stays cheap: the bitmap finds the few per-number entries."""
    a = net.member("a", Role.TNSP, "1111")
    b = net.member("b", Role.TNSP, "2222")
    net.govern(Action.assign_blocks(12025550000, 5000, a.address))
    for tn in (12025550007, 12025551999, 12025553000):
        net.govern(Action.port(tn, 1, b.address))
    assert not net.ledger.call("NumberAuthority", "holds", a.address, 12025550000, 5000, 2**63)
    assert net.ledger.call("NumberAuthority", "holds", a.address, 12025550008, 1991, 2**63)
    assert net.ledger.call("NumberAuthority", "holds", b.address, 12025551999, 1, 2**63)
    assert not net.ledger.call("NumberAuthority", "holds", b.address, 12025551999, 2, 2**63)
    bits = net.ledger.call("NumberAuthority", "override_bits", 12025551, 3)
    assert bits == 1 << (999 - 768)
