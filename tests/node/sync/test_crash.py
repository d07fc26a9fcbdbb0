"""Kill the syncing node with SIGKILL at random points, several times: the index must equal a fresh sync."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.chain.embedded import EmbeddedChain
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net, populate

pytestmark = pytest.mark.slow


def test_sigkill_during_sync_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    chain = EmbeddedChain(home / "chain.sqlite")
    net = Net.create(chain)
    populate(net, rounds=6)
    net.ledger.deployment.save(home / "network.json")
    head = chain.head()
    chain.close()

    env = dict(os.environ, EIDLN_HOME=str(home), EIDLN_SYNC_BATCH="1", EIDLN_SYNC_INTERVAL="0.05",
               EIDLN_PASSPHRASE="unused")
    cmd = [sys.executable, "-m", "node.cli", "node", "run"]
    rng = random.Random(20261128)
    progress = []
    for _ in range(5):
        with open(tmp_path / "stderr.txt", "a") as err, subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True) as proc:
            # wait for the state "it has synced a batch" (a line), however long imports take on a busy machine, or
            # for the end of its output (nothing left to do); then kill at a random moment
            assert proc.stdout is not None
            while True:
                line = proc.stdout.readline()
                if line.startswith(("synced blocks", "in sync")) or not line:
                    break
            time.sleep(rng.uniform(0.0, 0.15))  # where the kill lands, not a wait for a state
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        s = Store(home / "index.sqlite")
        progress.append(s.synced_block)
        s.close()
    assert any(p is not None and p < head for p in progress), progress  # some kills landed mid-sync

    done = subprocess.run(cmd + ["--once"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

    chain = EmbeddedChain(home / "chain.sqlite")
    fresh = Store(tmp_path / "fresh.sqlite")
    Follower(chain, fresh, net.ledger.deployment).sync()
    resumed = Store(home / "index.sqlite")
    assert resumed.synced_block == head
    assert resumed.dump() == fresh.dump()
    chain.close()
