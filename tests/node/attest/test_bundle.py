"""Traceback bundles (issue 10, item 5): a real chain, real signatures; every kind of tampering fails the right check.

The world (``world.py``) decides real calls; a second engine on the same ledger copy and audit log signs with the SP
key of a test PKI, so that its bundles carry a certificate chain to a root. Tampering comes in two kinds: bytes
changed in the file (the OSP's signature no longer verifies), and content changed and signed again with the OSP's own
key (an OSP that lies about its evidence): then the check that names the lie fails.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from did_method import KeyType, encode_public_key
from did_method.resolver import Resolver
from node.api import create_app
from node.attest import (
    AttestationEngine,
    CallRequest,
    Decision,
    IndexReaders,
    LedgerMechanism,
    build_bundle,
    bundle_bytes,
    parse_policy,
    verify_bundle,
)
from node.attest.bundle import FORMAT, BundleVerification
from node.errors import NodeError
from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.sign import ShakenSigner
from node.sync.didhistory import IndexHistory
from node.sync.indexview import IndexView
from tests.node.attest.world import POLICY, World, build
from tests.serving import served
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import b64url_encode, canonical_json, sign_call

X5U = "https://osp.test/sp-chain.pem"
_AGE = itertools.count(1)


def fresh(w: World) -> str:
    """A new call center PASSporT (a new iat each time: the same token twice is a replay, hence a B)."""
    return w.call("cc", "cc", iat=w.now - next(_AGE))


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("bundle"))


@pytest.fixture(scope="module")
def pki(w: World) -> TestPKI:
    return generate_test_pki(spc="1234", now=datetime.fromtimestamp(w.now, UTC))


@pytest.fixture(scope="module")
def engine(w: World, pki: TestPKI) -> AttestationEngine:
    """An engine on the world's ledger copy and audit log that signs with the test PKI's SP key."""
    assert w.snapshot is not None
    return AttestationEngine(policy=parse_policy(POLICY), signer=ShakenSigner(P256Key(pki.sp_key), X5U),
                             mechanisms=[LedgerMechanism(w.snapshot)], audit=w.audit, clock=lambda: w.clock[0],
                             snapshot=w.snapshot)


@pytest.fixture(scope="module")
def readers(w: World) -> IndexReaders:
    return IndexReaders(IndexView(w.index, network="local"),
                        Resolver(IndexHistory(w.index), network="local", chain_id=1337))


def decide(w: World, engine: AttestationEngine, *identities: str, orig: str = "12025550142",
           trunk: str = "cc-trunk") -> Decision:
    return engine.attest(CallRequest(trunk, orig, ("13105550000",), identities))


def export(w: World, engine: AttestationEngine, readers: IndexReaders, decision: Decision,
           certificates: Any = ()) -> bytes:
    assert w.audit is not None
    rec = w.audit.by_origid(decision.origid)
    assert rec is not None
    return bundle_bytes(build_bundle(rec, credentials=readers.credential, resolve_at=readers.resolve_at,
                                     signer=engine.signer, certificates=certificates, network="local",
                                     chain_id=1337, now=w.now))


@pytest.fixture(scope="module")
def a_raw(w: World, engine: AttestationEngine, readers: IndexReaders, pki: TestPKI) -> bytes:
    """The bundle of an A: the call center signs on a delegation from the vetted enterprise's grant."""
    d = decide(w, engine, "not a passport", fresh(w))
    assert d.attest == "A" and d.mechanism == "ledger"
    return export(w, engine, readers, d, [pki.sp_cert, pki.ca_cert])


def failed(result: BundleVerification) -> set[str]:
    return {c.code for c in result.failures}


def resign(raw: bytes, key: P256Key, change: Callable[[dict[str, Any]], None], header: dict[str, Any] | None = None
           ) -> bytes:
    """``raw`` with its content changed by ``change`` and signed again with ``key`` (the header as it was, or
    ``header``): the OSP itself vouches for the lie, so the bundle signature holds."""
    bundle = json.loads(raw)
    change(bundle["content"])
    head = bundle["signature"].split(".")[0] if header is None else b64url_encode(canonical_json(header))
    sig = key.sign(f"{head}.{b64url_encode(canonical_json(bundle['content']))}".encode())
    bundle["signature"] = f"{head}..{b64url_encode(sig)}"
    return bundle_bytes(bundle)


