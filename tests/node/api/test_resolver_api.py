"""The DIF Universal Resolver driver binding: media types, status codes, problem bodies; in-process and
through a real uvicorn server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from contracts.vocab import Role
from did_method import KeyType, self_certifying_id
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.api import create_app
from node.chain.embedded import EmbeddedChain
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net
from tests.serving import served


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("api")
    chain = EmbeddedChain(None)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    live, gone = (bytes(SigningKey.generate().verify_key) for _ in range(2))
    ids = [self_certifying_id(KeyType.ED25519, pk) for pk in (live, gone)]
    for ident, pk in zip(ids, (live, gone), strict=True):
        net.ledger.transact(tnsp, "DIDRegistry", "create", ident, "key-1", 1, pk, 3)
    net.ledger.transact(tnsp, "DIDRegistry", "deactivate", ids[1])
    Follower(chain, Store(tmp / "index.sqlite"), net.ledger.deployment).sync()
    app = create_app(Resolver(IndexHistory(tmp / "index.sqlite"), network="local", chain_id=1337))
    return {"app": app, "live": format_did("local", ids[0]), "gone": format_did("local", ids[1])}


@pytest.fixture(scope="module")
def client(world: dict[str, Any]) -> TestClient:
    return TestClient(world["app"])


def url(did: str) -> str:
    return f"/1.0/identifiers/{did}"


def test_document_media_types(client: TestClient, world: dict[str, Any]) -> None:
    for accept, ctype in [("application/json", "application/did+ld+json"),
                          ("application/did+ld+json", "application/did+ld+json"),
                          ("application/did+json", "application/did+json"), ("application/did", "application/did")]:
        r = client.get(url(world["live"]), headers={"accept": accept} if accept else {})
        assert r.status_code == 200 and r.headers["content-type"] == ctype
        assert r.json()["id"] == world["live"]


def test_resolution_result_media_types(client: TestClient, world: dict[str, Any]) -> None:
    for default in ({}, {"accept": "*/*"}):
        r = client.get(url(world["live"]), headers=default)
        assert r.headers["content-type"] == "application/did-resolution" and "didDocument" in r.json()
    r = client.get(url(world["live"]), headers={"accept": "application/did-resolution"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/did-resolution"
    body = r.json()
    assert set(body) >= {"didDocument", "didResolutionMetadata", "didDocumentMetadata"}
    assert body["didResolutionMetadata"]["contentType"] == "application/did+ld+json"
    legacy = 'application/ld+json;profile="https://w3id.org/did-resolution"'
    r = client.get(url(world["live"]), headers={"accept": legacy})
    assert r.status_code == 200 and r.json()["didDocument"]["id"] == world["live"]
    r = client.get(url(world["live"]), headers={"accept": "text/html;q=0.9, application/did-resolution;q=0.5"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/did-resolution"


def test_error_statuses(client: TestClient, world: dict[str, Any]) -> None:
    cases = [
        (url("did:eidln:local"), 400, "INVALID_DID"),
        (url("did:web:example.com"), 501, "METHOD_NOT_SUPPORTED"),
        (url(format_did("local", b"\x02" * 16)), 404, "NOT_FOUND"),
        (url(world["gone"]), 410, None),
        (url(world["live"]) + "?versionTime=not-a-time", 400, "INVALID_OPTIONS"),
    ]
    for path, status, kind in cases:
        r = client.get(path, headers={"accept": "application/did+ld+json"})
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert body["status"] == status and body["detail"] and body["type"].startswith("https://www.w3.org/ns/did#")
        if kind:
            assert body["type"].endswith("#" + kind)
    r = client.get(url(world["gone"]), headers={"accept": "application/did-resolution"})
    assert r.status_code == 410
    assert r.json()["didDocumentMetadata"]["deactivated"] is True and r.json()["didDocument"] is None
    r = client.get(url(world["live"]), headers={"accept": "text/html"})
    assert r.status_code == 406 and r.json()["type"].endswith("#REPRESENTATION_NOT_SUPPORTED")
    r = client.get(url(format_did("local", b"\x02" * 16)),
                   headers={"accept": 'application/ld+json;profile="https://w3id.org/did-resolution"'})
    assert r.status_code == 404 and r.json()["didResolutionMetadata"]["error"] == "notFound"


def test_garbage_never_500(client: TestClient) -> None:
    for junk in ["%00", "did:eidln:local:" + "1" * 500, "did:eidln:LOCAL:abc", "did:%zz", quote("did:eidln:a:b#c"),
                 "did:eidln:local:" + "z" * 22 + "?versionId=1&versionId=2"]:
        r = client.get(url(junk))
        assert 400 <= r.status_code < 500, (junk, r.status_code, r.text)


def test_openapi_served(client: TestClient) -> None:
    assert "/1.0/identifiers/{identifier}" in client.get("/openapi.json").json()["paths"]
    assert client.get("/1.0/methods").json() == ["eidln"]


@pytest.fixture
def server(world: dict[str, Any]) -> Iterator[str]:
    with served(world["app"]) as url:
        yield url


def test_real_http_server(server: str, world: dict[str, Any]) -> None:
    r = httpx.get(server + url(world["live"]), headers={"accept": "application/did-resolution"})
    assert r.status_code == 200 and r.json()["didDocument"]["id"] == world["live"]
    assert httpx.get(server + url(world["gone"]), headers={"accept": "application/did+json"}).status_code == 410
