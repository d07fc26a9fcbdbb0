"""Ledger foundation benchmarks: anchoring throughput and sync ingest rate, embedded chain and anvil.

Run: ``make bench`` (or ``python -m benchmarks.run [--quick] [--no-anvil]``). Prints a table and writes
``benchmarks/results.json``. Each figure is set against the chain's own floor measured in the same run:
plain transactions with no contract code (one signature check, no EVM work beyond the intrinsic cost).

Workloads (credentials carry a 1,500-byte signed body, like a real VC with its proof):
* ``single``   one credential per transaction, preflighted (eth_call) and sent alone: one block each;
* ``batched``  16 credentials per ``anchor_batch`` transaction, preflighted;
* ``pipelined`` 8 ``anchor_batch`` transactions of 16 submitted together (no preflight): 128 per block
  on the embedded chain;
* ``sync``     a fresh node index ingesting every event of the run: decode, **re-verify every credential's
  Data Integrity proof with the issuer key valid at its time**, apply, commit per batch.
Credentials are really signed (eddsa-rdfc-2022, ~1 KB each); signing is part of the anchoring figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from benchmarks.machine import machine
from contracts.vocab import Anchor, Flags, Kind, Role, TNRange
from node.chain.base import Call, ChainBackend
from node.ledger.client import GAS, Action
from node.ledger.codec import codec
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net

BODY = 1500


class Setup:
    def __init__(self, backend: ChainBackend) -> None:
        self.net = Net.create(backend, governors=1, threshold=1)
        self.tnsp_acct = self.net.member("tnsp", Role.TNSP, "1234")
        self.net.govern(Action.assign_blocks(12020000000, 100_000, self.tnsp_acct.address))
        self.tnsp = self.net.did(self.tnsp_acct)
        self.ent = self.net.did(self.net.onboarded("ent", self.tnsp_acct))
        self.next_tn = 12020000000

    def anchor(self) -> Anchor:
        """A really signed TNRightToUse credential (eddsa-rdfc-2022) for the next number."""
        tn = self.next_tn
        self.next_tn += 1
        return self.net.anchor_for(Kind.TN_RIGHT_TO_USE, self.tnsp, self.ent, tns=(TNRange(tn),),
                                   flags=Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE)


def rate(n: int, fn: Callable[[], None]) -> tuple[float, float]:
    t0 = time.perf_counter()
    fn()
    dt = time.perf_counter() - t0
    return n / dt, dt


def bench_backend(name: str, backend: ChainBackend, n: int) -> dict[str, Any]:
    s = Setup(backend)
    ledger = s.net.ledger
    out: dict[str, Any] = {"backend": name}

    floor_acct = Account.create()
    sink = Account.create().address

    def floor() -> None:
        for _ in range(n):
            backend.send(floor_acct, [Call(to=sink, data=b"", gas=21_000)])

    out["floor_tx_per_s"], _ = rate(n, floor)

    def single() -> None:
        for _ in range(n):
            ledger.anchor(s.tnsp_acct, [s.anchor().to_abi()])

    out["single_cred_per_s"], _ = rate(n, single)

    batches = max(n // 16, 2)

    def batched() -> None:
        for _ in range(batches):
            ledger.anchor(s.tnsp_acct, [s.anchor().to_abi() for _ in range(16)])

    out["batched_cred_per_s"], _ = rate(batches * 16, batched)

    blocks = max(n // 128, 2)
    cred_codec = codec("CredentialRegistry")
    to = ledger.address("CredentialRegistry")

    def pipelined() -> None:
        for _ in range(blocks):
            calls = [Call(to=to, data=cred_codec.encode("anchor_batch", [s.anchor().to_abi() for _ in range(16)]),
                          gas=GAS["anchor_batch"] // 2) for _ in range(8)]
            receipts = backend.send(s.tnsp_acct, calls)
            if any(r.status != 1 for r in receipts):
                raise RuntimeError("a pipelined anchor_batch failed")

    out["pipelined_cred_per_s"], _ = rate(blocks * 128, pipelined)
    out["tx_per_s_ratio_single_vs_floor"] = out["single_cred_per_s"] / out["floor_tx_per_s"]

    from node.sync.verify import CredentialChecker

    for label, workers in (("sync", os.cpu_count() or 1), ("sync_1core", 1)):
        checker = CredentialChecker(network=ledger.deployment.network, chain_id=ledger.deployment.chain_id,
                                    workers=workers)
        with tempfile.TemporaryDirectory() as d:
            # warm-up pass (starts the verification workers once, as a long-running node has them)
            Follower(backend, Store(Path(d) / "warm.sqlite"), ledger.deployment, check=checker).sync()
            store = Store(Path(d) / "index.sqlite")
            f = Follower(backend, store, ledger.deployment, batch_blocks=500, check=checker)
            t0 = time.perf_counter()
            f.sync()
            dt = time.perf_counter() - t0
            creds = store.count("credentials")
            assert store.count("rejected_credentials") == 0, "benchmark credentials must verify"
            out[f"{label}_credentials_per_s"] = creds / dt
            out[f"{label}_events_per_s"] = store.count("events") / dt
            out["sync_events"] = store.count("events")
            out["sync_blocks"] = f.synced - ledger.deployment.start_block + 1
            store.close()
        checker.close()
    out["head"] = backend.head()
    return out


def crypto_floor(n: int = 2000) -> float:
    """Seconds per raw Ed25519 verification (PyNaCl): the cryptographic floor of verifying one credential."""
    from nacl.signing import SigningKey

    key = SigningKey.generate()
    msg = b"x" * 64
    sig = key.sign(msg).signature
    vk = key.verify_key
    t0 = time.perf_counter()
    for _ in range(n):
        vk.verify(msg, sig)
    return (time.perf_counter() - t0) / n


def main(argv: list[str] | None = None) -> int:  # noqa: C901 - a script
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small n (smoke run)")
    p.add_argument("--no-anvil", action="store_true")
    p.add_argument("--out", default=str(Path(__file__).with_name("results.json")))
    a = p.parse_args(argv)
    n = 20 if a.quick else 200
    results: list[dict[str, Any]] = []

    from node.chain.embedded import EmbeddedChain

    with tempfile.TemporaryDirectory() as d:
        chain = EmbeddedChain(Path(d) / "chain.sqlite")
        results.append(bench_backend("embedded (SQLite file)", chain, n))
        chain.close()
    if not a.no_anvil:
        from node.chain.anvil import AnvilProcess
        from node.chain.jsonrpc import JsonRpcChain

        with AnvilProcess() as anvil:
            rpc = JsonRpcChain(anvil.url, expected_chain_id=1337)
            results.append(bench_backend("anvil 1.7.1 (JSON-RPC)", rpc, n))
            rpc.close()

    floor = crypto_floor()
    for r in results:
        r["sync_ratio_vs_ed25519_floor"] = (1 / r["sync_credentials_per_s"]) / floor
    report = {"machine": machine(), "n": n, "date": time.strftime("%Y-%m-%d"), "ed25519_verify_us": floor * 1e6,
              "results": results}
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, Python "
          f"{report['machine']['python']}")
    cols = [("floor tx/s", "floor_tx_per_s"), ("single cred/s", "single_cred_per_s"),
            ("batched cred/s", "batched_cred_per_s"), ("pipelined cred/s", "pipelined_cred_per_s"),
            ("sync events/s", "sync_events_per_s"), ("sync verified cred/s", "sync_credentials_per_s"),
            ("same, 1 core", "sync_1core_credentials_per_s")]
    print(f"raw Ed25519 verify (floor): {floor * 1e6:.0f} µs")
    print("| backend | " + " | ".join(c for c, _ in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for r in results:
        print(f"| {r['backend']} | " + " | ".join(f"{r[k]:,.0f}" for _, k in cols) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