# ------------------------------------------------------------------------------------------------ what verifies


def test_an_a_bundle_verifies_offline_to_the_root(a_raw: bytes, pki: TestPKI) -> None:
    result = verify_bundle(a_raw, roots=[pki.root_cert])
    assert result.ok, [c for c in result.checks if not c.ok]
    assert result.attest == "A"
    codes = [c.code for c in result.checks]
    assert codes[:6] == ["bundle.format", "bundle.signature", "bundle.certificate", "bundle.shaken_signature",
                         "bundle.shaken_claims", "bundle.evidence"]
    assert codes.count("bundle.credential_proof") == 4  # delegation, grant, the two vetting credentials
    for code in ("bundle.ppt_token", "bundle.ppt_key", "bundle.ppt_signature", "bundle.ppt_claims",
                 "bundle.chain_keys", "bundle.chain_links", "bundle.chain_ranges", "bundle.chain_parties",
                 "bundle.chain_validity", "bundle.vetting", "bundle.ledger"):
        assert code in codes
    assert all(c.status == "ok" for c in result.checks)
    assert "SHAKEN 1234" in next(c.detail for c in result.checks if c.code == "bundle.signature")


def test_what_an_a_bundle_holds(a_raw: bytes, w: World, pki: TestPKI) -> None:
    bundle = json.loads(a_raw)
    c = bundle["content"]
    ev = c["decision"]["evidence"]
    assert c["format"] == FORMAT and c["ledger"] == {"network": "local", "chainId": 1337,
                                                    "position": c["decision"]["ledger_position"]}
    assert [e["key"] for e in c["chain"]] == ev["chain"]
    assert {e["credential"]["id"] for e in c["vetting"]} == set(ev["vetted"].values())
    assert c["decision"]["identities"][1].endswith(f";info=<{w.kid('cc')}>;alg=EdDSA;ppt=eidln")
    signer_did = w.kid("cc").split("#")[0]
    iat = json.loads(base64.urlsafe_b64decode(c["decision"]["identities"][1].split(".")[1] + "=="))["iat"]
    assert any(d["did"] == signer_did and d["versionTime"] == iat for d in c["didDocuments"])
    header = json.loads(base64.urlsafe_b64decode(bundle["signature"].split(".")[0] + "=="))
    assert header["alg"] == "ES256" and len(header["x5c"]) == 2 and "jwk" not in header
    assert bundle["signature"].split(".")[1] == ""  # detached: the content is in the clear
    assert a_raw == bundle_bytes(bundle) and a_raw.endswith(b"}\n")


def test_the_file_form_is_pinned() -> None:
    """Golden bytes: sorted members, one-space indent, non-ASCII kept, a final newline."""
    assert bundle_bytes({"signature": "h..s", "content": {"b": [1, 2.5], "a": "é"}}) == (
        '{\n "content": {\n  "a": "é",\n  "b": [\n   1,\n   2.5\n  ]\n },\n "signature": "h..s"\n}\n'.encode())


def test_a_bare_key_bundle_verifies_but_cannot_be_judged_against_roots(w: World, readers: IndexReaders,
                                                                       pki: TestPKI) -> None:
    assert w.engine is not None
    raw = export(w, w.engine, readers, decide(w, w.engine, fresh(w)))
    assert "jwk" in json.loads(base64.urlsafe_b64decode(json.loads(raw)["signature"].split(".")[0] + "=="))
    result = verify_bundle(raw)
    assert result.ok and next(c for c in result.checks if c.code == "bundle.certificate").status == "skipped"
    assert failed(verify_bundle(raw, roots=[pki.root_cert])) == {"bundle.certificate"}


