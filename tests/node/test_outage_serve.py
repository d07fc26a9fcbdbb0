"""`eidln node serve` on anvil through a chain outage (issue 9, item 2): the node keeps answering, says it is not
ready and why, gives B (``ledger.stale``) instead of a stale A while the chain is away, follows the chain again when
it returns, and refuses a grant revoked after the outage."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks.ospworld import OspWorld

pytestmark = pytest.mark.slow


def _attest(c: httpx.Client, w: OspWorld, orig: int) -> dict[str, object]:
    r = c.post("/v1/attest", json=w.call(orig))
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


def _codes(d: dict[str, object]) -> list[str]:
    return [r["code"] for r in d["reasons"]]  # type: ignore[attr-defined, index]


def test_node_serve_survives_a_chain_outage(tmp_path: Path) -> None:
    with OspWorld(tmp_path, max_staleness=3) as w, httpx.Client(base_url=w.base, timeout=10) as c:
        w.wait_ready(c)
        assert _attest(c, w, 12025550101)["attest"] == "A"

        w.chain_down()
        while c.get("/readyz").status_code == 200:  # wait for the state: the node noticed
            pass
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.headers["content-type"] == "application/problem+json"
        assert "sync.retrying" in ready.json()["reasons"] and ready.json()["sync"]["code"] == "chain.unavailable"
        while (d := _attest(c, w, 12025550102))["attest"] == "A":  # A only while within max_staleness
            pass
        assert d["attest"] == "B" and _codes(d) == ["ledger.stale"]
        metrics = c.get("/metrics").text
        assert "eidln_sync_up 0.0" in metrics and 'eidln_sync_state{state="retrying"} 1.0' in metrics
        assert c.get("/healthz").status_code == 200  # alive: the sync loop did not die

        w.chain_up()
        w.wait_ready(c)
        assert _attest(c, w, 12025550103)["attest"] == "A"

        grant = w.granted[0]
        w.revoke(grant)
        while (d := _attest(c, w, grant.first + 5))["attest"] == "A":  # wait for the state: the revocation synced
            pass
        assert _codes(d) == ["tn.revoked"]
        for i in range(10):  # and from then on, never A again for it
            assert _attest(c, w, grant.first + i)["attest"] == "B"
        assert _attest(c, w, w.granted[1].first)["attest"] == "A"  # the others still prove
        assert w.node is not None and w.node.poll() is None
