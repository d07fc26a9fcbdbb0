"""The OSP's SHAKEN signer: canonical bytes (RFC 8225 §9) for any accepted input, the RFC 8588 shape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_method import KeyType
from node.shaken import ShakenError, ShakenSigner
from wallet.keys import P256Key
from wallet.passport import PassportError, b64url_decode, canonical_json, decode, shaken_identity, verify_signature

KEY = P256Key.generate()
SIGNER = ShakenSigner(KEY, "https://cert.example.org/passport.cer")
TN = st.text(alphabet="0123456789*#", min_size=1, max_size=15)


@given(st.sampled_from("ABC"), TN, st.lists(TN, min_size=1, max_size=4), st.integers(1, 2**40),
       st.text(alphabet=[chr(c) for c in range(0x21, 0x7F)], min_size=1, max_size=60))
def test_payload_is_canonical_json(attest: str, orig: str, dest: list[str], iat: int, origid: str) -> None:
    token = SIGNER.passport(attest=attest, orig=orig, dest=dest, iat=iat, origid=origid)
    p = decode(token)
    claims = {"attest": attest, "dest": {"tn": dest}, "iat": iat, "orig": {"tn": orig}, "origid": origid}
    assert p.claims == claims
    assert b64url_decode(token.split(".")[1]) == canonical_json(claims)
    assert verify_signature(p, KeyType.P256, KEY.public_key)


def test_rfc8588_example_bytes() -> None:
    token = SIGNER.passport(attest="A", orig="12155550121", dest=["12155550131"], iat=1443208345,
                            origid="123e4567-e89b-12d3-a456-426655440000")
    h, c, _ = token.split(".")
    assert b64url_decode(h) == (b'{"alg":"ES256","ppt":"shaken","typ":"passport",'
                                b'"x5u":"https://cert.example.org/passport.cer"}')
    assert b64url_decode(c) == (b'{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,'
                                b'"orig":{"tn":"12155550121"},"origid":"123e4567-e89b-12d3-a456-426655440000"}')
    assert SIGNER.identity(attest="A", orig="+1 215 555 0121", dest=["12155550131"], iat=1, origid="x").endswith(
        ";info=<https://cert.example.org/passport.cer>;alg=ES256;ppt=shaken")


@pytest.mark.parametrize("kw", [{"attest": "D"}, {"orig": "alice"}, {"dest": []}, {"dest": "12155550131"},
                                {"iat": 0}, {"iat": True}, {"origid": ""}, {"origid": "é"}, {"origid": "a b"}])
def test_bad_requests(kw: dict[str, object]) -> None:
    args: dict[str, object] = {"attest": "A", "orig": "12155550121", "dest": ["12155550131"], "iat": 1,
                               "origid": "x", **kw}
    with pytest.raises(ShakenError) as info:
        SIGNER.passport(**args)  # type: ignore[arg-type]
    assert info.value.code == "shaken.bad_request"
    with pytest.raises(ShakenError):
        ShakenSigner(KEY, "ftp://x")


def test_rcd_rides_in_the_shaken_passport() -> None:
    rcd = {"nam": "Acme Health — Billing", "apn": "12025550100"}
    token = SIGNER.passport(attest="A", orig="12155550121", dest=["12155550131"], iat=7, origid="o", rcd=rcd)
    claims = {"attest": "A", "dest": {"tn": ["12155550131"]}, "iat": 7, "orig": {"tn": "12155550121"},
              "origid": "o", "rcd": rcd}
    assert b64url_decode(token.split(".")[1]) == canonical_json(claims)
    for bad in ({}, {"nam": 1}, {"nam": "x", "n": float("nan")}):
        with pytest.raises(ShakenError):
            SIGNER.passport(attest="A", orig="1", dest=["2"], iat=7, rcd=bad)


@given(st.sampled_from("ABC"), TN, st.lists(TN, min_size=1, max_size=3),
       st.text(min_size=1, max_size=30), st.one_of(st.none(), st.text(min_size=1, max_size=30)),
       st.booleans())
def test_rcd_rcdi_and_crn_are_canonical(attest: str, orig: str, dest: list[str], nam: str, crn: str | None,
                                        logo: bool) -> None:
    rcd: dict[str, object] = {"nam": nam, **({"icn": "https://brand.example/logo.png"} if logo else {})}
    rcdi = {"/icn": "sha256-" + "A" * 43 + "="} if logo else None
    token = SIGNER.passport(attest=attest, orig=orig, dest=dest, iat=7, origid="o", rcd=rcd, rcdi=rcdi, crn=crn)
    claims: dict[str, object] = {"attest": attest, "dest": {"tn": dest}, "iat": 7, "orig": {"tn": orig},
                                 "origid": "o", "rcd": rcd}
    if rcdi:
        claims["rcdi"] = rcdi
    if crn is not None:
        claims["crn"] = crn
    assert b64url_decode(token.split(".")[1]) == canonical_json(claims)


def test_rcdi_needs_rcd_and_crn_must_be_text() -> None:
    for kw in ({"rcdi": {"/icn": "sha256-x"}}, {"crn": ""}, {"crn": 5}):
        with pytest.raises(ShakenError):
            SIGNER.passport(attest="A", orig="1", dest=["2"], iat=7, **kw)  # type: ignore[arg-type]


def test_the_service_error_keeps_the_passport_code_as_its_cause() -> None:
    """The STI-AS has one error, shaken.bad_request; the SHAKEN PASSporT module's code stays readable as the cause."""
    with pytest.raises(ShakenError) as info:
        SIGNER.passport(attest="A", orig="1", dest=["2"], iat=7, rcdi={"/icn": "sha256-x"})
    cause = info.value.__cause__
    assert info.value.code == "shaken.bad_request" and isinstance(cause, PassportError)
    assert cause.code == "passport.dangling_integrity" and info.value.message == cause.message


def test_the_signer_uses_the_shaken_passport_module() -> None:
    """Same key, same inputs: the signer's bytes are wallet.passport.shaken's (one home for the format)."""
    args = {"attest": "B", "orig": "12155550121", "dest": ["12155550131"], "iat": 9, "origid": "o"}
    ours = SIGNER.identity(**args)  # type: ignore[arg-type]
    theirs = shaken_identity(KEY, x5u=SIGNER.x5u, **args)  # type: ignore[arg-type]
    assert ours.split(".")[:2] == theirs.split(".")[:2] and ours.split(";")[1:] == theirs.split(";")[1:]