def test_a_b_bundle_proves_the_token_and_the_reasons(w: World, engine: AttestationEngine, readers: IndexReaders,
                                                     pki: TestPKI) -> None:
    d = decide(w, engine, w.call("unvetted", "unvetted", orig="12025550301"), orig="12025550301")
    assert d.attest == "B" and d.reasons[0].code == "enterprise.unvetted"
    raw = export(w, engine, readers, d, [pki.sp_cert, pki.ca_cert])
    result = verify_bundle(raw, roots=[pki.root_cert])
    assert result.ok and result.attest == "B"
    assert [c.code for c in result.checks] == ["bundle.format", "bundle.signature", "bundle.certificate",
                                               "bundle.shaken_signature", "bundle.shaken_claims", "bundle.evidence",
                                               "bundle.ledger"]
    assert "enterprise.unvetted" in result.checks[5].detail
    c = json.loads(raw)["content"]
    assert c["chain"] == c["vetting"] == c["didDocuments"] == []
    # the OSP cannot turn it into an A afterwards: its own SHAKEN PASSporT says B
    forged = resign(raw, P256Key(pki.sp_key), lambda c: c["decision"].update(attest="A", mechanism="osp-numbers"))
    assert failed(verify_bundle(forged)) == {"bundle.shaken_claims"}


def test_a_forged_token_before_the_real_one(w: World, engine: AttestationEngine, readers: IndexReaders) -> None:
    """A call may carry a token that names the same signer and credential but is not signed by its key: the engine
    refuses it and proves the next one; the bundle keeps both and proves with the one that verifies."""
    iat = w.now - next(_AGE)
    forged = sign_call(Ed25519Key.generate(), kid=w.kid("cc"), orig="12025550142", dest=["13105550000"], iat=iat - 1,
                       credential_id=w.cid("cc"))
    d = decide(w, engine, forged, w.call("cc", "cc", iat=iat))
    assert d.attest == "A" and d.reasons[0].code == "ppt.bad_signature"
    result = verify_bundle(export(w, engine, readers, d))
    assert result.ok, result.failures
    assert str(iat) in next(c.detail for c in result.checks if c.code == "bundle.ppt_token")


def test_an_a_on_the_osps_own_numbers(w: World, engine: AttestationEngine, readers: IndexReaders) -> None:
    d = decide(w, engine, orig="12025559001")
    assert (d.attest, d.mechanism) == ("A", "osp-numbers")
    result = verify_bundle(export(w, engine, readers, d))
    assert result.ok and "OSP's own numbers" in next(c.detail for c in result.checks if c.code == "bundle.evidence")


# ------------------------------------------------------------------------------------------------ bytes changed


def _at(raw: bytes, marker: bytes, offset: int) -> int:
    return raw.index(marker) + len(marker) + offset


def _flip(raw: bytes, pos: int, to: bytes | None = None) -> bytes:
    b = bytearray(raw)
    b[pos] = to[0] if to is not None else b[pos] ^ 0x01
    return bytes(b)


@pytest.mark.parametrize(("what", "marker", "offset", "also"), [
    ("the OSP's signature", b'"signature": "', None, set()),
    ("a credential's proof", b'"proofValue": "z', 10, {"bundle.credential_proof"}),
    ("the decision's attest", b'"attest": "', 0, {"bundle.shaken_claims"}),
    ("a DID document's key", b'"publicKeyMultibase": "z', 12, None),
    ("a chain key", b'"key": "0x', 5, {"bundle.chain_keys", "bundle.chain_parties"}),
])
def test_one_byte_changed_fails(a_raw: bytes, what: str, marker: bytes, offset: int | None,
                                also: set[str] | None) -> None:
    if offset is None:  # in the middle of the JWS signature segment
        start = _at(a_raw, marker, 0)
        offset = a_raw.index(b'"', start) - start - 20
    pos = _at(a_raw, marker, offset)
    to = b"B" if what == "the decision's attest" else b"0" if a_raw[pos:pos + 1] != b"0" else b"1"
    result = verify_bundle(_flip(a_raw, pos, to))
    assert not result.ok, what
    assert "bundle.signature" in failed(result), (what, result.failures)
    if also is not None:
        assert also <= failed(result), (what, result.failures)
    else:  # a key of the signer or of an issuer: whichever signature it checks fails
        assert failed(result) & {"bundle.ppt_key", "bundle.ppt_signature", "bundle.credential_proof"}, result.failures


