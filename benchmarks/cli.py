"""Command-line latency: the wall time of ``eidln`` commands as a person or a script runs them, one process each.

Run: ``python -m benchmarks.cli [--runs 7] [--out benchmarks/cli.json]``. Prints a table and writes
``benchmarks/cli.json``.

Set-up, in this process (not measured), in a fresh ``EIDLN_HOME`` on the embedded chain: a one-governor network,
a TNSP's wallet and an enterprise's wallet (Argon2id MODERATE, the default), the TNSP admitted and given a
thousand-block, the enterprise onboarded, one DID each and a grant of 100 numbers to the enterprise.

Measured: each command is started as a new process (the ``eidln`` entry point beside this interpreter), once to
warm the page cache, then ``--runs`` times; the figure is the median wall time (min and max are in the JSON).
The floor is ``python -c pass``: the interpreter's own start. The wallet commands run twice: with the passphrase
(every command pays Argon2id to open the wallet, and once more per save) and inside a session (``eval "$(eidln
wallet unlock)"``: no Argon2id until the session expires). The load average of the shared machine is recorded
before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.machine import machine

OUT = Path(__file__).with_name("cli.json")
PASSPHRASE = "benchmark-only-passphrase"
EIDLN = str(Path(sys.executable).with_name("eidln"))


class Party:
    """A wallet in the benchmark's home, and the ``main`` the set-up runs in process."""

    def __init__(self, home: Path, name: str | None) -> None:
        self.env = {"EIDLN_HOME": str(home), "EIDLN_PASSPHRASE": PASSPHRASE}
        if name is not None:
            self.env["EIDLN_WALLET"] = str(home / f"{name}.wallet")

    def __call__(self, *argv: str) -> list[str]:
        from node.cli import main

        lines: list[str] = []
        rc = main(list(argv), env=dict(self.env), out=lines.append)
        if rc != 0:
            raise RuntimeError(f"set-up step {' '.join(argv)} failed ({rc})")
        return lines


def _value(lines: list[str], prefix: str) -> str:
    return next(line.removeprefix(prefix) for line in lines if line.startswith(prefix))


def set_up(home: Path) -> dict[str, str]:
    """The network and two wallets; returns what the measured commands name (DIDs, the credential)."""
    operator, tel, acme = Party(home, None), Party(home, "tel"), Party(home, "acme")
    operator("network", "init", "--governors", "1", "--threshold", "1")
    tel_account = _value(tel("wallet", "init"), "ledger account: ")
    acme_account = _value(acme("wallet", "init"), "ledger account: ")
    operator("member", "propose", "admit", "--as", "governor1", "--account", tel_account, "--roles", "TNSP,OSP",
             "--spc", "1234", "--name", "Tel One")
    operator("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+12025550000", "--count",
             "10000", "--holder", tel_account)
    tel("member", "onboard", "--as", "@wallet", "--account", acme_account, "--kind", "enterprise")
    tel("did", "create")
    acme_did = acme("did", "create")[0]
    credential = tel("tn", "grant", "--subject", acme_did, "--start", "+12025550100", "--count", "100")[0]
    return {"did": acme_did, "credential": credential}


def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(list(argv), env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return elapsed, done.stdout


def measure(argv: Sequence[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    _run(argv, env)  # warm the page cache and the bytecode caches
    samples = [_run(argv, env)[0] for _ in range(runs)]
    return {"median_s": round(statistics.median(samples), 3), "min_s": round(min(samples), 3),
            "max_s": round(max(samples), 3), "runs": runs}


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIDLN_")}
    return {**env, "EIDLN_HOME": str(home), "EIDLN_WALLET": str(home / "acme.wallet")}


def _session(env: dict[str, str]) -> dict[str, str] | None:
    """``eidln wallet unlock``'s ``export EIDLN_WALLET_SESSION=…`` as an environment; ``None`` before it existed."""
    done = subprocess.run([EIDLN, "wallet", "unlock"], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        return None
    line = next(x for x in done.stdout.splitlines() if x.startswith("export EIDLN_WALLET_SESSION="))
    session = {k: v for k, v in env.items() if k != "EIDLN_PASSPHRASE"}
    return {**session, "EIDLN_WALLET_SESSION": line.split("=", 1)[1]}


def run(runs: int) -> dict[str, Any]:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="eidln-bench-cli-") as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        names = set_up(home)
        print(f"set-up: {time.perf_counter() - t0:.1f} s", flush=True)
        env = _base_env(home)
        with_passphrase = {**env, "EIDLN_PASSPHRASE": PASSPHRASE}
        sign = ["call", "sign", names["did"], "--credential", names["credential"], "--from", "+12025550142",
                "--to", "+12025550199"]
        rows: list[tuple[str, list[str], dict[str, str] | None]] = [
            ("python -c pass (floor)", [sys.executable, "-c", "pass"], env),
            ("eidln --help", [EIDLN, "--help"], env),
            ("eidln node status", [EIDLN, "node", "status"], env),
            ("eidln tn list", [EIDLN, "tn", "list"], env),
            ("eidln did resolve DID", [EIDLN, "did", "resolve", names["did"]], env),
            ("eidln did show (passphrase)", [EIDLN, "did", "show"], with_passphrase),
            ("eidln call sign (passphrase)", [EIDLN, *sign], with_passphrase),
            ("eidln did create (passphrase)", [EIDLN, "did", "create"], with_passphrase),
            ("eidln wallet unlock", [EIDLN, "wallet", "unlock"], with_passphrase),
        ]
        results: dict[str, Any] = {}

        def measure_rows(rows: list[tuple[str, list[str], dict[str, str] | None]]) -> None:
            for label, argv, run_env in rows:
                results[label] = None if run_env is None else measure(argv, run_env, runs)
                shown = "n/a (no session unlock in this version)" if run_env is None else \
                    f"{results[label]['median_s']:.3f} s"
                print(f"  {label:<32} {shown}", flush=True)

        measure_rows(rows[:-1])
        session = _session(with_passphrase)  # after the passphrase rows: a save with the passphrase re-keys the file
        measure_rows([(rows[-1][0], rows[-1][1], None if session is None else with_passphrase),
                      ("eidln did show (session)", [EIDLN, "did", "show"], session),
                      ("eidln call sign (session)", [EIDLN, *sign], session),
                      ("eidln did create (session)", [EIDLN, "did", "create"], session)])
        if session is not None:
            subprocess.run([EIDLN, "wallet", "lock"], env=session, capture_output=True, timeout=60, check=True)
    return {"machine": machine(), "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()], "commands": results}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    res = run(args.runs)
    m = res["machine"]
    print(f"\neidln wall time, median of {args.runs} runs, on {m['cpu']} ({m['cores']} cores), Python {m['python']}; "
          f"load average {res['load_average_before'][0]} -> {res['load_average_after'][0]}")
    width = max(len(k) for k in res["commands"])
    for label, r in res["commands"].items():
        shown = "n/a" if r is None else f"{r['median_s']:.3f} s  (min {r['min_s']:.3f}, max {r['max_s']:.3f})"
        print(f"  {label:<{width}}  {shown}")
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
