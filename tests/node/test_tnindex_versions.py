"""TN index versions: a fork shares structure copy-on-write, and readers never see a half-applied update.

The stress test publishes a new version per batch of random ledger events (grants, delegations, revocations,
suspensions, ports) while reader threads query chains continuously; every answer is compared with a brute-force
model of the exact version the reader held. With an index changed in place (the old design), readers paired a
segment boundary with the wrong cover and saw credentials of half-applied batches.
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from contracts.vocab import Flags, Kind, Status
from node.tnindex import ROOT_PARENT, TNIndex
from tests.node.tnfeed import feed

BASE = 12025550000
HOLDERS = ("0x" + "a1" * 20, "0x" + "b2" * 20)
NOW = 1_500
ALL = int(Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE)


@dataclass
class Cred:
    id: bytes
    parent: bytes
    ranges: list[tuple[int, int]]  # (start, count)
    status: int
    root_holder: str
    root_since: int
    depth: int
    valid: tuple[int, int]

    def lists(self, tn: int) -> bool:
        return any(s <= tn < s + c for s, c in self.ranges)


@dataclass
class Model:
    """The ledger by brute force: every question answered by scanning everything."""

    creds: dict[bytes, Cred] = field(default_factory=dict)
    blocks: dict[int, tuple[str, int]] = field(default_factory=dict)
    numbers: dict[int, tuple[str, int]] = field(default_factory=dict)

    def copy(self) -> Model:
        return Model(dict(self.creds), dict(self.blocks), dict(self.numbers))

    def holder(self, tn: int) -> tuple[str, int] | None:
        return self.numbers.get(tn) or self.blocks.get(tn // 1000)

    def live(self, c: Cred) -> bool:
        while True:
            if c.status != Status.ACTIVE or not c.valid[0] <= NOW < c.valid[1]:
                return False
            if c.parent == ROOT_PARENT:
                return True
            c = self.creds[c.parent]

    def chains(self, tn: int) -> list[bytes]:
        held = self.holder(tn)
        out = []
        for c in self.creds.values():
            if c.lists(tn) and held is not None and held[0] == c.root_holder and held[1] <= c.root_since \
                    and self.live(c):
                out.append(c.id)
        return sorted(out)


def _ev(contract: str, name: str, **args: Any) -> dict[str, Any]:
    return {"contract": contract, "name": name, "args": args}


class World:
    """Random ledger events, applied to the model as they are made."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.model = Model()
        self.epoch = 1
        self.n = 0

    def start(self) -> list[dict[str, Any]]:
        evs = [_ev("NumberAuthority", "BlocksAssigned", start=BASE, count=4000, holder=HOLDERS[0], epoch=1)]
        for b in range(4):
            self.model.blocks[BASE // 1000 + b] = (HOLDERS[0], 1)
        for _ in range(40):
            evs.append(self.grant())
        return evs

    def _id(self) -> bytes:
        self.n += 1
        return self.rng.randbytes(28) + self.n.to_bytes(4, "big")  # random first byte: every shard is used

    def grant(self) -> dict[str, Any]:
        start = BASE + self.rng.randrange(4000)
        count = self.rng.randrange(1, 300)
        count = min(count, BASE + 4000 - start)
        holder, since = self.model.holder(start) or (HOLDERS[0], 1)
        c = Cred(self._id(), ROOT_PARENT, [(start, count)], Status.ACTIVE, holder, since, 0, (1_000, 2_000))
        self.model.creds[c.id] = c
        return self._anchor(c, Kind.TN_RIGHT_TO_USE)

    def delegate(self) -> dict[str, Any] | None:
        parents = [c for c in self.model.creds.values() if c.status != Status.REVOKED and c.depth < 6]
        if not parents:
            return None
        p = self.rng.choice(parents)
        s, n = p.ranges[0]
        start = s + self.rng.randrange(n)
        count = self.rng.randrange(1, s + n - start + 1)
        c = Cred(self._id(), p.id, [(start, count)], Status.ACTIVE, p.root_holder, p.root_since, p.depth + 1,
                 (1_000, 2_000) if self.rng.random() < 0.9 else (1_000, 1_400))
        self.model.creds[c.id] = c
        return self._anchor(c, Kind.TN_DELEGATION)

    def _anchor(self, c: Cred, kind: Kind) -> dict[str, Any]:
        return _ev("CredentialRegistry", "CredentialAnchored", id="0x" + c.id.hex(), kind=int(kind),
                   issuer="0x" + bytes(16).hex(), subject="0x" + c.id[:16].hex(), parent="0x" + c.parent.hex(),
                   flags=ALL, depth=c.depth, valid_from=c.valid[0], valid_until=c.valid[1],
                   root_holder=c.root_holder, root_since=c.root_since,
                   tns=[{"start": s, "count": n} for s, n in c.ranges])

    def status(self) -> dict[str, Any] | None:
        open_ = [c for c in self.model.creds.values() if c.status != Status.REVOKED]
        if not open_:
            return None
        c = self.rng.choice(open_)
        new = self.rng.choice([Status.REVOKED, Status.SUSPENDED, Status.ACTIVE])
        self.model.creds[c.id] = replace(c, status=new)
        return _ev("CredentialRegistry", "StatusChanged", id="0x" + c.id.hex(), new_status=int(new))

    def port(self) -> dict[str, Any]:
        start = BASE + self.rng.randrange(4000)
        count = self.rng.randrange(1, 5)
        count = min(count, BASE + 4000 - start)
        to = self.rng.choice(HOLDERS)
        self.epoch += 1
        for tn in range(start, start + count):
            self.model.numbers[tn] = (to, self.epoch)
        return _ev("NumberAuthority", "NumbersPorted", start=start, count=count, from_holder=HOLDERS[0],
                   to_holder=to, epoch=self.epoch)

    def batch(self) -> list[dict[str, Any]]:
        out = []
        for _ in range(self.rng.randrange(1, 12)):
            pick = self.rng.random()
            ev = (self.grant() if pick < 0.3 else self.delegate() if pick < 0.65 else self.status() if pick < 0.93
                  else self.port())
            if ev is not None:
                out.append(ev)
        return out


def _chains(index: TNIndex, tn: int) -> list[bytes]:
    return sorted(ch.leaf.id for ch in index.chains(tn, now=NOW))


@contextmanager
def _switch_often() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as CPython allows: interleavings, not luck
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def test_a_fork_leaves_the_original_untouched() -> None:
    w = World(1)
    v0 = TNIndex()
    for ev in w.start():
        feed(v0, [ev])
    m0 = w.model.copy()
    probes = [BASE + i for i in range(0, 4000, 7)]
    before = {tn: _chains(v0, tn) for tn in probes}
    assert before == {tn: m0.chains(tn) for tn in probes}
    v1 = v0.fork()
    for _ in range(30):
        for ev in w.batch():
            feed(v1, [ev])
    assert {tn: _chains(v0, tn) for tn in probes} == before  # the old version did not move
    assert {tn: _chains(v1, tn) for tn in probes} == {tn: w.model.chains(tn) for tn in probes}
    for ev in World(2).batch():  # writing to the old version after the fork does not leak into the new one
        if ev["name"] != "StatusChanged":
            feed(v0, [ev])
    assert {tn: _chains(v1, tn) for tn in probes} == {tn: w.model.chains(tn) for tn in probes}


def test_readers_never_see_a_half_applied_update() -> None:
    w = World(20261203)
    first = TNIndex()
    for ev in w.start():
        feed(first, [ev])
    published: list[tuple[TNIndex, Model]] = [(first, w.model.copy())]  # the newest is published[-1]
    current = published[0]
    done = threading.Event()
    mismatches: list[str] = []
    checked = [0]

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        while not done.is_set() or checked[0] < 2000:
            index, model = current  # one read of one reference: a complete version
            for _ in range(5):
                tn = BASE + rng.randrange(4000)
                got, want = _chains(index, tn), model.chains(tn)
                if got != want:
                    mismatches.append(f"tn {tn}: {len(got)} chains, the version's model has {len(want)}")
                checked[0] += 1

    with _switch_often():
        readers = [threading.Thread(target=reader, args=(i,)) for i in range(3)]
        for t in readers:
            t.start()
        index = first
        for _ in range(150):
            index = index.fork()
            for ev in w.batch():
                feed(index, [ev])
            current = (index, w.model.copy())
            published.append(current)
        done.set()
        for t in readers:
            t.join(timeout=120)
    assert not mismatches, mismatches[:5]
    assert checked[0] >= 2000
    probes = [BASE + i for i in range(0, 4000, 3)]
    assert [_chains(index, tn) for tn in probes] == [w.model.chains(tn) for tn in probes]
    # every old version still answers as it did when it was published
    for old, model in published[::25]:
        assert [_chains(old, tn) for tn in probes[::5]] == [model.chains(tn) for tn in probes[::5]]