def test_any_byte_changed_fails(a_raw: bytes) -> None:
    """Bytes all over the file (every 37th, and the last ones): the file form, the JSON or the signature breaks."""
    for pos in [*range(0, len(a_raw), 37), len(a_raw) - 2, len(a_raw) - 1]:
        result = verify_bundle(_flip(a_raw, pos))
        assert not result.ok and failed(result) & {"bundle.format", "bundle.signature"}, pos


def test_whitespace_and_order_are_part_of_the_file(a_raw: bytes) -> None:
    bundle = json.loads(a_raw)
    for other in (json.dumps(bundle).encode(), json.dumps(bundle, indent=1).encode(), a_raw[:-1], a_raw + b"\n",
                  a_raw.replace(b'"content": {', b'"content":  {', 1)):
        result = verify_bundle(other)
        assert failed(result) == {"bundle.format"}, result.failures  # the content is intact; the file is not
    assert verify_bundle(bundle).ok  # parsed already: only the content is judged


# ------------------------------------------------------------------------------------------------ the OSP lies


def _swap_token(w: World, token: str) -> Callable[[dict[str, Any]], None]:
    def change(c: dict[str, Any]) -> None:
        c["decision"]["identities"] = [token]
    return change


def _cases(w: World) -> list[tuple[str, Callable[[dict[str, Any]], None], str]]:
    other_key = encode_public_key(KeyType.ED25519, Ed25519Key.generate().public_key)

    def signer_doc(c: dict[str, Any]) -> dict[str, Any]:
        return next(d for d in c["didDocuments"] if d["did"] == w.kid("cc").split("#")[0])

    def widen(c: dict[str, Any]) -> None:
        c["chain"][0]["credential"]["credentialSubject"]["tnAuthList"] = [
            {"tnRange": {"start": "12025550100", "count": 100}}]

    return [
        ("a chain credential removed", lambda c: c["chain"].pop(), "bundle.chain_keys"),
        ("the leaf removed", lambda c: c["chain"].pop(0), "bundle.ppt_claims"),
        ("a vetting credential removed", lambda c: c["vetting"].pop(), "bundle.vetting"),
        ("the token swapped for another signer's",
         _swap_token(w, w.call("rotating", "rotating", orig="12025550172")), "bundle.ppt_token"),
        ("the token swapped for one to another number", _swap_token(w, w.call("cc", "cc", dest="13105559999")),
         "bundle.ppt_claims"),
        ("the signer's key replaced", lambda c: signer_doc(c)["didDocument"]["verificationMethod"][0].update(
            publicKeyMultibase=other_key), "bundle.ppt_signature"),
        ("the signer's DID document left out",
         lambda c: c["didDocuments"].remove(signer_doc(c)), "bundle.ppt_key"),
        ("a credential widened", widen, "bundle.credential_proof"),
        ("the decision's number changed", lambda c: c["decision"].update(orig="12025550143"),
         "bundle.shaken_claims"),
        ("a link's role changed", lambda c: c["decision"]["evidence"]["links"][0].update(role="enterprise"),
         "bundle.chain_parties"),
        ("the enterprise of record changed", lambda c: c["decision"]["evidence"].update(
            enterprise=c["decision"]["evidence"]["links"][0]["subject"]), "bundle.chain_parties"),
        ("a credential anchored after the decision", lambda c: c["chain"][1].update(anchoredBlock=10 ** 9),
         "bundle.ledger"),
        ("the decision after the credential expired", lambda c: c["decision"].update(decided_at=4102444800.0),
         "bundle.chain_validity"),
        ("another network", lambda c: c["ledger"].update(network="other"), "bundle.ledger"),
    ]


def test_an_osp_that_lies_fails_the_check_that_names_the_lie(a_raw: bytes, w: World, pki: TestPKI) -> None:
    key = P256Key(pki.sp_key)
    for what, change, code in _cases(w):
        result = verify_bundle(resign(a_raw, key, change), roots=[pki.root_cert])
        assert "bundle.signature" not in failed(result), what  # the OSP signed it: only the content can betray it
        assert code in failed(result), (what, result.failures)


