"""Issue 9: verifications whose x5u host accepts the connection and never answers must not stall the node's event
loop. One real app (``create_app`` with the attestation engine and the STIR services) under uvicorn, a real x5u
server that holds every request until released; the test waits for states (requests held), never for time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from did_method.resolver import Resolver
from node.api import create_app
from node.api.metrics import Metrics
from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.sign import ShakenSigner
from node.shaken.verify import StiVerifier
from node.shaken.x5u import CertFetcher
from node.sync.didhistory import IndexHistory
from tests.node.attest.world import World, build
from tests.node.shaken.test_x5u_concurrency import WAIT, GatedServer
from tests.serving import served
from wallet.keys import P256Key

VERIFICATION = "/stir/v1/verification"
ORIG, DEST = "12155551212", "12355551212"
HELD = 3  # verifications held by the x5u server at once


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("stir-concurrency"))


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="1234", now=datetime.now(UTC))


@pytest.fixture
def x5u(pki: TestPKI) -> Iterator[GatedServer]:
    srv = GatedServer(pki.pems["sp.pem"] + pki.pems["ca.pem"])
    yield srv
    srv.close()


def node(w: World, pki: TestPKI, fetcher: CertFetcher) -> Any:
    """The node's app: resolver, ``/v1/attest`` (the attestation engine) and the STIR services, on one loop."""
    verifier = StiVerifier(roots=[pki.root_cert], fetcher=fetcher)
    signer = ShakenSigner(P256Key(pki.sp_key), "http://127.0.0.1:8444/sp.pem")
    return create_app(Resolver(IndexHistory(w.index), network="local", chain_id=1337), engine=w.engine,
                      audit=w.audit, signer=signer, verifier=verifier, metrics=Metrics())


def verification_body(pki: TestPKI, x5u_url: str) -> dict[str, Any]:
    now = int(time.time())
    identity = ShakenSigner(P256Key(pki.sp_key), x5u_url).identity(attest="A", orig=ORIG, dest=[DEST], iat=now)
    return {"verificationRequest": {"from": {"tn": ORIG}, "to": {"tn": [DEST]}, "time": now, "identity": identity}}


def attest_body(w: World) -> dict[str, Any]:
    return {"trunk": "cc-trunk", "headers": {"From": '"Acme" <sip:+12025550142@pbx.acme.example>;tag=9',
                                             "To": "<sip:+13105550000@osp.example;user=phone>",
                                             "Identity": w.call("cc", "cc")}}


def post(base: str, path: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=WAIT * 3) as c:
        return c.post(path, json=body)


def test_attest_is_answered_while_verifications_wait_on_x5u(w: World, pki: TestPKI, x5u: GatedServer) -> None:
    """Three verifications are held by an x5u server that accepted their requests; ``/v1/attest`` and
    ``/stir/v1/signing`` on the same app still answer 200 before the server is released; then the verifications
    finish with TN-Validation-Passed."""
    with CertFetcher(allow_insecure=True, timeout=WAIT * 2) as fetcher, served(node(w, pki, fetcher)) as base, \
            ThreadPoolExecutor(HELD) as pool:
        held: list[Future[httpx.Response]] = [
            pool.submit(post, base, VERIFICATION, verification_body(pki, x5u.url(f"/sp-{i}.pem")))
            for i in range(HELD)]
        try:
            assert x5u.wait_arrived(HELD), f"the x5u server saw {x5u.arrived} of {HELD} requests: the loop is blocked"
            r = post(base, "/v1/attest", attest_body(w))
            assert r.status_code == 200, r.text
            assert r.json()["attest"] in ("A", "B", "C")
            signing = {"signingRequest": {"attest": "B", "dest": {"tn": [DEST]}, "iat": int(time.time()),
                                          "orig": {"tn": ORIG}, "origid": "4437c7eb-8f0c-4b1e-a2e8-5e2c8d1a0b3f"}}
            assert post(base, "/stir/v1/signing", signing).status_code == 200
            assert not x5u.released.is_set() and not any(f.done() for f in held)
        finally:
            x5u.release()
        for future in held:
            r = future.result(timeout=WAIT)
            assert r.status_code == 200, r.text
            assert r.json()["verificationResponse"] == {"verstat": "TN-Validation-Passed", "attest": "A",
                                                        "origid": r.json()["verificationResponse"]["origid"]}
    assert x5u.requests == {f"/sp-{i}.pem": 1 for i in range(HELD)}


def test_verification_past_the_fetch_bound_answers_at_once(w: World, pki: TestPKI, x5u: GatedServer) -> None:
    """With ``max_fetches=2`` downloads held, a verification naming a third x5u URL is answered (200, 436
    No-TN-Validation, the fetcher's refusal in the description) while the two are still held, and the server
    never sees the third URL."""
    with CertFetcher(allow_insecure=True, timeout=WAIT * 2, max_fetches=2) as fetcher, \
            served(node(w, pki, fetcher)) as base, ThreadPoolExecutor(2) as pool:
        held = [pool.submit(post, base, VERIFICATION, verification_body(pki, x5u.url(f"/sp-{i}.pem")))
                for i in range(2)]
        try:
            assert x5u.wait_arrived(2)
            r = post(base, VERIFICATION, verification_body(pki, x5u.url("/third.pem")))
            assert r.status_code == 200, r.text
            got = r.json()["verificationResponse"]
            assert (got["verstat"], got["reasoncode"], got["reasontext"]) == ("No-TN-Validation", 436,
                                                                              "Bad Identity Info")
            assert "already in progress" in got["reasondesc"] and set(got) == {"verstat", "reasoncode",
                                                                               "reasontext", "reasondesc"}
            assert "/third.pem" not in x5u.requests and not any(f.done() for f in held)
        finally:
            x5u.release()
        assert [f.result(timeout=WAIT).json()["verificationResponse"]["verstat"] for f in held] == [
            "TN-Validation-Passed"] * 2
    assert fetcher.busy == 1
