"""The HTTP edge of the error tree (node/api/errors.py): one handler, one problem builder, one status table, and the
three answer shapes (RFC 9457 problem, DID Resolution problem, ATIS-1000082 service exception)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from did_method.errors import MethodNotSupported, MultikeyError, NotFound
from node.api.errors import HTTP_STATUS, PROBLEM, PROBLEM_BASE, ApiError, ServiceException, install, problem
from node.api.limits import BodyLimit, RequestLimits
from node.attest.sip import SipInputError
from node.errors import NodeError

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "errors.md"


def _app() -> FastAPI:
    app = FastAPI()
    install(app)
    install(app)  # once is enough; twice changes nothing

    @app.get("/api")
    def api() -> None:
        raise ApiError("no decision with origid 'x'", code="audit.not_found")

    @app.get("/ready")
    def ready() -> None:
        raise ApiError("ledger.stale", code="node.not_ready",
                       members={"ready": False, "reasons": ["ledger.stale"], "status": 200, "code": "x"})

    @app.get("/sip")
    def sip() -> None:
        raise SipInputError("To carries no called number", code="sip.bad_uri")

    @app.get("/did/{kind}")
    def did(kind: str) -> None:
        raise {"nf": NotFound("no such DID"), "method": MethodNotSupported("did:web is not eidln"),
               "key": MultikeyError("not a key")}[kind]

    @app.post("/stir/{message_id}")
    def stir(message_id: str) -> None:
        raise ServiceException(message_id, "attest", "must be A, B or C")

    @app.get("/unmapped")
    def unmapped() -> None:
        raise NodeError("the chain cannot be reached", code="chain.unavailable")

    @app.get("/defect")
    def defect() -> None:
        raise RuntimeError("secret internals")

    @app.get("/typed")
    def typed(limit: int) -> dict[str, int]:
        return {"limit": limit}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(_app(), raise_server_exceptions=False)


def test_a_problem_has_one_shape(client: TestClient) -> None:
    r = client.get("/api")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json() == {"type": PROBLEM_BASE + "audit.not_found", "title": "audit.not_found", "status": 404,
                        "code": "audit.not_found", "detail": "no decision with origid 'x'", "instance": "/api"}


def test_a_code_keeps_its_name(client: TestClient) -> None:
    """An error raised below the API (the engine's SipInputError) reaches the answer with the code it was raised."""
    body = client.get("/sip").json()
    assert (body["status"], body["code"], body["title"]) == (400, "sip.bad_uri", "sip.bad_uri")


def test_extension_members_never_replace_the_standard_ones(client: TestClient) -> None:
    r = client.get("/ready")
    body = r.json()
    assert r.status_code == 503 and body["status"] == 503 and body["code"] == "node.not_ready"
    assert body["ready"] is False and body["reasons"] == ["ledger.stale"]


@pytest.mark.parametrize("kind, status, name, code", [
    ("nf", 404, "https://www.w3.org/ns/did#NOT_FOUND", "notFound"),
    ("method", 501, "https://www.w3.org/ns/did#METHOD_NOT_SUPPORTED", "methodNotSupported"),
    ("key", 400, "https://w3id.org/security#INVALID_VERIFICATION_METHOD", "invalidPublicKey"),
])
def test_did_errors_keep_their_problem_types(client: TestClient, kind: str, status: int, name: str,
                                             code: str) -> None:
    r = client.get(f"/did/{kind}")
    body = r.json()
    assert r.status_code == status and r.headers["content-type"] == PROBLEM
    assert (body["type"], body["status"], body["code"]) == (name, status, code)
    assert body["title"] and body["detail"] and body["instance"] == f"/did/{kind}"


def test_atis_exceptions_keep_their_shape(client: TestClient) -> None:
    r = client.post("/stir/SVC4005")
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert r.json() == {"requestError": {"serviceException": {
        "messageId": "SVC4005", "text": "Error: Invalid '%1' parameter value: %2.",
        "variables": ["attest", "must be A, B or C"]}}}
    r = client.post("/stir/POL4050")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and "policyException" in r.json()["requestError"]
    exc = ServiceException("SVC4005", "attest", "must be A, B or C")
    assert exc.code == "SVC4005" and exc.message == "Error: Invalid 'attest' parameter value: must be A, B or C."
    with pytest.raises(ValueError):
        ServiceException("SVC9999")


def test_a_code_without_a_status_is_a_logged_500_that_keeps_its_code(client: TestClient,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="eidln.api"):
        r = client.get("/unmapped")
    assert r.status_code == 500 and r.json()["code"] == "chain.unavailable"
    assert "chain.unavailable" in caplog.text


def test_a_defect_is_internal_error_without_a_trace(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="eidln.api"):
        r = client.get("/defect")
    assert r.status_code == 500 and r.json()["code"] == "internal.error" and "secret" not in r.text
    assert "RuntimeError" in caplog.text


def test_a_refused_parameter_is_a_400_problem(client: TestClient) -> None:
    r = client.get("/typed", params={"limit": "many"})
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "request.bad_parameter" and "limit" in r.json()["detail"]


def test_api_errors_have_a_status() -> None:
    with pytest.raises(ValueError):
        ApiError("x", code="audit.nonsense")


def test_the_request_limits_answer_with_the_same_builder() -> None:
    """BodyLimit answers before the app runs, with problem()'s body and HTTP_STATUS's status."""
    limited = TestClient(BodyLimit(_app(), limits=RequestLimits(max_body=10)))
    r = limited.post("/stir/SVC4005", content=b"x" * 11)
    status, body = problem(ApiError("the body is 11 bytes, over the 10-byte limit", code="request.too_large"),
                           "/stir/SVC4005")
    assert (r.status_code, r.json(), r.headers["content-type"]) == (status, body, PROBLEM) and status == 413


def _documented() -> dict[str, int]:
    text = DOC.read_text()
    section = text.split("## HTTP answers", 1)[1].split("\n## ", 1)[0]
    return {code: int(status) for code, status in re.findall(r"^\| `([a-z_]+\.[a-z0-9_]+)` \| (\d{3}) \|", section,
                                                                 re.M)}


def test_the_status_table_is_documented() -> None:
    assert _documented() == HTTP_STATUS


def test_every_code_of_a_request_that_is_not_a_call_has_a_status() -> None:
    """The codes POST /v1/attest can refuse a request with (the body checks and SipInputError) are all mapped."""
    raised: set[Any] = set()
    for path in (ROOT / "node" / "attest" / "sip.py", ROOT / "node" / "api" / "attest.py"):
        raised |= set(re.findall(r'code="((?:sip|attest|audit)\.[a-z_]+)"', path.read_text()))
    assert raised and raised <= set(HTTP_STATUS), raised - set(HTTP_STATUS)


def test_the_router_s_own_refusals_are_problems_too() -> None:
    """An unknown path and a wrong method get RFC 9457 bodies with codes, not FastAPI's {"detail": ...}."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from node.api.errors import PROBLEM, install

    app = FastAPI()
    install(app)

    @app.get("/only-get")
    def only_get() -> dict[str, str]:
        return {"ok": "yes"}

    with TestClient(app) as c:
        missing = c.get("/no/such/route")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
        assert missing.json()["code"] == "request.not_found" and missing.json()["instance"] == "/no/such/route"
        wrong = c.post("/only-get")
        assert wrong.status_code == 405 and wrong.json()["code"] == "request.method_not_allowed"
        assert wrong.headers["allow"] == "GET"