def test_a_different_osp_key(a_raw: bytes, pki: TestPKI, w: World) -> None:
    other = P256Key.generate()
    bare = resign(a_raw, other, lambda c: None, {"alg": "ES256", "typ": "eidln-audit-bundle+jws",
                                                 "jwk": json.loads(json.dumps(_jwk(other)))})
    assert failed(verify_bundle(bare)) == {"bundle.shaken_signature"}  # not the key that signed the call
    assert failed(verify_bundle(bare, roots=[pki.root_cert])) == {"bundle.shaken_signature", "bundle.certificate"}
    rogue = generate_test_pki(spc="6666", now=datetime.fromtimestamp(w.now, UTC))  # another PKI's SP certificate
    chained = resign(a_raw, P256Key(rogue.sp_key), lambda c: None, {
        "alg": "ES256", "typ": "eidln-audit-bundle+jws",
        "x5c": [base64.b64encode(c.public_bytes(_der())).decode() for c in (rogue.sp_cert, rogue.ca_cert)]})
    assert failed(verify_bundle(chained, roots=[pki.root_cert])) == {"bundle.shaken_signature", "bundle.certificate"}
    assert verify_bundle(chained, roots=[rogue.root_cert]).failures[0].code == "bundle.shaken_signature"


def _jwk(key: P256Key) -> dict[str, str]:
    from did_method import to_jwk

    return to_jwk(KeyType.P256, key.public_key)


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


# ------------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("raw", [
    b"", b"{", b"[]", b"null", b"\xff\xfe", b'{"content": {}, "signature": "x"}', b'{"content": 1, "signature": 2}',
    b"[" * 100_000, b'{"content": {"a": 1, "a": 2}, "signature": ""}', b" " * (5 << 20),
    '{"content": "\ud800", "signature": ""}',
])
def test_bad_input_is_a_failed_check_not_an_exception(raw: bytes | str, py_ecc_recursion_limit: None) -> None:
    result = verify_bundle(raw)
    assert not result.ok and result.checks[0].code == "bundle.format" and len(result.checks) == 1


