"""Call-time attestation, in process, per core, against the raw-crypto floor measured in the same run.

Run: ``python -m benchmarks.attest [--n 5000] [--json benchmarks/attest.json]``.

Set-up: the demo network (:func:`node.demo.build_story`: embedded chain, vetted enterprise, grant, delegation to a
call center, the OSP node's synced snapshot, a test STI certificate). ``n`` enterprise PASSporTs are signed
beforehand by the call center (each for another called number, so none is a replay). Then, on one core:

* ``floor``: for each call, one Ed25519 verify (PyNaCl) of an enterprise PASSporT + one ES256 sign (cryptography)
  of a SHAKEN PASSporT's signing input: the cryptography any attestation must do;
* ``attest``: :meth:`AttestationEngine.attest` for each call — parse the Identity header, decode the PASSporT,
  policy, freshness, key from the ledger snapshot, Ed25519 verify, chain walk in the TN index, vetted-identity
  check, replay cache, sign the SHAKEN PASSporT (ES256), build the decision; with and without the audit log.

Reports µs per call (mean, p50, p99), calls/s, and the ratio attest / floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import nacl.signing

from benchmarks.machine import machine
from node.attest import AttestationEngine, CallRequest, ReplayCache
from node.demo import CALLER, build_story
from wallet.dids import signer_for
from wallet.keys import P256Key
from wallet.passport import decode, sign_call


def _percentiles(samples: list[float]) -> dict[str, float]:
    s = sorted(samples)
    return {"mean_us": statistics.fmean(s) * 1e6, "p50_us": s[len(s) // 2] * 1e6,
            "p99_us": s[min(len(s) - 1, int(len(s) * 0.99))] * 1e6, "per_s": len(s) / sum(s)}


def _floor(tokens: list[str], verify_key: nacl.signing.VerifyKey, es: P256Key) -> dict[str, float]:
    parsed = [decode(t.split(";")[0]) for t in tokens]
    shaken_input = b"x" * 330  # the size of a SHAKEN PASSporT's header.payload
    samples = []
    for p in parsed:
        t0 = time.perf_counter()
        verify_key.verify(p.signing_input, p.signature)
        es.sign(shaken_input)
        samples.append(time.perf_counter() - t0)
    return _percentiles(samples)


def _attest(engine: AttestationEngine, requests: list[CallRequest]) -> dict[str, float]:
    samples = []
    for req in requests:
        t0 = time.perf_counter()
        d = engine.attest(req)
        samples.append(time.perf_counter() - t0)
        if d.attest != "A":
            raise SystemExit(f"benchmark call was not attested A: {[r.code for r in d.reasons]}")
    return _percentiles(samples)


def run(n: int) -> dict[str, Any]:
    results: dict[str, Any] = {"machine": machine(), "n": n}
    with tempfile.TemporaryDirectory(prefix="eidln-bench-attest-") as tmp:
        story = build_story(Path(tmp))
        try:
            signer, kid = signer_for(story.wallets["callcenter"], story.did["callcenter"])
            iat = int(story.clock())
            dests = [f"1310{5550000 + i:07d}" for i in range(n)]
            tokens = [sign_call(signer, kid=kid, orig=CALLER, dest=[d], iat=iat,
                                credential_id=story.delegation["id"]) for d in dests]
            requests = [CallRequest("acme-trunk", CALLER, (d,), (t,)) for d, t in zip(dests, tokens, strict=True)]
            verify_key = nacl.signing.VerifyKey(signer.public_key)
            es = story.engine.signer.key
            story.engine.clock = lambda: float(iat + 1)  # a fixed clock: the n tokens stay fresh
            story.engine.attest(requests[0])  # warm the DID-state cache (a cache miss replays the DID once)
            story.engine.replay = ReplayCache()
            results["floor"] = _floor(tokens, verify_key, es)
            audit = story.engine.audit
            story.engine.audit = None
            results["attest"] = _attest(story.engine, requests)
            story.engine.replay = ReplayCache()
            story.engine.audit = audit
            results["attest_audited"] = _attest(story.engine, requests)
            if audit is not None:
                audit.flush()
        finally:
            story.close()
    for k in ("attest", "attest_audited"):
        results[k]["ratio_to_floor"] = results[k]["mean_us"] / results["floor"]["mean_us"]
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/attest.json"))
    a = ap.parse_args()
    r = run(a.n)
    m = r["machine"]
    print(f"machine: {m.get('cpu')} ({m.get('cores')} cores), Python {m.get('python')}; n = {r['n']} calls, 1 core")
    print(f"{'workload':<34}{'mean µs':>9}{'p50 µs':>9}{'p99 µs':>9}{'calls/s':>10}{'× floor':>9}")
    for key, label in (("floor", "floor: Ed25519 verify + ES256 sign"), ("attest", "attest (no audit log)"),
                       ("attest_audited", "attest + audit log")):
        x = r[key]
        print(f"{label:<34}{x['mean_us']:>9.1f}{x['p50_us']:>9.1f}{x['p99_us']:>9.1f}{x['per_s']:>10.0f}"
              f"{x.get('ratio_to_floor', 1.0):>9.2f}")
    a.json.write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
