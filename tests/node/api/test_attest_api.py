"""POST /v1/attest and the audit queries: in-process and through a real uvicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from did_method.resolver import Resolver
from node.api import create_app
from node.api.metrics import Metrics
from node.sync.didhistory import IndexHistory
from tests.node.attest.world import World, build
from tests.serving import served
from wallet.passport import decode


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("attest-api"))


@pytest.fixture(scope="module")
def app(w: World) -> Any:
    assert w.engine is not None
    w.metrics = Metrics()  # type: ignore[attr-defined]
    resolver = Resolver(IndexHistory(w.index), network="local", chain_id=1337)
    return create_app(resolver, engine=w.engine, audit=w.audit, metrics=w.metrics)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def client(app: Any) -> TestClient:
    return TestClient(app)


def body(w: World, identity: Any = None, **headers: Any) -> dict[str, Any]:
    h: dict[str, Any] = {"From": '"Acme" <sip:+12025550142@pbx.acme.example>;tag=9',
                         "To": "<sip:+13105550000@osp.example;user=phone>"}
    if identity is not None:
        h["Identity"] = identity
    h.update(headers)
    return {"trunk": "cc-trunk", "headers": h}


def test_attest_a_and_audit(client: TestClient, w: World) -> None:
    r = client.post("/v1/attest", json=body(w, w.call("cc", "cc")))
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["attest"] == "A" and d["mechanism"] == "ledger" and d["reasons"][0]["code"] == "ledger.verified"
    claims = decode(d["identity"].split(";")[0]).claims
    assert claims["attest"] == "A" and claims["origid"] == d["origid"] and claims["orig"] == {"tn": "12025550142"}
    rec = client.get(f"/v1/audit/{d['origid']}")
    assert rec.status_code == 200 and rec.json()["attest"] == "A"
    rows = client.get("/v1/audit", params={"orig": "+1 202 555 0142", "attest": "A"}).json()
    assert d["origid"] in {x["origid"] for x in rows}


def test_b_without_evidence_and_pai_wins(client: TestClient, w: World) -> None:
    d = client.post("/v1/attest", json=body(w, **{"From": "<sip:anonymous@anonymous.invalid>",
                                                 "P-Asserted-Identity": "<tel:+1-202-555-0143>"})).json()
    assert d["attest"] == "B" and d["orig"] == "12025550143" and d["reasons"][0]["code"] == "evidence.none"


def test_identity_as_list_and_sip_date(client: TestClient, w: World) -> None:
    date = formatdate(w.now - 5, usegmt=True)
    d = client.post("/v1/attest", json=body(w, [w.call("cc", "cc", iat=w.now - 6)], Date=date)).json()
    assert d["attest"] == "A" and d["iat"] == w.now - 5


def test_refused_passport_is_a_200_with_reason(client: TestClient, w: World) -> None:
    r = client.post("/v1/attest", json=body(w, "garbage"))
    assert r.status_code == 200 and r.json()["attest"] == "B" and r.json()["reasons"][0]["code"] == "ppt.malformed"


@pytest.mark.parametrize("raw, code", [
    (b"{not json", "attest.bad_request"),
    (b'{"trunk":"a","trunk":"b","headers":{}}', "attest.bad_request"),
    (b'[]', "attest.bad_request"),
    (b'{"trunk":"cc-trunk","headers":{"From":"<sip:+12025550142@x>"}}', "attest.bad_request"),
    (b'{"trunk":"cc-trunk","headers":{"To":"<sip:+1310@x>","X-Evil":"1"}}', "attest.bad_request"),
    (b'{"trunk":"cc-trunk","headers":{"To":"<sip:+13105550000@x>","From":"<sip:anonymous@x>"}}', "sip.no_orig"),
    (b'{"trunk":"cc-trunk","headers":{"To":"<mailto:a@b>","From":"<sip:+12025550142@x>"}}', "sip.bad_uri"),
    (b'{"trunk":"cc-trunk","headers":{"To":"<sip:+13105550000@x>","From":"<sip:+12025550142@x>","Date":"yesterday"}}',
     "sip.bad_date"),
    (b'{"trunk":"","headers":{"To":"<sip:+13105550000@x>","From":"<sip:+12025550142@x>"}}', "sip.bad_trunk"),
    (b'{"trunk":"cc-trunk","headers":{"To":"<sip:+13105550000@x>","From":"<sip:+12025550142@x>","Identity":[1]}}',
     "attest.bad_request"),
])
def test_not_a_call_is_400_problem(client: TestClient, raw: bytes, code: str) -> None:
    r = client.post("/v1/attest", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["code"] == code


def test_media_type_size_and_query_errors(client: TestClient, w: World) -> None:
    r = client.post("/v1/attest", content=b"x", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and r.json()["code"] == "attest.unsupported_media_type"
    big = json.dumps(body(w, "a" * 70000))
    r = client.post("/v1/attest", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert client.get("/v1/audit/no-such-origid").status_code == 404
    for params in ({"limit": 0}, {"attest": "D"}, {"since": "yesterday"}):
        r = client.get("/v1/audit", params=params)
        assert r.status_code == 400 and r.json()["code"] == "request.bad_parameter", params
    assert client.get("/v1/audit", params={"orig": "call me"}).json()["code"] == "audit.bad_query"


def test_metrics_and_openapi(client: TestClient, w: World) -> None:
    client.post("/v1/attest", json=body(w))
    text = client.get("/metrics").text
    assert 'eidln_attest_decisions_total{attest="B",reason="evidence.none"}' in text
    assert 'eidln_request_seconds_count{route="/v1/attest"}' in text
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/attest", "/v1/audit", "/v1/audit/{origid}"} <= set(paths)


@pytest.fixture
def server(app: Any) -> Iterator[str]:
    with served(app) as url:
        yield url


@pytest.mark.slow
def test_through_uvicorn(server: str, w: World) -> None:
    with httpx.Client(base_url=server) as c:
        d = c.post("/v1/attest", json=body(w, w.call("cc", "cc", iat=w.now - 7))).json()
        assert d["attest"] == "A"
        assert c.get(f"/v1/audit/{d['origid']}").json()["mechanism"] == "ledger"
        r = c.post("/v1/attest", content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "attest.bad_request"


_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
_level1 = _scalar | st.lists(_scalar, max_size=4) | st.dictionaries(st.text(max_size=12), _scalar, max_size=4)
_json = _level1 | st.lists(_level1, max_size=3) | st.dictionaries(st.text(max_size=12), _level1, max_size=3)
_headers = st.fixed_dictionaries({}, optional={
    "From": st.text(max_size=60) | st.just("<sip:+12025550142@x>"), "To": st.text(max_size=60) | _json,
    "P-Asserted-Identity": st.text(max_size=60), "Date": st.text(max_size=40) | _json,
    "Identity": st.text(max_size=200) | st.lists(st.text(max_size=100), max_size=3) | _json})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(_json, st.fixed_dictionaries({"trunk": st.text(max_size=70) | _json, "headers": _headers | _json})))
def test_random_bodies_never_500(client: TestClient, doc: Any) -> None:
    r = client.post("/v1/attest", content=json.dumps(doc), headers={"content-type": "application/json"})
    assert r.status_code in (200, 400), (r.status_code, r.text)
    if r.status_code == 400:
        assert r.headers["content-type"] == "application/problem+json" and "code" in r.json()
    else:
        assert r.json()["attest"] in ("A", "B", "C")


def test_deep_json_and_lone_surrogates_are_400_not_a_crash_or_a_500(client: TestClient) -> None:
    for raw, why in ((b"[" * 65536, "nested deeper"), (b'{"trunk": ' + b"[" * 100 + b"]" * 100 + b"}", "nested deeper"),
                     (b'{"trunk": "\\ud800", "headers": {"To": "<sip:+13105550000@osp.example>"}}', "surrogate"),
                     (b'{"trunk": "t", "headers": {"To": "<sip:+13105550000@osp.example>", "Fr\\udfffom": "x"}}',
                      "surrogate")):
        r = client.post("/v1/attest", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["code"] == "attest.bad_request", r.text
        assert why in r.json()["detail"]


def test_poison_requests_interleaved_with_calls_lose_no_decision(w: World) -> None:
    """40 A decisions with 5 poison requests among them (a lone surrogate as the trunk, as a member name in the
    headers): every poison request is a 400, and every decision is in the audit log."""
    assert w.engine is not None and w.audit is not None
    w.confirm()
    app = create_app(Resolver(IndexHistory(w.index), network="local", chain_id=1337), engine=w.engine, audit=w.audit)
    poison = [b'{"trunk": "\\ud800", "headers": {"To": "<sip:+13105550000@osp.example>"}}',
              b'{"trunk": "cc-trunk", "headers": {"To": "<sip:+13105550000@osp.example>", "From": "\\udc00"}}']
    origids = []
    with served(app) as base, httpx.Client(base_url=base, timeout=10) as c:
        for i in range(40):
            b = body(w, w.call("cc", "cc", orig=f"1202555014{i % 10}", dest=f"131055501{i:02d}"),
                     From=f"<sip:+1202555014{i % 10}@pbx.acme.example>", To=f"<sip:+131055501{i:02d}@osp.example>")
            r = c.post("/v1/attest", json=b)
            assert r.status_code == 200 and r.json()["attest"] == "A", r.text
            origids.append(r.json()["origid"])
            if i % 8 == 0:
                bad = c.post("/v1/attest", content=poison[i % 2], headers={"content-type": "application/json"})
                assert bad.status_code == 400, bad.text
    w.audit.flush()
    missing = [o for o in origids if w.audit.by_origid(o) is None]
    assert not missing and w.audit.failed == 0