def test_wrong_types_inside_a_well_formed_file(a_raw: bytes, pki: TestPKI) -> None:
    for cut in (1, len(a_raw) // 2, len(a_raw) - 3):  # a truncated download
        assert [c.code for c in verify_bundle(a_raw[:cut]).checks] == ["bundle.format"]
    key = P256Key(pki.sp_key)
    for change in (lambda c: c["decision"].update(dest="13105550000"), lambda c: c["chain"].append([]),
                   lambda c: c["didDocuments"][0].update(versionTime="yesterday"),
                   lambda c: c["decision"].update(identities=[1]), lambda c: c.update(format="v0")):
        assert failed(verify_bundle(resign(a_raw, key, change))) == {"bundle.format"}
    hostile = [lambda c: c["decision"].update(evidence={"signer": 1}),
               lambda c: c["decision"]["evidence"].update(chain="0x00"),
               lambda c: c["chain"][0].update(credential={"proof": [1, 2]}),
               lambda c: c["didDocuments"][0].update(didDocument={"id": []}),
               lambda c: c["decision"].update(identity="not a header"),
               lambda c: c["decision"]["evidence"].update(vetted={"did:x": 7}),
               lambda c: c["decision"]["evidence"]["links"].append("x")]
    for change in hostile:  # every one is a failed check with a sentence, none an exception
        result = verify_bundle(resign(a_raw, key, change))
        assert not result.ok and "bundle.signature" not in failed(result)
    with pytest.raises(TypeError):
        verify_bundle(123)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        verify_bundle(a_raw, roots=["root.pem"])  # type: ignore[list-item]


def test_a_bundle_that_cannot_be_built(w: World, engine: AttestationEngine, readers: IndexReaders,
                                       pki: TestPKI) -> None:
    assert w.audit is not None
    rec = w.audit.by_origid(decide(w, engine, fresh(w)).origid)
    assert rec is not None
    kw: dict[str, Any] = {"signer": engine.signer, "network": "local", "chain_id": 1337, "now": w.now}
    with pytest.raises(NodeError) as e:
        build_bundle(rec, credentials=lambda _key: None, resolve_at=readers.resolve_at, **kw)
    assert e.value.code == "audit.bundle_incomplete" and "not in the node's index" in e.value.message
    with pytest.raises(NodeError) as e:
        build_bundle(rec, credentials=readers.credential, resolve_at=lambda _did, _at: None, **kw)
    assert e.value.code == "audit.bundle_incomplete"
    with pytest.raises(NodeError) as e:  # a row written before the enterprise tokens were kept
        build_bundle({**rec, "identities": None}, credentials=readers.credential, resolve_at=readers.resolve_at, **kw)
    assert "enterprise PASSporT" in e.value.message
    with pytest.raises(ValueError):  # a chain that does not certify the signing key is misuse
        build_bundle(rec, credentials=readers.credential, resolve_at=readers.resolve_at, certificates=[pki.ca_cert],
                     **kw)


# ------------------------------------------------------------------------------------------------ HTTP


@pytest.fixture(scope="module")
def app(w: World, engine: AttestationEngine) -> Any:
    resolver = Resolver(IndexHistory(w.index), network="local", chain_id=1337)
    return create_app(resolver, IndexView(w.index, network="local"), engine=engine, audit=w.audit)


@pytest.fixture(scope="module")
def server(app: Any) -> Iterator[str]:
    with served(app) as url:
        yield url


def _call(w: World) -> dict[str, Any]:
    return {"trunk": "cc-trunk", "headers": {"From": "<sip:+12025550142@pbx.acme.example>",
                                             "To": "<sip:+13105550000@osp.example>", "Identity": fresh(w)}}


def test_the_bundle_route(app: Any, w: World) -> None:
    client = TestClient(app)
    d = client.post("/v1/attest", json=_call(w)).json()
    assert d["attest"] == "A"
    r = client.get(f"/v1/audit/{d['origid']}/bundle")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-disposition"] == f'attachment; filename="audit-{d["origid"]}.json"'
    result = verify_bundle(r.content)
    assert result.ok and result.origid == d["origid"]
    missing = client.get("/v1/audit/no-such-origid/bundle")
    assert missing.status_code == 404 and missing.json()["code"] == "audit.not_found"
    assert missing.headers["content-type"] == "application/problem+json"
    assert "/v1/audit/{origid}/bundle" in client.get("/openapi.json").json()["paths"]


def test_the_bundle_route_without_an_index_or_an_audit_log(w: World, engine: AttestationEngine) -> None:
    resolver = Resolver(IndexHistory(w.index), network="local", chain_id=1337)
    for app in (create_app(resolver, engine=engine, audit=w.audit),
                create_app(resolver, IndexView(w.index, network="local"), engine=engine)):
        r = TestClient(app).get("/v1/audit/x/bundle")
        assert r.status_code == 404 and r.json()["code"] == "audit.disabled"


def test_the_bundle_route_through_uvicorn(server: str, w: World) -> None:
    with httpx.Client(base_url=server, timeout=10) as c:
        d = c.post("/v1/attest", json=_call(w)).json()
        raw = c.get(f"/v1/audit/{d['origid']}/bundle").content
    result = verify_bundle(raw)
    assert result.ok and result.attest == "A", result.failures
    assert failed(verify_bundle(_flip(raw, len(raw) // 2))) & {"bundle.format", "bundle.signature"}


def test_an_incomplete_bundle_is_a_409(w: World, engine: AttestationEngine, tmp_path: Path) -> None:
    d = decide(w, engine, fresh(w))
    assert d.attest == "A"
    empty = tmp_path / "empty.sqlite"  # an index without the credentials (a node re-created from scratch)
    import sqlite3

    with sqlite3.connect(empty) as db:
        db.execute("CREATE TABLE credentials (id BLOB, credential BLOB, anchored_block INT, anchored_at INT)")
        db.execute("CREATE TABLE events (block INT, log_index INT)")
    resolver = Resolver(IndexHistory(w.index), network="local", chain_id=1337)
    r = TestClient(create_app(resolver, IndexView(empty, network="local"), engine=engine, audit=w.audit)).get(
        f"/v1/audit/{d.origid}/bundle")
    assert r.status_code == 409 and r.json()["code"] == "audit.bundle_incomplete"
