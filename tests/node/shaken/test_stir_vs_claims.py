"""The STI-VS echoes only verified claims (issue 9): a verdict carries ``attest``, ``origid`` and ``claims`` only
when the PASSporT's signature verified with a certificate that passed E17. Real test PKI, real ES256 tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.sign import ShakenSigner
from node.shaken.verify import VERSTAT_FAILED, VERSTAT_NONE, VERSTAT_PASSED, StiVerifier, Verification
from node.shaken.x5u import CertFetcher
from wallet.keys import P256Key
from wallet.passport import b64url_decode, b64url_encode, canonical_json, encode

NOW = int(datetime.now(UTC).timestamp())
ORIG, DEST, ORIGID = "12155550121", "12155550131", "123e4567-e89b-12d3-a456-426655440000"
X5U = "http://127.0.0.1:8444/sp.pem"  # primed: nothing is fetched
REASON_ONLY = {"verstat", "reasoncode", "reasontext", "reasondesc"}


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="123A", now=datetime.fromtimestamp(NOW, UTC))


@pytest.fixture(scope="module")
def signer(pki: TestPKI) -> ShakenSigner:
    return ShakenSigner(P256Key(pki.sp_key), X5U)


def verifier(pki: TestPKI, roots: TestPKI | None = None) -> StiVerifier:
    fetcher = CertFetcher(allow_insecure=True, clock=lambda: float(NOW))
    fetcher.prime(X5U, pki.pems["sp.pem"] + pki.pems["ca.pem"])
    return StiVerifier(roots=[(roots or pki).root_cert], fetcher=fetcher, clock=lambda: float(NOW))


def identity(signer: ShakenSigner, **over: Any) -> str:
    args: dict[str, Any] = {"attest": "C", "orig": ORIG, "dest": [DEST], "iat": NOW, "origid": ORIGID}
    return signer.identity(**(args | over))


def tampered(identity_: str, **claims: Any) -> str:
    """The same header and signature over a payload with ``claims`` changed."""
    jws, params = identity_.split(";", 1)
    head, payload, sig = jws.split(".")
    changed = json.loads(b64url_decode(payload)) | claims
    return f"{head}.{b64url_encode(canonical_json(changed))}.{sig};{params}"


def unechoed(v: Verification) -> None:
    assert (v.attest, v.origid, v.claims) == (None, None, None), v
    assert set(v.to_response()) == REASON_ONLY


def test_passed_carries_the_claims(pki: TestPKI, signer: ShakenSigner) -> None:
    v = verifier(pki).verify(identity(signer), orig=ORIG, dest=[DEST])
    assert v.verstat == VERSTAT_PASSED and (v.attest, v.origid) == ("C", ORIGID) and v.claims is not None
    assert v.to_response() == {"verstat": VERSTAT_PASSED, "attest": "C", "origid": ORIGID}


def test_tampered_attest_fails_without_echo(pki: TestPKI, signer: ShakenSigner) -> None:
    """The report: C changed to A is E18 (TN-Validation-Failed) and the forged A is not in the verdict."""
    v = verifier(pki).verify(tampered(identity(signer), attest="A"), orig=ORIG, dest=[DEST])
    assert (v.code, v.verstat) == ("vs.bad_signature", VERSTAT_FAILED)
    unechoed(v)


@pytest.mark.parametrize(("orig", "dest", "code"), [
    ("12155550000", DEST, "vs.orig_mismatch"),  # E16 is judged before the signature
    (ORIG, "12155550000", "vs.dest_mismatch"),
])
def test_mismatch_before_the_signature_echoes_nothing(pki: TestPKI, signer: ShakenSigner, orig: str, dest: str,
                                                      code: str) -> None:
    v = verifier(pki).verify(identity(signer), orig=orig, dest=[dest])
    assert (v.code, v.verstat) == (code, VERSTAT_NONE)
    unechoed(v)


def test_untrusted_certificate_echoes_nothing(pki: TestPKI, signer: ShakenSigner) -> None:
    other = generate_test_pki(spc="999Z", now=datetime.fromtimestamp(NOW, UTC))
    v = verifier(pki, roots=other).verify(identity(signer), orig=ORIG, dest=[DEST])
    assert (v.code, v.verstat) == ("vs.cert_untrusted", VERSTAT_FAILED)
    unechoed(v)


def test_stale_but_signed_keeps_what_was_signed(pki: TestPKI, signer: ShakenSigner) -> None:
    """E15 comes after the signature: the claims are authentic, only old."""
    v = verifier(pki).verify(identity(signer, iat=NOW - 3600), orig=ORIG, dest=[DEST])
    assert v.code == "vs.stale_iat" and (v.attest, v.origid) == ("C", ORIGID)


def test_signed_bad_attest_gives_origid_not_attest(pki: TestPKI) -> None:
    """E19: signed, but ``attest`` is no attestation level, so it is not reported as one."""
    claims = {"attest": "D", "dest": {"tn": [DEST]}, "iat": NOW, "orig": {"tn": ORIG}, "origid": ORIGID}
    jose = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
    token = encode(jose, claims, P256Key(pki.sp_key))
    v = verifier(pki).verify(f"{token};info=<{X5U}>;alg=ES256;ppt=shaken", orig=ORIG, dest=[DEST])
    assert v.code == "vs.bad_attest" and v.attest is None and v.origid == ORIGID
    assert "attest" not in v.to_response()


@pytest.mark.parametrize("claim", [{"orig": {"tn": "<b>call me</b>"}}, {"dest": {"tn": ["<b>call me</b>"]}}])
def test_a_bad_claim_is_named_not_quoted(pki: TestPKI, signer: ShakenSigner, claim: dict[str, Any]) -> None:
    """E14: the description says which claim is bad without repeating the token's text."""
    v = verifier(pki).verify(tampered(identity(signer), **claim), orig=None, dest=None)
    assert v.code == "vs.bad_payload" and "call me" not in str(v.to_response())
    assert next(iter(claim)) in str(v.reasondesc)
    unechoed(v)
