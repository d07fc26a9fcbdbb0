"""``/v1/attest`` latency while verifications wait on an x5u host that never answers.

Run::

    python -m benchmarks.slow_x5u [--seconds 10] [--verifiers 2] [--json benchmarks/slow_x5u.json]

``eidln node serve`` on anvil (:class:`benchmarks.ospworld.OspWorld`); one client attests calls in a closed loop
for ``--seconds``, first alone, then while ``--verifiers`` other clients send ``/stir/v1/verification`` requests for
SHAKEN tokens whose ``x5u`` is a local TCP server that accepts connections and never answers (a new path each time,
so the fetcher's negative cache never answers for it; the fetch's 2 s deadline ends each one). Every attestation
must be **A**. Reported for both phases: calls, calls/s, p50 and p99 ms, and the verifications answered. Before
the fix (issue 9, item 4) the verification route blocked the only event loop: 400 attestations per 10 s at p50
1.7 ms fell to 6 at p50 2,037 ms.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.machine import machine
from benchmarks.ospworld import OspWorld
from node.shaken.sign import ShakenSigner
from wallet.keys import P256Key

__all__ = ["main"]


def _black_hole() -> tuple[socket.socket, str]:
    """A listening socket that accepts (the kernel's backlog does) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1024)
    return s, f"http://127.0.0.1:{s.getsockname()[1]}"


def _phase(w: OspWorld, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    refused = 0
    with httpx.Client(base_url=w.base, timeout=30) as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            body = w.call(w.granted[0].first + len(latencies) % 10)
            t = time.perf_counter()
            r = c.post("/v1/attest", json=body)
            latencies.append(time.perf_counter() - t)
            refused += r.status_code != 200 or r.json()["attest"] != "A"
    q = statistics.quantiles(latencies, n=100)
    return {"calls": len(latencies), "calls_per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(q[49] * 1e3, 2), "p99_ms": round(q[98] * 1e3, 2), "not_a": refused}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.slow_x5u", description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--verifiers", type=int, default=2)
    p.add_argument("--json", type=Path, default=Path(__file__).with_name("slow_x5u.json"))
    a = p.parse_args(argv)
    hole, host = _black_hole()
    key = P256Key.generate()
    counter = iter(range(1 << 62))
    with tempfile.TemporaryDirectory(prefix="eidln-slow-x5u-") as tmp, OspWorld(Path(tmp), max_staleness=15) as w:
        with httpx.Client(base_url=w.base, timeout=30) as c:
            w.wait_ready(c)
        alone = _phase(w, a.seconds)
        stop = threading.Event()
        answered: list[str] = []

        def verifier() -> None:
            with httpx.Client(base_url=w.base, timeout=60) as c:
                while not stop.is_set():
                    now = int(time.time())
                    signer = ShakenSigner(key, f"{host}/c{next(counter)}.pem")  # a new URL: no negative cache hit
                    r = c.post("/stir/v1/verification", json={"verificationRequest": {
                        "from": {"tn": "12025550101"}, "to": {"tn": ["13105550000"]}, "time": now,
                        "identity": signer.identity(attest="A", orig="12025550101", dest=["13105550000"], iat=now)}})
                    answered.append(r.json().get("verificationResponse", {}).get("verstat", str(r.status_code)))

        threads = [threading.Thread(target=verifier, daemon=True) for _ in range(a.verifiers)]
        for t in threads:
            t.start()
        busy = _phase(w, a.seconds)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    hole.close()
    result = {"machine": machine(), "seconds": a.seconds, "verifiers": a.verifiers, "attest_alone": alone,
              "attest_while_x5u_hangs": busy, "verifications_answered": len(answered),
              "verstats": sorted(set(answered))}
    a.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if alone["not_a"] == busy["not_a"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
