"""Prometheus metrics: private registries, the counters' labels, the /metrics exposition."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from node.api.metrics import BUCKETS, Metrics
from node.api.stir import add_stir


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_registries_are_private() -> None:
    a, b = Metrics(), Metrics()  # a second instance must not clash ("Duplicated timeseries")
    a.decision("A", "attest.full", 0.0004)
    assert a.registry is not b.registry and a.registry is not REGISTRY
    assert REGISTRY.get_sample_value("eidln_attest_decisions_total", {"attest": "A", "reason": "attest.full"}) is None
    assert b.registry.get_sample_value("eidln_attest_decisions_total",
                                       {"attest": "A", "reason": "attest.full"}) is None
    assert a.registry.get_sample_value("eidln_attest_decisions_total", {"attest": "A", "reason": "attest.full"}) == 1


def test_counters_and_histogram() -> None:
    m = Metrics()
    m.decision("B", "attest.partial", 0.002)
    m.decision("", "attest.unknown_number", 0.002)
    m.signed("ok", 0.0003)
    m.signed("SVC4005", 0.0001)
    m.verified("TN-Validation-Passed", None, 0.001)
    m.verified("TN-Validation-Failed", 438, 0.001)
    got = samples(m.render().decode())
    assert got[("eidln_attest_decisions_total", (("attest", "B"), ("reason", "attest.partial")))] == 1
    assert got[("eidln_attest_decisions_total", (("attest", "none"), ("reason", "attest.unknown_number")))] == 1
    assert got[("eidln_stir_signing_total", (("result", "ok"),))] == 1
    assert got[("eidln_stir_verification_total", (("reasoncode", "none"), ("verstat", "TN-Validation-Passed")))] == 1
    assert got[("eidln_stir_verification_total", (("reasoncode", "438"), ("verstat", "TN-Validation-Failed")))] == 1
    assert got[("eidln_request_seconds_count", (("route", "/v1/attest"),))] == 2
    assert got[("eidln_request_seconds_bucket", (("le", "0.0005"), ("route", "/stir/v1/signing")))] == 2
    assert got[("eidln_request_seconds_bucket", (("le", "0.0001"), ("route", "/stir/v1/signing")))] == 1
    assert BUCKETS[0] == 0.0001 and BUCKETS[-1] == 1.0 and list(BUCKETS) == sorted(BUCKETS)


def test_metrics_route() -> None:
    m = Metrics()
    app = FastAPI()
    add_stir(app, signer=None, verifier=None, metrics=m)
    m.decision("A", "attest.full", 0.0002)
    with TestClient(app) as client:
        r = client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
        assert samples(r.text)[("eidln_attest_decisions_total", (("attest", "A"), ("reason", "attest.full")))] == 1
        assert "process_cpu_seconds_total" not in r.text  # no default collectors on a private registry
        assert client.post("/stir/v1/signing", json={}).status_code == 404  # no signer: not offered
