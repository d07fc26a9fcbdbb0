"""ATIS-1000082 ``/stir/v1/signing`` and ``/stir/v1/verification``: shapes, every service exception, the
verifier's verdicts, and one round trip through a real uvicorn server."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from did_method import KeyType
from node.api.metrics import Metrics
from node.api.stir import EXCEPTIONS, MAX_BODY, add_stir
from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.sign import ShakenSigner
from tests.serving import served
from wallet.keys import P256Key
from wallet.passport import (
    b64url_decode,
    b64url_encode,
    canonical_json,
    decode,
    encode,
    integrity,
    parse_identity,
    verify_signature,
)

X5U = "http://127.0.0.1:8444/sp-chain.pem"
SIGNING, VERIFICATION = "/stir/v1/signing", "/stir/v1/verification"


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="1234", now=datetime.now(UTC))


@pytest.fixture(scope="module")
def signer(pki: TestPKI) -> ShakenSigner:
    return ShakenSigner(P256Key(pki.sp_key), X5U)


def _verifier(pki: TestPKI) -> Any:
    from node.shaken.verify import StiVerifier
    from node.shaken.x5u import CertFetcher

    fetcher = CertFetcher(allow_insecure=True)
    fetcher.prime(X5U, pki.pems["sp.pem"] + pki.pems["ca.pem"])
    return StiVerifier(roots=[pki.root_cert], fetcher=fetcher)


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="module")
def app(signer: ShakenSigner, metrics: Metrics) -> FastAPI:
    app = FastAPI()
    add_stir(app, signer=signer, verifier=None, metrics=metrics)
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def signing_request(**over: Any) -> dict[str, Any]:
    req = {"attest": "A", "dest": {"tn": ["12355551212"]}, "iat": int(time.time()), "orig": {"tn": "12155551212"},
           "origid": "de305d54-75b4-431b-adb2-eb6b9e546014"}
    req.update(over)
    return {"signingRequest": {k: v for k, v in req.items() if v is not ...}}


def exception(r: httpx.Response, status: int, message_id: str, *variables: str) -> list[str]:
    assert r.status_code == status, r.text
    kind = "policyException" if message_id.startswith("POL") else "serviceException"
    body = r.json()["requestError"][kind]
    assert body["messageId"] == message_id and body["text"] == EXCEPTIONS[message_id][1]
    assert body["variables"][:len(variables)] == list(variables)
    return list(body["variables"])


# ---------------------------------------------------------------------------------------------- signing


def test_signing_happy_path(client: TestClient, pki: TestPKI) -> None:
    req = signing_request(dest={"tn": ["+1 (235) 555-1212", "12355550000"]}, ppt="shaken")
    r = client.post(SIGNING, json=req, headers={"accept": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    (key,) = r.json()
    assert key == "signingResponse" and list(r.json()[key]) == ["identity"]
    identity = r.json()["signingResponse"]["identity"]
    header = parse_identity(identity)
    assert header.info == X5U and header.alg == "ES256" and header.ppt == "shaken" and not header.compact
    assert identity.endswith(f";info=<{X5U}>;alg=ES256;ppt=shaken")
    parsed = decode(header.token)
    spki = pki.sp_cert.public_key().public_bytes(serialization.Encoding.X962,
                                                 serialization.PublicFormat.CompressedPoint)
    assert verify_signature(parsed, KeyType.P256, spki)
    assert parsed.header == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
    assert parsed.claims == {"attest": "A", "dest": {"tn": ["12355551212", "12355550000"]},
                             "iat": req["signingRequest"]["iat"], "orig": {"tn": "12155551212"},
                             "origid": "de305d54-75b4-431b-adb2-eb6b9e546014"}
    claims_b64 = header.token.split(".")[1]
    assert b64url_decode(claims_b64) == canonical_json(parsed.claims)


def test_signing_accepts_charset_and_wildcard_accept(client: TestClient) -> None:
    body = json.dumps(signing_request()).encode()
    for accept in ("*/*", "application/*", "text/html, application/json;q=0.5", None):
        headers = {"content-type": "application/json; charset=utf-8"}
        if accept:
            headers["accept"] = accept
        assert client.post(SIGNING, content=body, headers=headers).status_code == 200, accept


@pytest.mark.parametrize(("over", "message_id", "variables"), [
    ({"attest": ...}, "SVC4001", ["attest"]),
    ({"dest": ...}, "SVC4001", ["dest"]),
    ({"iat": ...}, "SVC4001", ["iat"]),
    ({"orig": ...}, "SVC4001", ["orig"]),
    ({"origid": ...}, "SVC4001", ["origid"]),
    ({"attest": ""}, "SVC4005", ["attest"]),
    ({"attest": "D"}, "SVC4005", ["attest"]),
    ({"attest": 1}, "SVC4005", ["attest"]),
    ({"attest": ["A"]}, "SVC4005", ["attest"]),
    ({"iat": 0}, "SVC4005", ["iat"]),
    ({"iat": -5}, "SVC4005", ["iat"]),
    ({"iat": "1632412033"}, "SVC4005", ["iat"]),
    ({"iat": 1632412033.5}, "SVC4005", ["iat"]),
    ({"iat": True}, "SVC4005", ["iat"]),
    ({"iat": 1632412033}, "SVC4005", ["iat"]),  # years stale: not signed
    ({"origid": ""}, "SVC4005", ["origid"]),
    ({"origid": 7}, "SVC4005", ["origid"]),
    ({"origid": "x" * 129}, "SVC4005", ["origid"]),
    ({"orig": {}}, "SVC4001", ["orig.tn"]),
    ({"orig": "12155551212"}, "SVC4005", ["orig"]),
    ({"orig": {"tn": "12155551212", "x": 1}}, "SVC4005", ["orig"]),
    ({"orig": {"tn": ["12155551212"]}}, "SVC4005", ["orig.tn"]),
    ({"orig": {"tn": ""}}, "SVC4005", ["orig.tn"]),
    ({"orig": {"tn": "12a"}}, "SVC4005", ["orig.tn"]),
    ({"orig": {"uri": "sip:alice@example.com"}}, "SVC4005", ["orig.uri"]),
    ({"dest": {}}, "SVC4001", ["dest.tn"]),
    ({"dest": ["12355551212"]}, "SVC4005", ["dest"]),
    ({"dest": {"tn": ["12355551212"], "uri": []}}, "SVC4005", ["dest.uri"]),
    ({"dest": {"tn": ["1"], "y": 1}}, "SVC4005", ["dest"]),
    ({"dest": {"tn": []}}, "SVC4005", ["dest.tn"]),
    ({"dest": {"tn": "12355551212"}}, "SVC4005", ["dest.tn"]),
    ({"dest": {"tn": [12355551212]}}, "SVC4005", ["dest.tn[0]"]),
    ({"dest": {"tn": ["12355551212", ""]}}, "SVC4005", ["dest.tn[1]"]),
    ({"ppt": "div"}, "SVC4005", ["ppt"]),
    ({"extra": 1}, "SVC4005", ["extra"]),
])
def test_signing_bad_parameters(client: TestClient, over: dict[str, Any], message_id: str,
                                variables: list[str]) -> None:
    r = client.post(SIGNING, json=signing_request(**over))
    exception(r, 400, message_id, *variables)


@pytest.mark.parametrize(("body", "message_id", "variables"), [
    (b"", "SVC4000", []),
    (b"  \n", "SVC4000", []),
    (b"{", "SVC4006", []),
    (b"[]", "SVC4006", []),
    (b'{"signingRequest": {"attest": "A", "attest": "B"}}', "SVC4006", []),
    (b'{"signingRequest": {"iat": NaN}}', "SVC4006", []),
    (b"\xff\xfe{}", "SVC4006", ["not UTF-8"]),
    (b"[" * 10_000 + b"]" * 10_000, "SVC4006", []),
    (b"{}", "SVC4001", ["signingRequest"]),
    (b'{"signingRequest": []}', "SVC4005", ["signingRequest"]),
    (b'{"signingRequest": {}, "x": 1}', "SVC4005", ["x"]),
])
def test_signing_bad_bodies(client: TestClient, body: bytes, message_id: str, variables: list[str]) -> None:
    r = client.post(SIGNING, content=body, headers={"content-type": "application/json"})
    exception(r, 400, message_id, *variables)


def test_duplicate_key_is_a_parse_error(client: TestClient) -> None:
    r = client.post(SIGNING, content=b'{"signingRequest": {}, "signingRequest": {}}',
                    headers={"content-type": "application/json"})
    assert exception(r, 400, "SVC4006") == ["duplicate member name 'signingRequest'"]


def test_http_level_exceptions(client: TestClient) -> None:
    body = json.dumps(signing_request()).encode()
    exception(client.post(SIGNING, content=body, headers={"content-type": "text/plain"}), 415, "SVC4004",
              "application/json")
    exception(client.post(SIGNING, content=body), 415, "SVC4004")
    exception(client.post(SIGNING, content=body, headers={"content-type": "application/json; charset=latin-1"}),
              415, "SVC4004")
    exception(client.post(SIGNING, json=signing_request(), headers={"accept": "application/xml"}), 406, "SVC4002",
              "application/xml")
    exception(client.post(SIGNING, json=signing_request(), headers={"accept": "application/json;q=0"}), 406,
              "SVC4002")
    chunked = client.post(SIGNING, content=iter([body]), headers={"content-type": "application/json"})
    exception(chunked, 411, "SVC4007")
    big = b'{"signingRequest": {"x": "' + b"a" * MAX_BODY + b'"}}'
    exception(client.post(SIGNING, content=big, headers={"content-type": "application/json"}), 400, "SVC4005",
              "Content-Length")
    r = client.get(SIGNING)
    exception(r, 405, "POL4050")
    assert r.headers["allow"] == "POST"
    exception(client.put(SIGNING, json=signing_request()), 405, "POL4050")
    exception(client.post("/stir/v1/nothing", json={}), 404, "SVC4003")
    exception(client.get("/stir/v1/"), 404, "SVC4003")
    exception(client.post(VERIFICATION, json={}), 404, "SVC4003")  # no verifier in this app


def test_other_routes_untouched(client: TestClient) -> None:
    r = client.get("/elsewhere")
    assert r.status_code == 404 and "requestError" not in r.text


def test_signing_metrics(client: TestClient, metrics: Metrics) -> None:
    before = metrics.signing.labels(result="ok")._value.get()
    client.post(SIGNING, json=signing_request())
    client.post(SIGNING, json=signing_request(attest="Z"))
    assert metrics.signing.labels(result="ok")._value.get() == before + 1
    text = client.get("/metrics").text
    assert 'eidln_stir_signing_total{result="SVC4005"}' in text
    assert 'eidln_request_seconds_bucket{le="0.0001",route="/stir/v1/signing"}' in text


# ---------------------------------------------------------------------------------------------- verification


@pytest.fixture(scope="module")
def vmetrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="module")
def vclient(pki: TestPKI, signer: ShakenSigner, vmetrics: Metrics) -> Iterator[TestClient]:
    verifier = _verifier(pki)
    app = FastAPI()
    add_stir(app, signer=signer, verifier=verifier, metrics=vmetrics)
    with TestClient(app) as c:
        yield c
    verifier.fetcher.close()


def _identity(client: TestClient, **over: Any) -> str:
    r = client.post(SIGNING, json=signing_request(**over))
    assert r.status_code == 200, r.text
    return str(r.json()["signingResponse"]["identity"])


def verification_request(identity_: str, **over: Any) -> dict[str, Any]:
    req = {"from": {"tn": "12155551212"}, "to": {"tn": ["12355551212"]}, "time": int(time.time()),
           "identity": identity_}
    req.update(over)
    return {"verificationRequest": {k: v for k, v in req.items() if v is not ...}}


def test_verification_passes(vclient: TestClient, vmetrics: Metrics) -> None:
    identity = _identity(vclient)
    for to in ({"tn": ["12355551212"]}, {"tn": "+1-235-555-1212"}, {"tn": ["19998887777", "12355551212"]}):
        r = vclient.post(VERIFICATION, json=verification_request(identity, to=to, requestId="x"))
        assert r.status_code == 200, r.text
        assert r.json() == {"verificationResponse": {"verstat": "TN-Validation-Passed", "attest": "A",
                                                     "origid": "de305d54-75b4-431b-adb2-eb6b9e546014"}}
    assert vmetrics.registry.get_sample_value("eidln_stir_verification_total",
                                              {"verstat": "TN-Validation-Passed", "reasoncode": "none"}) == 3


def test_verification_failures_are_200_verdicts(vclient: TestClient) -> None:
    identity = _identity(vclient)
    jws, params = identity.split(";", 1)
    head, claims, sig = jws.split(".")
    tampered = f"{head}.{claims}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'};{params}"
    cases = [
        (verification_request(identity, to={"tn": ["12355550000"]}), "No-TN-Validation", 438),
        (verification_request(identity, **{"from": {"tn": "12155550000"}}), "No-TN-Validation", 438),
        (verification_request(identity, time=int(time.time()) - 3600), "No-TN-Validation", 403),
        (verification_request(tampered), "TN-Validation-Failed", 438),
        (verification_request(identity.replace(";ppt=shaken", ";ppt=div")), "No-TN-Validation", 438),
        (verification_request(f"{jws};alg=ES256;ppt=shaken"), "No-TN-Validation", 436),
    ]
    for body, verstat, reasoncode in cases:
        r = vclient.post(VERIFICATION, json=body)
        assert r.status_code == 200, r.text
        got = r.json()["verificationResponse"]
        assert (got["verstat"], got["reasoncode"]) == (verstat, reasoncode), (body, got)
        assert got["reasontext"] and got["reasondesc"]
        assert set(got) == {"verstat", "reasoncode", "reasontext", "reasondesc"}, got  # no unverified claim


def test_tampered_attest_is_not_echoed(vclient: TestClient) -> None:
    """Issue 9: a real C token with its payload changed to A fails E18, and the answer says nothing of the payload
    (neither the forged ``attest`` nor the ``origid`` of a token nobody verified)."""
    identity = _identity(vclient, attest="C")
    genuine = vclient.post(VERIFICATION, json=verification_request(identity)).json()["verificationResponse"]
    assert (genuine["verstat"], genuine["attest"]) == ("TN-Validation-Passed", "C")
    jws, params = identity.split(";", 1)
    head, claims, sig = jws.split(".")
    forged_claims = json.loads(b64url_decode(claims)) | {"attest": "A"}
    forged = f"{head}.{b64url_encode(canonical_json(forged_claims))}.{sig};{params}"
    r = vclient.post(VERIFICATION, json=verification_request(forged))
    assert r.status_code == 200, r.text
    assert r.json() == {"verificationResponse": {
        "verstat": "TN-Validation-Failed", "reasoncode": 438, "reasontext": "Invalid Identity Header",
        "reasondesc": "Signature validation failed."}}
    assert '"attest"' not in r.text and "origid" not in r.text


def _rcd_identity(pki: TestPKI, **extra: Any) -> str:
    """A SHAKEN token with RFC 9795 claims, signed with the SP key over the canonical claims (ShakenSigner's bytes)."""
    claims = {"attest": "A", "dest": {"tn": ["12355551212"]}, "iat": int(time.time()), "orig": {"tn": "12155551212"},
              "origid": "de305d54-75b4-431b-adb2-eb6b9e546014"} | extra
    token = encode({"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}, claims, P256Key(pki.sp_key))
    return f"{token};info=<{X5U}>;alg=ES256;ppt=shaken"


def test_verification_returns_verified_rich_call_data(vclient: TestClient, pki: TestPKI) -> None:
    logo = integrity(b"the vetted logo")
    rcd = {"nam": "Acme Health", "icn": "https://brand.example/logo.png"}
    r = vclient.post(VERIFICATION, json=verification_request(
        _rcd_identity(pki, rcd=rcd, rcdi={"/icn": logo}, crn="Appointment reminder")))
    assert r.status_code == 200, r.text
    assert r.json() == {"verificationResponse": {
        "verstat": "TN-Validation-Passed", "attest": "A", "origid": "de305d54-75b4-431b-adb2-eb6b9e546014",
        "rcdStatus": "verified", "rcd": rcd, "rcdi": {"/icn": logo}, "crn": "Appointment reminder"}}


def test_verification_refuses_unvouched_rich_call_data(vclient: TestClient, pki: TestPKI) -> None:
    """An ``icn`` without ``rcdi``: the caller's number verifies, the logo, name and call reason are not returned."""
    rcd = {"nam": "Acme Health", "icn": "https://brand.example/logo.png"}
    for rcdi, reason in ((None, "passport.no_integrity"), ({"/icn": "sha256-AAAA"}, "passport.bad_integrity")):
        extra: dict[str, Any] = {"rcd": rcd, "crn": "Billing"} | ({"rcdi": rcdi} if rcdi is not None else {})
        r = vclient.post(VERIFICATION, json=verification_request(_rcd_identity(pki, **extra)))
        assert r.status_code == 200, r.text
        assert r.json() == {"verificationResponse": {
            "verstat": "TN-Validation-Passed", "attest": "A", "origid": "de305d54-75b4-431b-adb2-eb6b9e546014",
            "rcdStatus": "failed", "rcdReason": reason}}
        assert "brand.example" not in r.text and "Billing" not in r.text


def test_verification_of_tampered_rich_call_data_says_nothing_of_it(vclient: TestClient, pki: TestPKI) -> None:
    identity = _rcd_identity(pki, rcd={"nam": "Acme Health"})
    jws, params = identity.split(";", 1)
    head, claims, sig = jws.split(".")
    forged = json.loads(b64url_decode(claims)) | {"rcd": {"nam": "Acme Bank"}}
    r = vclient.post(VERIFICATION, json=verification_request(
        f"{head}.{b64url_encode(canonical_json(forged))}.{sig};{params}"))
    got = r.json()["verificationResponse"]
    assert (got["verstat"], got["reasoncode"]) == ("TN-Validation-Failed", 438)
    assert set(got) == {"verstat", "reasoncode", "reasontext", "reasondesc"} and "Acme" not in r.text


def test_verification_schema_documents_rich_call_data(vclient: TestClient) -> None:
    spec = vclient.get("/openapi.json").json()
    answer = spec["paths"][VERIFICATION]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    fields = answer["properties"]["verificationResponse"]["properties"]
    assert {"rcdStatus", "rcdReason", "rcd", "rcdi", "crn"} <= set(fields)
    assert fields["rcdStatus"]["enum"] == ["verified", "failed"]


@pytest.mark.parametrize("path", [SIGNING, VERIFICATION])
def test_deeply_nested_body_is_a_parse_error(vclient: TestClient, path: str) -> None:
    """65,536 ``[`` (exactly MAX_BODY bytes) is the route's usual SVC4006, not a crash of the process."""
    body = b"[" * 65_536
    assert len(body) == MAX_BODY
    r = vclient.post(path, content=body, headers={"content-type": "application/json"})
    assert "nested deeper than" in exception(r, 400, "SVC4006")[0]


@pytest.mark.parametrize(("over", "message_id", "variables"), [
    ({"from": ...}, "SVC4001", ["from"]),
    ({"to": ...}, "SVC4001", ["to"]),
    ({"time": ...}, "SVC4001", ["time"]),
    ({"identity": ...}, "SVC4001", ["identity"]),
    ({"from": {}}, "SVC4001", ["from.tn"]),
    ({"from": "12155551212"}, "SVC4005", ["from"]),
    ({"from": {"tn": ["12155551212"]}}, "SVC4005", ["from.tn"]),
    ({"from": {"uri": "sip:a@example.com"}}, "SVC4005", ["from.uri"]),
    ({"to": {"tn": []}}, "SVC4005", ["to.tn"]),
    ({"to": {"tn": 12355551212}}, "SVC4005", ["to.tn"]),
    ({"to": {"tn": ["abc"]}}, "SVC4005", ["to.tn[0]"]),
    ({"time": "1632413071"}, "SVC4005", ["time"]),
    ({"time": 0}, "SVC4005", ["time"]),
    ({"identity": ""}, "SVC4005", ["identity"]),
    ({"identity": 5}, "SVC4005", ["identity"]),
    ({"identity": "eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}, "SVC4005", ["identity"]),  # E2: no parameters
    ({"identity": "!!!;info=<http://127.0.0.1:8444/sp-chain.pem>"}, "SVC4005", ["identity"]),  # E2: no JWS
])
def test_verification_bad_parameters(vclient: TestClient, over: dict[str, Any], message_id: str,
                                     variables: list[str]) -> None:
    body = verification_request("x;info=<http://127.0.0.1:8444/sp-chain.pem>", **over)
    exception(vclient.post(VERIFICATION, json=body), 400, message_id, *variables)


def test_verification_http_level(vclient: TestClient) -> None:
    exception(vclient.post(VERIFICATION, content=b"", headers={"content-type": "application/json"}), 400, "SVC4000")
    exception(vclient.post(VERIFICATION, content=b'{"verificationRequest": {"a": 1, "a": 2}}',
                           headers={"content-type": "application/json"}), 400, "SVC4006")
    exception(vclient.post(VERIFICATION, json={}), 400, "SVC4001", "verificationRequest")
    exception(vclient.get(VERIFICATION), 405, "POL4050")
    exception(vclient.post(VERIFICATION, json={}, headers={"accept": "text/html"}), 406, "SVC4002")


# ---------------------------------------------------------------------------------------------- real server


@pytest.fixture
def server(pki: TestPKI, signer: ShakenSigner) -> Iterator[str]:
    from did_method.resolver import Resolver
    from node.api import create_app
    from node.sync.didhistory import IndexHistory
    from node.sync.store import Store

    verifier = _verifier(pki)
    with tempfile.TemporaryDirectory() as tmp:
        Store(Path(tmp) / "index.sqlite").close()
        app = create_app(Resolver(IndexHistory(Path(tmp) / "index.sqlite"), network="local", chain_id=1337),
                         signer=signer, verifier=verifier, metrics=Metrics())
        with served(app) as url:
            yield url
    verifier.fetcher.close()


@pytest.mark.slow
def test_real_http_server(server: str) -> None:
    with httpx.Client(base_url=server) as c:
        r = c.post(SIGNING, json=signing_request(), headers={"accept": "application/json"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        identity = r.json()["signingResponse"]["identity"]
        r = c.post(VERIFICATION, json=verification_request(identity))
        assert r.json()["verificationResponse"]["verstat"] == "TN-Validation-Passed"
        raw = httpx.Request("POST", server + SIGNING, content=iter([b"{}"]),
                            headers={"content-type": "application/json"})
        exception(c.send(raw), 411, "SVC4007")
        exception(c.post(SIGNING, content=b"{", headers={"content-type": "application/json"}), 400, "SVC4006")
        exception(c.delete(VERIFICATION), 405, "POL4050")
        assert c.get("/1.0/methods").json() == ["eidln"]  # the rest of the app is as before
        assert "eidln_stir_verification_total" in c.get("/metrics").text
