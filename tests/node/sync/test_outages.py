"""The follower under outage: a chain that goes away and comes back is followed again by itself; a chain replaced
or rewound behind the same URL is refused with a clear code and the index is kept exactly as it was."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from eth_account import Account

from contracts.vocab import Role
from node.chain.anvil import AnvilProcess
from node.chain.jsonrpc import JsonRpcChain
from node.errors import ChainRefused
from node.ledger.client import Ledger, deploy_network
from node.sync.follower import Follower
from node.sync.service import SyncService
from node.sync.store import Store
from tests.netkit import Net, populate

pytestmark = pytest.mark.slow

DEPLOYER = Account.from_key(b"\x01" * 32)  # one deployer on both chains: the same contract addresses


def _net(chain: JsonRpcChain) -> Net:
    govs = [Account.create()]
    dep = deploy_network(chain, DEPLOYER, [g.address for g in govs], 1)
    return Net(chain, govs, Ledger(chain, dep), chain.block(chain.head()).timestamp)


def test_a_replaced_chain_is_refused_and_the_index_kept(tmp_path: Path) -> None:
    with AnvilProcess() as anvil:
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
        net = _net(chain)
        populate(net, rounds=1)
        store = Store(tmp_path / "index.sqlite")
        Follower(chain, store, net.ledger.deployment).sync()
        before = store.dump()
        assert before["credentials"]
        chain.close()
        anvil.restart()  # no state file: a fresh chain at the same URL, same chain id, state lost
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
        again = _net(chain)  # the same deployer: the same contract addresses, and enough blocks to pass ours
        assert again.ledger.deployment.addresses() == net.ledger.deployment.addresses()
        for i in range(3):
            again.member(f"m{i}", Role.VETTER)
        with pytest.raises(ChainRefused) as refused:
            Follower(chain, store, net.ledger.deployment)
        assert refused.value.code == "chain.replaced" and "deployment block" in refused.value.message  # same genesis
        assert store.dump() == before  # nothing dropped, nothing added
        chain.close()


def test_a_rewound_chain_is_refused_then_followed_when_history_returns(tmp_path: Path) -> None:
    with AnvilProcess() as anvil:
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
        net = _net(chain)
        populate(net, rounds=1)
        snapshot = chain._rpc("evm_snapshot", [])
        populate(net, rounds=1, first=1)
        store = Store(tmp_path / "index.sqlite")
        follower = Follower(chain, store, net.ledger.deployment)
        follower.sync()
        before, synced = store.dump(), store.synced_block
        assert chain._rpc("evm_revert", [snapshot]) is True  # the chain loses the blocks the node applied
        service = SyncService(lambda: follower, interval=0.01, rng=random.Random(1))
        service.cycle()
        assert (service.health.state, service.health.code) == ("refused", "chain.rewound")
        assert store.dump() == before
        # the chain grows past our block on another branch: still refused (a reorganisation deeper than 0)
        chain._rpc("anvil_mine", [hex(synced - chain.head() + 3)])
        service.cycle()
        assert (service.health.state, service.health.code) == ("refused", "chain.reorg_too_deep")
        assert store.dump() == before and store.synced_block == synced
        chain.close()


def test_the_follower_survives_an_outage_and_picks_up_what_happened(tmp_path: Path) -> None:
    with AnvilProcess(state_path=tmp_path / "anvil-state.json") as anvil:
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337, timeout=2.0)
        net = _net(chain)
        populate(net, rounds=1)
        store = Store(tmp_path / "index.sqlite")
        confirmed: list[float] = []
        service = SyncService(lambda: Follower(chain, store, net.ledger.deployment), interval=0.05,
                              on_confirmed=confirmed.append, backoff=(0.05, 0.5), rng=random.Random(2))
        service.start()
        try:
            h = service.wait_for(lambda h: h.state == "following" and h.lag == 0, timeout=60)
            assert h.state == "following" and h.confirmed_at is not None
            for _ in range(3):  # three outages: anvil 1.7.1 regenerates block 0 on the second reload of its state
                anvil.stop()  # SIGTERM: the state file is written
                h = service.wait_for(lambda h: h.state == "retrying", timeout=60)
                assert h.code == "chain.unavailable" and h.failures >= 1
                stale_since = h.confirmed_at
                h = service.wait_for(lambda h: h.failures >= 3, timeout=60)  # it keeps trying, with backoff
                assert h.state == "retrying" and h.confirmed_at == stale_since  # no confirmation while down
                anvil.start()  # the same chain comes back on the same URL
                h = service.wait_for(lambda h, since=stale_since: h.state == "following"  # type: ignore[misc]
                                     and h.confirmed_at != since, timeout=60)
                assert h.state == "following" and h.failures == 0 and h.failures_total >= 3, h
            count = store.count("credentials")
            populate(net, rounds=1, first=1)  # written after the outage: the node picks it up
            head = chain.head()
            h = service.wait_for(lambda h: (h.synced or 0) >= head, timeout=60)
            assert store.count("credentials") > count
        finally:
            service.stop()
        assert service.health.state == "stopped" and service.alive is False
        chain.close()
