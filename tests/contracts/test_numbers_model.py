"""Property test: the number authority on-chain, the node's index and a plain Python model agree after any
sequence of assignments and ports (the bitmap fast path included)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.vocab import Role
from node.chain.embedded import EmbeddedChain
from node.errors import LedgerRuleError
from node.ledger.client import Action
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net

BASE = 12025550000  # three thousand-blocks: BASE .. BASE+2999
ops = st.lists(
    st.one_of(
        st.tuples(st.just("blocks"), st.integers(0, 2), st.integers(0, 2)),
        st.tuples(st.just("port"), st.integers(0, 2999), st.integers(1, 40), st.integers(0, 2)),
        st.tuples(st.just("port_block"), st.integers(0, 2), st.integers(0, 2)),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops, st.lists(st.tuples(st.integers(0, 2999), st.integers(1, 1200), st.integers(0, 2)), min_size=3,
                     max_size=6))
def test_chain_index_and_model_agree(seq: list[tuple[int, ...]], queries: list[tuple[int, int, int]]) -> None:
    chain = EmbeddedChain(None)
    net = Net.create(chain, governors=1, threshold=1)
    sps = [net.member(f"sp{i}", Role.TNSP, f"{i:04d}").address for i in range(3)]
    model: dict[int, str] = {}
    for op in seq:
        if op[0] == "blocks":
            start, holder = BASE + 1000 * op[1], sps[op[2]]
            ok = all(start + i not in model for i in range(1000))
            try:
                net.govern(Action.assign_blocks(start, 1000, holder))
                assert ok
                model.update(dict.fromkeys(range(start, start + 1000), holder))
            except LedgerRuleError as e:
                assert not ok and e.code == "numbers.already_assigned"
        else:
            start, count = (BASE + op[1], op[2]) if op[0] == "port" else (BASE + 1000 * op[1], 1000)
            count = min(count, BASE + 3000 - start)
            to = sps[op[-1]]
            holders = {model.get(start + i) for i in range(count)}
            try:
                net.govern(Action.port(start, count, to))
                assert len(holders) == 1 and None not in holders and to not in holders
                model.update(dict.fromkeys(range(start, start + count), to))
            except LedgerRuleError as e:
                assert not (len(holders) == 1 and None not in holders and to not in holders), e.code
    for off, count, who in queries:
        start = BASE + off
        count = min(count, BASE + 3000 - start)
        expect = all(model.get(start + i) == sps[who] for i in range(count))
        assert net.ledger.call("NumberAuthority", "holds", sps[who], start, count, 2**64 - 1) == expect
    store = Store(":memory:")
    Follower(chain, store, net.ledger.deployment).sync()
    blocks = dict(store.db.execute("SELECT block, holder FROM number_blocks").fetchall())
    singles = dict(store.db.execute("SELECT tn, holder FROM numbers").fetchall())
    for tn in range(BASE, BASE + 3000, 7):
        indexed = singles.get(tn, blocks.get(tn // 1000))
        assert indexed == model.get(tn) == (net.ledger.holder_of(tn) if tn in model else indexed)
    chain.close()
