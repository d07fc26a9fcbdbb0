"""Sync against a real anvil process: two node processes reach identical indexes; a reorg is undone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contracts.vocab import Role
from node.chain.anvil import AnvilProcess
from node.chain.jsonrpc import JsonRpcChain
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net, populate

pytestmark = pytest.mark.slow


def _node_env(home: Path, url: str) -> dict[str, str]:
    return dict(os.environ, EIDLN_HOME=str(home), EIDLN_CHAIN=url, EIDLN_SYNC_BATCH="3",
                EIDLN_SYNC_INTERVAL="0.1", EIDLN_PASSPHRASE="unused")


def test_two_nodes_reach_identical_indexes(anvil: AnvilProcess, tmp_path: Path) -> None:
    chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
    net = Net.create(chain)
    populate(net, rounds=2)
    homes = [tmp_path / "node-a", tmp_path / "node-b"]
    for h in homes:
        net.ledger.deployment.save(h / "network.json")
    cmd = [sys.executable, "-m", "node.cli", "node", "run"]
    procs = [subprocess.Popen(cmd, env=_node_env(h, anvil.url), stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for h in homes]
    try:
        for p in procs:  # both nodes are up (their SIGTERM handler is installed) and following
            assert p.stdout is not None and p.stdout.readline().startswith("node: ")
        populate(net, rounds=2, first=2)  # more writes while both nodes follow
        time.sleep(1.0)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            assert p.wait(timeout=30) == 0
            assert p.stdout is not None and "stopped at block" in p.stdout.read()
            p.stdout.close()
    for h in homes:
        done = subprocess.run(cmd + ["--once"], env=_node_env(h, anvil.url), capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
    a, b = (Store(h / "index.sqlite") for h in homes)
    assert a.synced_block == b.synced_block == chain.head()
    assert a.dump() == b.dump()
    assert a.count("credentials") == 12 and a.count("events") > 100  # 3 per round, 4 rounds
    a.close()
    b.close()
    chain.close()


def test_reorg_is_undone_by_replay(tmp_path: Path) -> None:
    with AnvilProcess() as anvil:
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
        net = Net.create(chain)
        populate(net, rounds=1)
        snapshot = chain._rpc("evm_snapshot", [])
        populate(net, rounds=1, first=1)  # the branch that will be dropped: new members, DIDs, credentials
        store = Store(tmp_path / "index.sqlite")
        f = Follower(chain, store, net.ledger.deployment, batch_blocks=4, max_reorg_depth=1000)
        f.sync()
        dropped_head = chain.head()
        assert store.count("credentials") == 6
        assert chain._rpc("evm_revert", [snapshot]) is True
        net2 = Net(chain, net.governors, net.ledger, net.now)
        net2.member("late", Role.VETTER)
        chain._rpc("anvil_mine", [hex(dropped_head - chain.head() + 2)])  # the new branch is longer
        st = f.sync()
        assert st.synced == chain.head()
        fresh = Store(tmp_path / "fresh.sqlite")
        Follower(chain, fresh, net.ledger.deployment).sync()
        assert store.dump() == fresh.dump()
        assert store.count("credentials") == 3
        assert store.db.execute("SELECT COUNT(*) FROM members WHERE name = 'late'").fetchone()[0] == 1
        chain.close()
