"""The in-memory TN index: chains, status, validity, porting and flags; a brute-force model; the contract itself."""

from __future__ import annotations

import gc
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.vocab import Flags, Kind, Status, TNRange
from node.chain.embedded import EmbeddedChain
from node.errors import StoreError
from node.sync.follower import Follower
from node.sync.store import Store
from node.tnindex import (
    EXPIRED,
    NOT_IN_RANGE,
    NOT_YET_VALID,
    PARENT_NOT_LIVE,
    PORTED,
    REVOKED,
    ROOT_PARENT,
    SUSPENDED,
    UNKNOWN,
    Chain,
    TNCredential,
    TNIndex,
    build_from_store,
)
from tests.netkit import Net, populate
from tests.node.tnfeed import feed

TNSP = "0x" + "a1" * 20
OTHER = "0x" + "b2" * 20
BASE = 12025550000  # block 12025550: numbers 12025550000 .. 12025550999
T0, T1 = 1_000, 2_000  # default validity [T0, T1)


def cid(n: int) -> bytes:
    return n.to_bytes(32, "big")


def did(n: int) -> bytes:
    return n.to_bytes(16, "big")


class Ledger:
    """A tiny builder: grants and delegations with the registry's bookkeeping (depth, root holder, since)."""

    def __init__(self) -> None:
        self.ix = TNIndex()
        self.ix.set_holder_block(BASE // 1000, TNSP, 3)
        self.n = 0

    def grant(self, *ranges: TNRange, flags: Flags = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE, since: int = 5,
              valid: tuple[int, int] = (T0, T1), holder: str = TNSP) -> TNCredential:
        self.n += 1
        return self.ix.add_credential(cid(self.n), kind=Kind.TN_RIGHT_TO_USE, issuer=did(1), subject=did(self.n + 1),
                                      flags=flags, depth=0, valid_from=valid[0], valid_until=valid[1],
                                      root_holder=holder, root_since=since, ranges=ranges or (TNRange(BASE, 100),))

    def delegate(self, parent: TNCredential, *ranges: TNRange, flags: Flags | None = None,
                 valid: tuple[int, int] | None = None) -> TNCredential:
        self.n += 1
        return self.ix.add_credential(
            cid(self.n), kind=Kind.TN_DELEGATION, issuer=parent.subject, subject=did(self.n + 1), parent=parent.id,
            flags=parent.flags if flags is None else flags, depth=parent.depth + 1,
            valid_from=(valid or (parent.valid_from, parent.valid_until))[0],
            valid_until=(valid or (parent.valid_from, parent.valid_until))[1], root_holder=parent.root_holder,
            root_since=parent.root_since, ranges=ranges or parent.ranges)

    def chain(self, links: int) -> list[TNCredential]:
        """Root, then ``links - 1`` delegations, each of a narrower range (all containing BASE + 5)."""
        out = [self.grant(TNRange(BASE, 100))]
        for i in range(1, links):
            out.append(self.delegate(out[-1], TNRange(BASE, 100 - 10 * i)))
        return out


# ------------------------------------------------------------------ chains


@pytest.mark.parametrize("links", [1, 2, 3, 4])
def test_chains_of_depth_one_to_four(links: int) -> None:
    led = Ledger()
    creds = led.chain(links)
    found = led.ix.chains(BASE + 5, now=T0)
    assert [c.leaf for c in found] == creds  # every link covers the number itself, roots first
    deepest = found[-1]
    assert isinstance(deepest, Chain) and deepest.leaf == creds[-1] and deepest.root == creds[0]
    assert deepest.links == tuple(reversed(creds)) and deepest.ids == tuple(c.id for c in reversed(creds))
    assert [c.depth for c in deepest.links] == list(range(links - 1, -1, -1))
    for c in creds:
        assert led.ix.covers(c.id, BASE + 5, T0) and led.ix.why_not(c.id, BASE + 5, T0) is None
    # a number only the wider links list: the deepest link's range is [BASE, BASE + 100 - 10 * (links - 1))
    edge = BASE + 100 - 10 * (links - 1)
    assert [c.leaf.depth for c in led.ix.chains(edge, now=T0)] == list(range(links - 1))
    if links > 1:
        assert led.ix.why_not(creds[-1].id, edge, T0) == NOT_IN_RANGE
    assert led.ix.chains(BASE + 100, now=T0) == [] and led.ix.chains(BASE - 1, now=T0) == []


def test_chain_is_a_snapshot() -> None:
    led = Ledger()
    root, d1 = led.chain(2)
    before = led.ix.chains(BASE, now=T0)[-1]
    led.ix.set_status(root.id, Status.SUSPENDED)
    assert before.root.status is Status.ACTIVE  # handed-out chains do not change
    assert led.ix.get(root.id).status is Status.SUSPENDED  # type: ignore[union-attr]


@pytest.mark.parametrize(("status", "code"), [(Status.REVOKED, REVOKED), (Status.SUSPENDED, SUSPENDED)])
def test_middle_link_revoked_or_suspended(status: Status, code: str) -> None:
    led = Ledger()
    root, d1, d2, d3 = led.chain(4)
    led.ix.set_status(d1.id, status)
    assert [c.leaf for c in led.ix.chains(BASE + 5, now=T0)] == [root]
    assert led.ix.why_not(d1.id, BASE + 5, T0) == code
    assert led.ix.why_not(d2.id, BASE + 5, T0) == led.ix.why_not(d3.id, BASE + 5, T0) == PARENT_NOT_LIVE
    assert led.ix.covers(root.id, BASE + 5, T0)
    if status is Status.SUSPENDED:
        led.ix.set_status(d1.id, Status.ACTIVE)  # reinstated: the whole chain is back
        assert [c.leaf for c in led.ix.chains(BASE + 5, now=T0)] == [root, d1, d2, d3]
    else:
        with pytest.raises(StoreError) as exc:
            led.ix.set_status(d1.id, Status.ACTIVE)
        assert exc.value.code == "store.inconsistent"


def test_revoking_the_root_ends_everything_below() -> None:
    led = Ledger()
    root, d1, d2 = led.chain(3)
    led.ix.set_status(root.id, Status.REVOKED)
    assert led.ix.chains(BASE + 5, now=T0) == []
    assert [led.ix.why_not(c.id, BASE + 5, T0) for c in (root, d1, d2)] == [REVOKED, PARENT_NOT_LIVE, PARENT_NOT_LIVE]


def test_revocation_frees_the_segments() -> None:
    led = Ledger()
    root = led.grant(TNRange(BASE, 100))
    empty = led.ix.segment_count
    d = led.delegate(root, TNRange(BASE + 10, 5), TNRange(BASE + 50, 1))
    assert led.ix.segment_count == empty + 4
    led.ix.set_status(d.id, Status.REVOKED)
    assert led.ix.segment_count == empty
    led.ix.set_status(d.id, Status.REVOKED)  # the ledger refuses a second revocation; the index shrugs
    led.ix.set_status(root.id, Status.REVOKED)
    assert led.ix.segment_count == 0 and led.ix.chains(BASE + 10, now=T0) == []


# ------------------------------------------------------------------ validity


def test_expiry_boundaries() -> None:
    led = Ledger()
    root = led.grant(valid=(T0, T1))
    assert led.ix.why_not(root.id, BASE, T0 - 1) == NOT_YET_VALID
    assert led.ix.covers(root.id, BASE, T0)  # valid_from is inclusive
    assert led.ix.covers(root.id, BASE, T1 - 1)
    assert led.ix.why_not(root.id, BASE, T1) == EXPIRED  # valid_until is exclusive
    assert led.ix.chains(BASE, now=T1) == [] and led.ix.chains(BASE, now=T0 - 1) == []
    assert len(led.ix.chains(BASE, now=T1 - 1)) == 1


def test_a_link_expiring_before_the_leaf() -> None:
    """The registry keeps a delegation inside its parent's validity; the index checks every link anyway."""
    led = Ledger()
    root = led.grant(valid=(T0, T1))
    d1 = led.delegate(root, valid=(T0, T1 + 500))
    assert [c.leaf for c in led.ix.chains(BASE, now=T1 - 1)] == [root, d1]
    assert led.ix.chains(BASE, now=T1) == []
    assert led.ix.why_not(d1.id, BASE, T1) == PARENT_NOT_LIVE
    d2 = led.delegate(root, valid=(T0 + 10, T1))
    assert led.ix.why_not(d2.id, BASE, T0 + 9) == NOT_YET_VALID
    assert led.ix.why_not(root.id, BASE, T0 - 1) == NOT_YET_VALID


# ------------------------------------------------------------------ porting


def test_a_ported_number_ends_its_grants_and_porting_back_does_not_revive() -> None:
    led = Ledger()
    root, d1 = led.chain(2)  # root_since 5; the block has been held since epoch 3
    led.ix.set_holder_number(BASE + 7, OTHER, 8)  # ported away at epoch 8
    assert led.ix.chains(BASE + 7, now=T0) == []
    assert led.ix.why_not(root.id, BASE + 7, T0) == led.ix.why_not(d1.id, BASE + 7, T0) == PORTED
    assert len(led.ix.chains(BASE + 6, now=T0)) == len(led.ix.chains(BASE + 8, now=T0)) == 2  # neighbours stay
    led.ix.set_holder_number(BASE + 7, TNSP, 9)  # ported back at epoch 9 > root_since 5
    assert led.ix.holder_of(BASE + 7) == (TNSP, 9)
    assert led.ix.chains(BASE + 7, now=T0) == [] and led.ix.why_not(d1.id, BASE + 7, T0) == PORTED
    fresh = led.grant(TNRange(BASE + 7), since=9)  # a new grant after the port back covers it
    assert [c.leaf for c in led.ix.chains(BASE + 7, now=T0)] == [fresh]


def test_holding_since_equal_to_root_since_counts() -> None:
    led = Ledger()
    led.ix.set_holder_block(BASE // 1000, TNSP, 5)
    root = led.grant(since=5)
    assert led.ix.covers(root.id, BASE, T0)
    led.ix.set_holder_block(BASE // 1000, TNSP, 6)  # re-assigned (a later epoch): the grant does not stand
    assert led.ix.why_not(root.id, BASE, T0) == PORTED


def test_whole_block_ported_and_unheld_numbers() -> None:
    led = Ledger()
    root = led.grant()
    led.ix.set_holder_block(BASE // 1000, OTHER, 7)
    assert led.ix.chains(BASE, now=T0) == [] and led.ix.why_not(root.id, BASE + 99, T0) == PORTED
    lone = led.grant(TNRange(BASE + 5000), holder=TNSP)  # a block nobody holds
    assert led.ix.holder_of(BASE + 5000) is None and led.ix.why_not(lone.id, BASE + 5000, T0) == PORTED
    assert led.ix.chains(BASE + 5000, now=T0) == []


def test_holders_compare_case_insensitively() -> None:
    led = Ledger()
    root = led.grant(holder=TNSP.upper().replace("0X", "0x"))
    assert led.ix.covers(root.id, BASE, T0) and root.root_holder == TNSP


# ------------------------------------------------------------------ flags


def test_relay_only_links_are_reported_with_their_flags() -> None:
    """Chains carry flags; a link that may not originate is still in the chain (the caller decides)."""
    led = Ledger()
    root = led.grant(flags=Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE)
    relay = led.delegate(root, TNRange(BASE, 50), flags=Flags.MAY_DELEGATE)  # a reseller: delegates, never calls
    leaf = led.delegate(relay, TNRange(BASE, 10), flags=Flags.NONE)
    found = {c.leaf.id: c for c in led.ix.chains(BASE + 1, now=T0)}
    assert set(found) == {root.id, relay.id, leaf.id}
    assert found[root.id].may_originate
    assert not found[relay.id].may_originate and found[relay.id].leaf.flags is Flags.MAY_DELEGATE
    assert not found[leaf.id].may_originate
    assert [c.flags for c in found[leaf.id].links] == [Flags.NONE, Flags.MAY_DELEGATE, Flags(3)]


# ------------------------------------------------------------------ misc


def test_unknown_and_not_in_range() -> None:
    led = Ledger()
    root = led.grant(TNRange(BASE, 10), TNRange(BASE + 20, 10))
    assert led.ix.why_not(cid(999), BASE, T0) == UNKNOWN and not led.ix.covers(cid(999), BASE, T0)
    assert led.ix.why_not(root.id, BASE + 15, T0) == NOT_IN_RANGE
    assert led.ix.covers(root.id, BASE + 29, T0) and led.ix.why_not(root.id, BASE + 30, T0) == NOT_IN_RANGE
    assert root.ranges == (TNRange(BASE, 10), TNRange(BASE + 20, 10)) and root.is_root
    assert len(led.ix) == 1 and root.id in led.ix and list(led.ix.credentials()) == [root]


def test_misuse_raises() -> None:
    led = Ledger()
    root = led.grant()
    good: dict[str, Any] = dict(kind=Kind.TN_RIGHT_TO_USE, issuer=did(1), subject=did(2), flags=3, depth=0,
                                valid_from=T0, valid_until=T1, root_holder=TNSP, root_since=5, ranges=[TNRange(BASE)])
    bad: list[dict[str, Any]] = [
        {"kind": Kind.ENTERPRISE_IDENTITY}, {"flags": 4}, {"status": 0}, {"depth": 1}, {"issuer": b"short"},
        {"ranges": []}, {"ranges": [TNRange(BASE, 0)]}, {"ranges": [TNRange(BASE, 10), TNRange(BASE + 5)]},
        {"ranges": [TNRange(BASE + 5), TNRange(BASE)]}, {"kind": Kind.TN_DELEGATION, "parent": root.id},
    ]
    for change in bad:
        with pytest.raises(ValueError):
            led.ix.add_credential(cid(77), **{**good, **change})
    with pytest.raises(StoreError):
        led.ix.add_credential(root.id, **good)
    with pytest.raises(StoreError):
        led.ix.set_status(cid(78), Status.REVOKED)
    with pytest.raises(ValueError):
        led.ix.set_status(root.id, 9)
    with pytest.raises(ValueError, match="empty index"):
        led.ix._load([], (), ())
    with pytest.raises(StoreError):
        TNIndex.from_records([root, root])


def test_delegations_share_their_parents_id_object() -> None:
    led = Ledger()
    root = led.grant()
    d = led.delegate(root)
    assert d.parent is root.id and root.parent is ROOT_PARENT


def test_bulk_load_restores_the_collector() -> None:
    led = Ledger()
    root = led.grant()
    assert gc.isenabled()
    TNIndex.from_records([root])
    assert gc.isenabled()
    gc.disable()
    try:
        TNIndex.from_records([root])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_sync_changes_feed_the_index() -> None:
    def ev(contract: str, name: str, **args: object) -> dict[str, object]:
        return {"contract": contract, "name": name, "args": args}

    ix = TNIndex()
    feed(ix, [ev("NumberAuthority", "BlocksAssigned", start=BASE, count=3000, holder=TNSP.upper(), epoch=1)])
    feed(ix, [ev("NumberAuthority", "NumbersAssigned", start=18005550100, count=2, holder=OTHER, epoch=2)])
    assert ix.holder_of(BASE + 2999) == (TNSP, 1) and ix.holder_of(BASE + 3000) is None
    assert ix.holder_of(18005550101) == (OTHER, 2) and ix.holder_of(18005550102) is None
    feed(ix, [ev("NumberAuthority", "NumbersPorted", start=BASE + 1000, count=1000, from_holder=TNSP,
                      to_holder=OTHER, epoch=3)])  # a whole block moves
    assert ix.holder_of(BASE + 1500) == (OTHER, 3) and ix.single_numbers() == {18005550100, 18005550101}
    feed(ix, [ev("NumberAuthority", "NumbersPorted", start=BASE + 7, count=1, from_holder=TNSP,
                      to_holder=OTHER, epoch=4)])
    feed(ix, [ev("NumberAuthority", "NumbersPorted", start=BASE + 2000, count=1000, from_holder=TNSP,
                      to_holder=OTHER, epoch=5)])  # aligned, but the block has no per-number entries: whole block
    assert ix.holder_of(BASE + 7) == (OTHER, 4) and ix.holder_of(BASE + 2001) == (OTHER, 5)
    feed(ix, [ev("NumberAuthority", "NumbersPorted", start=BASE, count=1000, from_holder=TNSP,
                      to_holder=OTHER, epoch=6)])  # aligned, but BASE + 7 has its own entry: number by number
    assert ix.holder_of(BASE + 7) == (OTHER, 6) and len(ix.single_numbers()) == 1002
    anchored = dict(id="0x" + cid(1).hex(), issuer="0x" + did(1).hex(), subject="0x" + did(2).hex(),
                    parent="0x" + ROOT_PARENT.hex(), flags=3, depth=0, valid_from=T0, valid_until=T1,
                    root_holder=TNSP, root_since=2, tns=[{"start": BASE + 5, "count": 10}])
    feed(ix, [ev("CredentialRegistry", "CredentialAnchored", kind=1, **{**anchored, "id": "0x" + cid(2).hex()})])
    feed(ix, [ev("CredentialRegistry", "CredentialAnchored", kind=2, **anchored)])
    feed(ix, [ev("CredentialRegistry", "StatusChanged", id="0x" + cid(2).hex(), new_status=2)])  # not TN
    feed(ix, [ev("DIDRegistry", "DIDCreated", did="0x" + did(3).hex())])
    assert len(ix) == 1 and cid(2) not in ix
    feed(ix, [ev("CredentialRegistry", "StatusChanged", id="0x" + cid(1).hex(), new_status=3)])
    assert ix.why_not(cid(1), BASE + 5, T0) == SUSPENDED


# ------------------------------------------------------------------ segments: incremental = bulk = naive


def test_segments_incremental_bulk_and_naive_agree() -> None:
    """Enough ranges to split chunks many times; then revoke a third of them (merging segments back)."""
    rng = random.Random(7)
    led = Ledger()
    blocks = [(b, TNSP, 0) for b in range(BASE // 1000, BASE // 1000 + 6)]
    for b, h, since in blocks:
        led.ix.set_holder_block(b, h, since)
    creds = []
    for _ in range(1500):
        start = BASE + rng.randrange(5000)
        creds.append(led.grant(TNRange(start, rng.randint(1, 30)), TNRange(start + 40, rng.randint(1, 3))))
    for c in rng.sample(creds, 500):
        led.ix.set_status(c.id, Status.REVOKED)
    bulk = TNIndex.from_records(led.ix.credentials(), blocks=blocks)
    assert led.ix.segment_count == bulk.segment_count
    assert len(led.ix._segments._keys) >= 4  # chunks did split (a chunk holds up to 1,024 boundaries)
    for tn in range(BASE - 2, BASE + 5100, 3):
        naive = sorted(c.id for c in led.ix.credentials() if c.status is Status.ACTIVE and c.lists(tn))
        assert sorted(led.ix._segments.stab(tn)) == sorted(bulk._segments.stab(tn)) == naive
        assert [c.leaf.id for c in led.ix.chains(tn, now=T0)] == naive


# ------------------------------------------------------------------ hypothesis: index vs brute force


LO, HI = 1994, 2006  # the number space: the end of block 1 and the start of block 2
HOLDERS = ("0xaa", "0xbb", "0xcc")


@dataclass
class Cred:
    id: bytes
    kind: Kind
    parent: bytes
    depth: int
    flags: int
    root_holder: str
    root_since: int
    spans: list[tuple[int, int]]
    valid_from: int
    valid_until: int
    status: Status = Status.ACTIVE


@dataclass
class World:
    creds: list[Cred] = field(default_factory=list)
    statuses: list[tuple[int, Status]] = field(default_factory=list)
    blocks: dict[int, tuple[str, int]] = field(default_factory=dict)
    numbers: dict[int, tuple[str, int]] = field(default_factory=dict)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """Holdings (block 1 always held, block 2 maybe, a few single numbers) and a random forest of grants and
    delegations (subsets of a parent range) with random validity, then random status changes."""
    w = World()
    for b in (1, 2):
        if draw(st.booleans()) or b == 1:
            w.blocks[b] = (draw(st.sampled_from(HOLDERS)), draw(st.integers(0, 6)))
    for tn in draw(st.lists(st.integers(LO, HI - 1), max_size=4, unique=True)):
        w.numbers[tn] = (draw(st.sampled_from(HOLDERS)), draw(st.integers(0, 8)))
    for n in range(draw(st.integers(1, 12))):
        valid_from = draw(st.integers(0, 4))
        valid_until = draw(st.integers(valid_from + 1, 12))
        parents = [p for p in w.creds if p.depth < 8]
        if parents and draw(st.integers(0, 2)) > 0:  # two delegations for one grant: deep chains are common
            p = draw(st.sampled_from(parents))
            s, e = draw(st.sampled_from(p.spans))
            a = draw(st.integers(s, e - 1))
            spans = [(s, e)] if draw(st.booleans()) else [(a, draw(st.integers(a + 1, e)))]
            w.creds.append(Cred(cid(n + 1), Kind.TN_DELEGATION, p.id, p.depth + 1, draw(st.integers(0, 3)) & p.flags,
                                p.root_holder, p.root_since, spans, valid_from, valid_until))
        else:
            pts: list[int] = [LO, HI]
            if draw(st.booleans()):
                pts = sorted(draw(st.lists(st.integers(LO - 1, HI + 1), min_size=2, max_size=6, unique=True)))
            holder = draw(st.sampled_from((w.blocks[1][0],) * 3 + HOLDERS))  # mostly the holder of block 1
            w.creds.append(Cred(cid(n + 1), Kind.TN_RIGHT_TO_USE, ROOT_PARENT, 0, draw(st.integers(0, 3)), holder,
                                draw(st.integers(0, 6)), [(pts[i], pts[i + 1]) for i in range(0, len(pts) - 1, 2)],
                                valid_from, valid_until))
    w.statuses = draw(st.lists(st.tuples(st.integers(0, len(w.creds) - 1),
                                         st.sampled_from([Status.ACTIVE, Status.SUSPENDED, Status.REVOKED])),
                               max_size=8))
    return w


def _apply_statuses(w: World) -> dict[bytes, Cred]:
    """The model's credentials with their final status (a revoked credential never comes back)."""
    model = {c.id: replace(c) for c in w.creds}
    for i, status in w.statuses:
        c = model[w.creds[i].id]
        if c.status is not Status.REVOKED:
            c.status = status
    return model


def _model_why_not(model: dict[bytes, Cred], w: World, cred: bytes, tn: int, now: int) -> str | None:
    c = model.get(cred)
    if c is None:
        return UNKNOWN
    if not any(s <= tn < e for s, e in c.spans):
        return NOT_IN_RANGE
    if c.status is not Status.ACTIVE:
        return REVOKED if c.status is Status.REVOKED else SUSPENDED
    if now >= c.valid_until:
        return EXPIRED
    if now < c.valid_from:
        return NOT_YET_VALID
    p = c.parent
    while p != ROOT_PARENT:
        up = model[p]
        if up.status is not Status.ACTIVE or not up.valid_from <= now < up.valid_until:
            return PARENT_NOT_LIVE
        p = up.parent
    held = w.numbers.get(tn) or w.blocks.get(tn // 1000)
    if held is None or held[0] != c.root_holder or held[1] > c.root_since:
        return PORTED
    return None


def _model_chains(model: dict[bytes, Cred], w: World, tn: int, now: int) -> list[tuple[bytes, ...]]:
    out = []
    for c in model.values():
        if _model_why_not(model, w, c.id, tn, now) is None:
            links, cur = [c.id], c
            while cur.parent != ROOT_PARENT:
                cur = model[cur.parent]
                links.append(cur.id)
            out.append((c.depth, tuple(links)))
    return [links for _depth, links in sorted(out)]


def _incremental(w: World) -> TNIndex:
    ix = TNIndex()
    for c in w.creds:
        ix.add_credential(c.id, kind=c.kind, issuer=did(1), subject=did(2), parent=c.parent, flags=c.flags,
                          depth=c.depth, valid_from=c.valid_from, valid_until=c.valid_until,
                          root_holder=c.root_holder, root_since=c.root_since, ranges=[(s, e - s) for s, e in c.spans])
    for i, status in w.statuses:
        cur = ix.get(w.creds[i].id)
        if cur is not None and cur.status is not Status.REVOKED:
            ix.set_status(cur.id, status)
    for b, (h, since) in w.blocks.items():
        ix.set_holder_block(b, h, since)
    for tn, (h, since) in w.numbers.items():
        ix.set_holder_number(tn, h, since)
    return ix


_INSERT = ("INSERT INTO credentials (id, kind, issuer, subject, parent, flags, depth, valid_from, valid_until, "
           "root_holder, root_since, status, tns, credential, anchored_block, anchored_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, x'00', ?, 0)")


def _from_store(w: World, model: dict[bytes, Cred]) -> TNIndex:
    store = Store(":memory:")
    for block, c in enumerate(model.values()):
        store.db.execute(_INSERT, (c.id, int(c.kind), did(1), did(2), c.parent, c.flags, c.depth, c.valid_from,
                                   c.valid_until, c.root_holder, c.root_since, int(c.status),
                                   json.dumps([[s, e - s] for s, e in c.spans]), block))
    # an identity credential: not a TN record, not loaded
    store.db.execute(_INSERT, (cid(10**6), 1, did(1), did(2), ROOT_PARENT, 0, 0, 0, 10, "", 0, 1, "[]", 0))
    store.db.executemany("INSERT INTO number_blocks (block, holder, since) VALUES (?, ?, ?)",
                         [(b, h, s) for b, (h, s) in w.blocks.items()])
    store.db.executemany("INSERT INTO numbers (tn, holder, since) VALUES (?, ?, ?)",
                         [(t, h, s) for t, (h, s) in w.numbers.items()])
    ix = build_from_store(store)
    store.close()
    return ix


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_index_matches_a_brute_force_scan(w: World) -> None:
    model = _apply_statuses(w)
    inc = _incremental(w)
    indexes = [inc, _from_store(w, model), TNIndex.from_records(
        inc.credentials(), blocks=[(b, h, s) for b, (h, s) in w.blocks.items()],
        numbers=[(t, h, s) for t, (h, s) in w.numbers.items()])]
    assert len(indexes[1]) == len(model)
    for now in range(0, 11):
        for tn in range(LO - 2, HI + 2):
            want = _model_chains(model, w, tn, now)
            for ix in indexes:
                got = ix.chains(tn, now=now)
                assert [c.ids for c in got] == want
                assert all(c.leaf.lists(tn) for c in got)
            for cred in list(model) + [cid(999)]:
                code = _model_why_not(model, w, cred, tn, now)
                assert {ix.why_not(cred, tn, now) for ix in indexes} == {code}


# ------------------------------------------------------------------ the ledger itself: events, store, contract


def test_events_store_and_contract_agree(tmp_path: Path) -> None:
    """A real network: the index built from the sync store equals the one fed by the follower's published changes
    (and one fed the events again), and its
    ``covers`` equals the credential registry's for every credential and number around the grants."""
    net = Net.create(EmbeddedChain(None))
    info = populate(net, rounds=3)
    store = Store(tmp_path / "index.sqlite")
    fed = TNIndex()
    follower = Follower(net.backend, store, net.ledger.deployment, batch_blocks=3)
    follower.listen(lambda step: [fed.apply(c) for c in step.changes])  # as the pipeline: the changes the sync made
    follower.sync()
    from_store = build_from_store(store)
    replayed = feed(TNIndex(), store.events())
    assert sorted(replayed.credentials()) == sorted(fed.credentials())
    assert sorted(from_store.credentials()) == sorted(fed.credentials())
    assert len(fed) == len(info["credentials"]) == 6
    statuses = {c.status for c in fed.credentials()}
    assert statuses == {Status.ACTIVE, Status.REVOKED, Status.SUSPENDED}
    now = net.backend.block(net.backend.head()).timestamp
    checked = covered = 0
    for i in range(3):
        base = 12025550000 + i * 10000
        for tn in (base - 1, base, base + 5, base + 9, base + 10, base + 99, base + 100):
            assert fed.holder_of(tn) == from_store.holder_of(tn)
            assert [c.ids for c in fed.chains(tn, now=now)] == [c.ids for c in from_store.chains(tn, now=now)]
            for cred in info["credentials"]:
                on_chain = net.covers(cred, tn)
                assert fed.covers(cred, tn, now) == from_store.covers(cred, tn, now) == on_chain, (i, tn)
                checked += 1
                covered += on_chain
    assert fed.why_not(info["credentials"][0], 12025550005, now) == SUSPENDED  # round 0: grant suspended
    assert fed.why_not(info["credentials"][2], 12025560005, now) == PORTED  # round 1: base + 5 ported
    assert checked == 126 and covered > 0
    store.close()
