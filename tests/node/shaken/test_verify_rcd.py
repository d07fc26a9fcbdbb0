"""The STI-VS and RFC 9795 rich call data in a SHAKEN PASSporT: ``rcd``, ``rcdi`` and ``crn`` are returned only
when the verification passed and the RCD checks held; otherwise none of them (and ``rcd_status`` says why), and
``verstat`` never changes for them. Real test PKI, real ES256 tokens: :class:`ShakenSigner` where it takes the
claims, else :func:`wallet.passport.encode` over the same canonical claims (the bytes ``sign.py`` writes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.sign import ShakenSigner
from node.shaken.verify import (
    RCD_FAILED,
    RCD_VERIFIED,
    VERSTAT_FAILED,
    VERSTAT_NONE,
    VERSTAT_PASSED,
    StiVerifier,
    Verification,
)
from node.shaken.x5u import CertFetcher
from tests.node.shaken.test_stir_vs_claims import tampered
from wallet.keys import P256Key
from wallet.passport import b64url_decode, canonical_json, decode, encode, integrity, verify_content
from wallet.passport.shaken import shaken_identity_of

NOW = int(datetime.now(UTC).timestamp())
ORIG, DEST, ORIGID = "12155550121", "12155550131", "123e4567-e89b-12d3-a456-426655440000"
X5U = "http://127.0.0.1:8444/sp.pem"  # primed: nothing is fetched
LOGO_URL = "https://brand.example/acme/logo-256.png"
LOGO = b"\x89PNG\r\n\x1a\n the vetted acme logo"
LOGO_SRI = integrity(LOGO)
RCD = {"nam": "Acme Health", "icn": LOGO_URL}
NEUSTAR = Path(__file__).resolve().parents[2] / "vectors" / "shaken" / "neustar_examples.txt"


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="123A", now=datetime.fromtimestamp(NOW, UTC))


@pytest.fixture(scope="module")
def signer(pki: TestPKI) -> ShakenSigner:
    return ShakenSigner(P256Key(pki.sp_key), X5U)


@pytest.fixture(scope="module")
def verifier(pki: TestPKI) -> StiVerifier:
    fetcher = CertFetcher(allow_insecure=True, clock=lambda: float(NOW))
    fetcher.prime(X5U, pki.pems["sp.pem"] + pki.pems["ca.pem"])
    return StiVerifier(roots=[pki.root_cert], fetcher=fetcher, clock=lambda: float(NOW))


def shaken(pki: TestPKI, **extra: Any) -> str:
    """A SHAKEN Identity header whose claims add ``extra`` (``rcd``, ``rcdi``, ``crn``), signed with the SP key over
    the canonical claims: the token ``ShakenSigner`` writes for them."""
    claims = {"attest": "A", "dest": {"tn": [DEST]}, "iat": NOW, "orig": {"tn": ORIG}, "origid": ORIGID} | extra
    jose = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
    token = encode(jose, claims, P256Key(pki.sp_key))
    assert b64url_decode(token.split(".")[1]) == canonical_json(claims)
    return shaken_identity_of(token, X5U)


def verified(v: Verification) -> None:
    assert (v.code, v.verstat, v.rcd_status, v.rcd_reason) == ("vs.passed", VERSTAT_PASSED, RCD_VERIFIED, None), v


def refused(v: Verification, reason: str) -> None:
    """Authentic caller, RCD not shown: ``verstat`` passed, no RCD anywhere in the verdict."""
    assert (v.code, v.verstat, v.rcd_status, v.rcd_reason) == ("vs.passed", VERSTAT_PASSED, RCD_FAILED, reason), v
    assert (v.rcd, v.rcdi, v.crn) == (None, None, None)
    assert v.claims is not None and not {"rcd", "rcdi", "crn"} & set(v.claims)
    assert v.attest == "A" and v.origid == ORIGID  # the TN verdict is untouched
    assert v.to_response() == {"verstat": VERSTAT_PASSED, "attest": "A", "origid": ORIGID, "rcdStatus": "failed",
                               "rcdReason": reason}


# -- returned -----------------------------------------------------------------------------------------------------


def test_vetted_logo_with_rcdi_and_crn_is_returned(pki: TestPKI, verifier: StiVerifier) -> None:
    v = verifier.verify(shaken(pki, rcd=RCD, rcdi={"/icn": LOGO_SRI}, crn="Appointment reminder"),
                        orig=ORIG, dest=[DEST], time=NOW)
    verified(v)
    assert (v.rcd, v.rcdi, v.crn) == (RCD, {"/icn": LOGO_SRI}, "Appointment reminder")
    assert v.claims is not None and v.claims["rcd"] == RCD
    assert v.to_response() == {"verstat": VERSTAT_PASSED, "attest": "A", "origid": ORIGID, "rcdStatus": "verified",
                               "rcd": RCD, "rcdi": {"/icn": LOGO_SRI}, "crn": "Appointment reminder"}
    # the display device fetches icn itself and shows it only if the bytes match the digest it was given
    assert v.rcdi is not None and verify_content(v.rcdi["/icn"], LOGO)
    assert not verify_content(v.rcdi["/icn"], LOGO + b" swapped by the logo host")


def test_name_only_rcd_from_the_real_signer(signer: ShakenSigner, verifier: StiVerifier) -> None:
    """What the attestation engine signs today: ``rcd`` with ``nam`` and no ``rcdi`` (nothing referenced)."""
    v = verifier.verify(signer.identity(attest="A", orig=ORIG, dest=[DEST], iat=NOW, origid=ORIGID,
                                        rcd={"nam": "Acme Health"}), orig=ORIG, dest=[DEST])
    verified(v)
    assert (v.rcd, v.rcdi, v.crn) == ({"nam": "Acme Health"}, None, None)
    assert v.to_response()["rcd"] == {"nam": "Acme Health"} and "rcdi" not in v.to_response()


def test_crn_alone_and_the_neustar_shaken_rcd_example(pki: TestPKI, verifier: StiVerifier) -> None:
    v = verifier.verify(shaken(pki, crn="Billing"), orig=ORIG, dest=[DEST])
    verified(v)
    assert (v.rcd, v.crn) == (None, "Billing")
    # tcs-oas.yaml line 9553: rcd with jcd, sha256 rcdi of the inline values, crn; re-signed under our test PKI
    lines = [line for line in NEUSTAR.read_text().splitlines() if line and not line.startswith("#")]
    neustar = next(c for c in (decode(line.split(";", 1)[0]).claims for line in lines)
                   if c.get("origid") == "123456-ABCD-999999")
    v = verifier.verify(shaken(pki, rcd=neustar["rcd"], rcdi=neustar["rcdi"], crn=neustar["crn"]),
                        orig=ORIG, dest=[DEST])
    verified(v)
    assert (v.rcd, v.rcdi, v.crn) == (neustar["rcd"], neustar["rcdi"], "Travel")


def test_no_rich_call_data_no_status(signer: ShakenSigner, verifier: StiVerifier) -> None:
    v = verifier.verify(signer.identity(attest="A", orig=ORIG, dest=[DEST], iat=NOW, origid=ORIGID),
                        orig=ORIG, dest=[DEST])
    assert v.passed and (v.rcd_status, v.rcd, v.rcdi, v.crn) == (None, None, None, None)
    assert v.to_response() == {"verstat": VERSTAT_PASSED, "attest": "A", "origid": ORIGID}


# -- not returned, caller still verified --------------------------------------------------------------------------


def test_icn_without_rcdi_is_not_signed(signer: ShakenSigner, verifier: StiVerifier) -> None:
    """The OSP's signer refuses rich call data our own STI-VS would refuse: an ``icn`` without its ``rcdi``."""
    from node.shaken import ShakenError

    with pytest.raises(ShakenError, match="passport.no_integrity"):
        signer.identity(attest="A", orig=ORIG, dest=[DEST], iat=NOW, origid=ORIGID, rcd=RCD)


@pytest.mark.parametrize(("extra", "reason"), [
    ({"rcd": RCD, "rcdi": {"/icn": "sha256-AAAA"}}, "passport.bad_integrity"),  # malformed integrity string
    ({"rcd": RCD, "rcdi": {"/icn": "md5-" + LOGO_SRI[7:]}}, "passport.bad_integrity"),
    ({"rcd": RCD, "rcdi": "sha256-/zgCTIi3WgpfoUiQCKb6mWdzU5gOkiuEoku7NIAl2rc="},  # the old drafts' string form
     "passport.bad_integrity"),
    ({"rcd": RCD, "rcdi": {}}, "passport.no_integrity"),
    ({"rcd": {"nam": "Acme", "jcl": "https://brand.example/acme.jcard"}}, "passport.no_integrity"),
    ({"rcd": {"nam": "Acme", "jcd": ["vcard", [["logo", {}, "uri", LOGO_URL]]]}}, "passport.no_integrity"),
    ({"rcd": RCD, "rcdi": {"/icn": LOGO_SRI, "/logo": LOGO_SRI}}, "passport.dangling_integrity"),
    ({"rcdi": {"/icn": LOGO_SRI}}, "passport.dangling_integrity"),
    ({"rcd": {"nam": "Acme Health"}, "rcdi": {"/nam": integrity(b"Acme")}}, "passport.integrity_mismatch"),
    ({"rcd": "Acme Health"}, "passport.bad_rcd"),
    ({"rcd": {"nam": "Acme", "logo": LOGO_URL}}, "passport.bad_rcd"),
    ({"rcd": {"nam": "Acme Health"}, "crn": ""}, "passport.bad_crn"),
    ({"rcd": RCD, "crn": "Billing"}, "passport.no_integrity"),  # crn is not returned beside a refused rcd
])
def test_refused_rich_call_data(pki: TestPKI, verifier: StiVerifier, extra: dict[str, Any], reason: str) -> None:
    refused(verifier.verify(shaken(pki, **extra), orig=ORIG, dest=[DEST], time=NOW), reason)


# -- nothing unverified, nothing for a verdict that did not pass --------------------------------------------------


@pytest.mark.parametrize("change", [
    {"rcd": {"nam": "Acme Bank", "icn": LOGO_URL}},  # a better-looking name
    {"rcdi": {"/icn": integrity(b"another logo")}},  # the digest of another logo
    {"crn": "Fraud alert"},
    {"rcd": {"nam": "Acme Health", "icn": "https://evil.example/logo.png"}},
])
def test_tampered_rich_call_data_fails_the_signature(pki: TestPKI, verifier: StiVerifier,
                                                     change: dict[str, Any]) -> None:
    genuine = shaken(pki, rcd=RCD, rcdi={"/icn": LOGO_SRI}, crn="Appointment reminder")
    v = verifier.verify(tampered(genuine, **change), orig=ORIG, dest=[DEST])
    assert (v.code, v.verstat) == ("vs.bad_signature", VERSTAT_FAILED)
    assert (v.claims, v.rcd, v.rcdi, v.crn, v.rcd_status, v.rcd_reason) == (None,) * 6
    assert set(v.to_response()) == {"verstat", "reasoncode", "reasontext", "reasondesc"}


def test_a_stale_token_shows_no_rich_call_data(pki: TestPKI, verifier: StiVerifier) -> None:
    """E15 is after the signature (``attest``/``origid`` are still given), but an old token's display data could
    be a replay: it is not judged, not returned, and not left in ``claims``."""
    old = shaken(pki, rcd=RCD, rcdi={"/icn": LOGO_SRI}, crn="Billing", iat=NOW - 3600)
    v = verifier.verify(old, orig=ORIG, dest=[DEST])
    assert (v.code, v.verstat, v.attest) == ("vs.stale_iat", VERSTAT_NONE, "A")
    assert (v.rcd, v.rcdi, v.crn, v.rcd_status, v.rcd_reason) == (None,) * 5
    assert v.claims is not None and not {"rcd", "rcdi", "crn"} & set(v.claims)
    assert "rcd" not in json.dumps(v.to_response())


def test_a_mismatch_before_the_signature_shows_nothing(pki: TestPKI, verifier: StiVerifier) -> None:
    v = verifier.verify(shaken(pki, rcd=RCD, rcdi={"/icn": LOGO_SRI}), orig="12155550000", dest=[DEST])
    assert (v.code, v.claims, v.rcd_status, v.rcd) == ("vs.orig_mismatch", None, None, None)
