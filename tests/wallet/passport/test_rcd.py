"""RFC 9795 rich call data: integrity strings, the rcdi claim a signer builds, the checks a verifier runs, on the
Neustar/TransUnion examples (third-party digests) and on garbage."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_method.syntax import format_did
from wallet.keys import Ed25519Key
from wallet.passport import (
    CODES,
    INTEGRITY_ALGORITHMS,
    PassportError,
    RcdCheck,
    check_integrity,
    check_rcd,
    check_rcd_shape,
    decode,
    enterprise_passport,
    integrity,
    parse_call,
    rcdi_for,
    sign_call,
    url_references,
    verify_content,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "shaken"
LOGO_URL = "https://brand.example/acme/logo-256.png"
LOGO = b"\x89PNG\r\n\x1a\n acme logo bytes"
LOGO_SRI = "sha256-" + base64.b64encode(hashlib.sha256(LOGO).digest()).decode()
JCARD = ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", "Acme Health"],
                   ["logo", {"mediatype": "image/png"}, "uri", "https://brand.example/acme/logo.png"],
                   ["tel", {"type": ["work"]}, "uri", "tel:+12025550100"]]]


def neustar_claims() -> dict[str, dict[str, Any]]:
    """The claims of the Neustar/TransUnion TCS OpenAPI tokens with an ``rcd`` claim, by their ``tcs-oas.yaml``
    line (tests/vectors/shaken/README.md: verbatim, parse-only; their digests were recomputed in the research notes
    §4.4)."""
    out, where = {}, ""
    for line in (VECTORS / "neustar_examples.txt").read_text().splitlines():
        if line.startswith("# tcs-oas.yaml line") or line.startswith("# 3gpp-oas.yaml line"):
            where = line[2:]
        elif line and not line.startswith("#"):
            claims = decode(line.split(";", 1)[0]).claims
            if "rcd" in claims:
                out[where] = claims
    return out


NEUSTAR = neustar_claims()


def codes(check: RcdCheck) -> list[str]:
    assert all(p.code in CODES for p in check.problems), check
    return [p.code for p in check.problems]


def refused(code: str, fn: Any, *args: Any) -> PassportError:
    with pytest.raises(PassportError) as info:
        fn(*args)
    assert info.value.code == code, info.value
    return info.value


# -- integrity strings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "alg", "expected"), [
    # Neustar/TransUnion tcs-oas.yaml line 9553 and line 375 rcdi values (research notes §4.4 recomputed them)
    (b"Alice", "sha256", "sha256-O8UQYpc8RY1aby2NZKAjJGNUrX4GSx5OAJ7IoGmaMEM="),
    (b"18005550000", "sha256", "sha256-vHCRG12jC6XM9ROO1wsDFOpjeAD4I2c74NUQklzn4zY="),
    (b'["vcard",[["version",{},"text","4.0"],["fn",{},"text","Alice Liddell"],["email",{},"text",'
     b'"alice@example.com"]]]', "sha256", "sha256-HZx/N/1xOBpEofshbZ2XjjQ31ODuvpeFZtklnq2zZG8="),
    (b"Alice Liddell", "sha384", "sha384-mkEWyUu05oU20f14Up7lbny7X8CJwsOOsyYPRYBZf2tLoCbhhJK2Gxhk2XQy5B3g"),
    (b"18005550000", "sha384", "sha384-F42whmlHKfsm6csEE8iwAg9lz91/RbRt1PbSC1GIrY0n/kU3dyNHRzX7qWk9GItY"),
    # W3C SRI: the SHA-256 of no bytes
    (b"", "sha256", "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
])
def test_integrity_vectors(content: bytes, alg: str, expected: str) -> None:
    assert integrity(content, alg) == expected
    assert check_integrity(expected) and verify_content(expected, content)


@given(st.binary(max_size=256), st.sampled_from(sorted(INTEGRITY_ALGORITHMS)))
def test_integrity_round_trip(content: bytes, alg: str) -> None:
    value = integrity(content, alg)
    assert value.startswith(f"{alg}-") and check_integrity(value)
    assert verify_content(value, content) and not verify_content(value, content + b"\0")


def test_integrity_refuses_misuse() -> None:
    for alg in ("sha1", "md5", "SHA256", "sha-256"):
        refused("passport.bad_integrity", integrity, b"x", alg)
    with pytest.raises(TypeError):
        integrity("text", "sha256")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [
    None, 5, b"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "",
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",  # padding missing
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",  # non-zero trailing bits: not the canonical base64
    "sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=",  # base64url alphabet
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=?ct=image/png",  # SRI options are not RFC 9795
    " sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "SHA256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
    "sha384-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # a 32-byte digest named sha384
    "sha256-" + "A" * 43 + "=",  # form only: the sign.py test's placeholder is well-formed
])
def test_check_integrity(value: object) -> None:
    assert check_integrity(value) is (value == "sha256-" + "A" * 43 + "=")
    if isinstance(value, str):
        assert verify_content(value, b"") is False  # malformed, or the digest of other bytes


def test_verify_content_is_false_for_a_malformed_value() -> None:
    assert not verify_content("sha256-nope", LOGO) and not verify_content(LOGO_SRI + "?x", LOGO)
    assert verify_content(integrity(LOGO, "sha512"), LOGO) and not verify_content(LOGO_SRI, LOGO[:-1])


# -- url_references, rcdi_for -------------------------------------------------------------------------------------


def test_url_references() -> None:
    rcd = {"nam": "Acme", "icn": LOGO_URL, "jcl": "cid:123456",
           "jcd": ["vcard", [["x-web", {"a/b~": "https://w.example/"}, "uri", "HTTPS://acme.example/"],
                             ["tel", {}, "uri", "tel:+1202"], ["note", {}, "text", "Note: http is not a URL here"]]]}
    assert url_references(rcd) == {"/icn": LOGO_URL, "/jcl": "cid:123456",
                                   "/jcd/1/0/1/a~1b~0": "https://w.example/", "/jcd/1/0/3": "HTTPS://acme.example/"}
    assert url_references({"nam": "Acme", "apn": "12025550100"}) == {}


def test_rcdi_for_the_vetted_logo() -> None:
    rcd = {"nam": "Acme Health", "icn": LOGO_URL}
    rcdi = rcdi_for(rcd, {LOGO_URL: LOGO_SRI, "https://other.example/x.png": "sha256-x"})  # extras are ignored
    assert rcdi == {"/icn": LOGO_SRI}
    assert check_rcd(rcd, rcdi).ok
    assert rcdi_for({"nam": "Acme Health"}, {}) == {}  # nothing referenced: no rcdi entries


def test_rcdi_for_covers_every_reference_in_pointer_order() -> None:
    rcd = {"nam": "Acme", "jcd": JCARD, "icn": LOGO_URL}
    logo2 = "https://brand.example/acme/logo.png"
    rcdi = rcdi_for(rcd, {LOGO_URL: LOGO_SRI, logo2: integrity(b"jcard logo", "sha384")})
    assert list(rcdi) == ["/icn", "/jcd/1/2/3"] and check_rcd(rcd, rcdi).ok


def test_rcdi_for_refuses() -> None:
    rcd = {"nam": "Acme Health", "icn": LOGO_URL}
    refused("passport.no_integrity", rcdi_for, rcd, {})
    refused("passport.no_integrity", rcdi_for, rcd, {"https://brand.example/other.png": LOGO_SRI})  # bound to its URL
    refused("passport.bad_integrity", rcdi_for, rcd, {LOGO_URL: "sha256-AAAA"})
    refused("passport.bad_integrity", rcdi_for, rcd, {LOGO_URL: "/icn"})
    refused("passport.bad_rcd", rcdi_for, {"icn": LOGO_URL}, {LOGO_URL: LOGO_SRI})  # no nam
    refused("passport.bad_rcd", rcdi_for, {"nam": "Acme", "icn": "logo.png"}, {"logo.png": LOGO_SRI})


# -- check_rcd ----------------------------------------------------------------------------------------------------


def test_neustar_examples() -> None:
    """tcs-oas.yaml: line 9553 (SHAKEN + jcd, sha256 digests of inline values) and line 375 (ppt rcd, sha384, a
    ``cid:`` jcl whose content we do not have) pass; line 9323 has the old drafts' string ``rcdi``; line 347 has
    no rcdi and nothing referenced."""
    assert {"tcs-oas.yaml line 347", "tcs-oas.yaml line 375", "tcs-oas.yaml line 9323",
            "tcs-oas.yaml line 9553"} <= set(NEUSTAR)
    for where in ("tcs-oas.yaml line 9553", "tcs-oas.yaml line 375", "tcs-oas.yaml line 347"):
        claims = NEUSTAR[where]
        assert check_rcd(claims["rcd"], claims.get("rcdi"), crn=claims.get("crn")).ok, where
    old = NEUSTAR["tcs-oas.yaml line 9323"]
    assert codes(check_rcd(old["rcd"], old["rcdi"])) == ["passport.bad_integrity"]
    changed = dict(NEUSTAR["tcs-oas.yaml line 9553"]["rcd"], nam="Mallory")  # the /nam digest no longer matches
    assert codes(check_rcd(changed, NEUSTAR["tcs-oas.yaml line 9553"]["rcdi"])) == ["passport.integrity_mismatch"]


def test_checks_pass() -> None:
    assert check_rcd(None, None) == RcdCheck() and check_rcd(None, None).code is None
    assert check_rcd({"nam": "Acme"}, None).ok and check_rcd({"nam": ""}, None).ok  # RFC: nam may be empty
    assert check_rcd(None, None, crn="Appointment reminder").ok
    assert check_rcd({"nam": "Acme", "icn": LOGO_URL}, {"/icn": LOGO_SRI}, crn="Billing").ok
    jcl = {"nam": "Acme", "jcl": "https://brand.example/acme.jcard"}
    assert check_rcd(jcl, {"/jcl": LOGO_SRI, "/jcl/1/2/3": integrity(b"logo in the jcard")}).ok
    assert check_rcd({"nam": "Acme", "apn": "12025550100"}, {"/apn": integrity(b"12025550100", "sha512")}).ok


@pytest.mark.parametrize(("rcd", "rcdi", "expected"), [
    ({"nam": "Acme", "icn": LOGO_URL}, None, [("passport.no_integrity", "/icn")]),
    ({"nam": "Acme", "icn": LOGO_URL}, {}, [("passport.no_integrity", "/icn")]),
    ({"nam": "Acme", "jcl": "cid:1"}, {"/nam": integrity(b"Acme")}, [("passport.no_integrity", "/jcl")]),
    ({"nam": "Acme", "jcd": JCARD}, {"/jcd": integrity(b"x")},
     [("passport.integrity_mismatch", "/jcd"), ("passport.no_integrity", "/jcd/1/2/3")]),
    ({"nam": "Acme", "icn": LOGO_URL}, {"/icn": "sha256-AAAA"}, [("passport.bad_integrity", "/icn")]),
    ({"nam": "Acme", "icn": LOGO_URL}, {"/icn": LOGO_SRI + " "}, [("passport.bad_integrity", "/icn")]),
    ({"nam": "Acme", "icn": LOGO_URL}, "sha256-/zgCTIi3WgpfoUiQCKb6mWdzU5gOkiuEoku7NIAl2rc=",
     [("passport.bad_integrity", "rcdi"), ("passport.no_integrity", "/icn")]),
    ({"nam": "Acme"}, {"icn": LOGO_SRI}, [("passport.bad_integrity", "icn")]),  # not a JSON pointer
    ({"nam": "Acme"}, {"/n~2m": LOGO_SRI}, [("passport.bad_integrity", "/n~2m")]),  # bad RFC 6901 escape
    ({"nam": "Acme"}, {"/icn": LOGO_SRI}, [("passport.dangling_integrity", "/icn")]),
    ({"nam": "Acme"}, {"": LOGO_SRI}, [("passport.bad_integrity", "")]),
    ({"nam": "Acme"}, {"/": LOGO_SRI}, [("passport.dangling_integrity", "/")]),
    ({"nam": "Acme"}, {"/nam/0": LOGO_SRI}, [("passport.dangling_integrity", "/nam/0")]),
    ({"nam": "Acme", "jcd": JCARD}, {"/jcd/01": LOGO_SRI, "/jcd/1/2/3": LOGO_SRI},
     [("passport.dangling_integrity", "/jcd/01")]),  # no leading zeros in an array index
    ({"nam": "Acme"}, {"/jcl/1/2/3": LOGO_SRI}, [("passport.dangling_integrity", "/jcl/1/2/3")]),
    ({"nam": "Acme"}, {"/nam": integrity(b"Acme ")}, [("passport.integrity_mismatch", "/nam")]),
    (None, {"/icn": LOGO_SRI}, [("passport.dangling_integrity", "rcdi")]),
])
def test_checks_fail(rcd: Any, rcdi: Any, expected: list[tuple[str, str]]) -> None:
    check = check_rcd(rcd, rcdi)
    assert [(p.code, p.where) for p in check.problems] == expected
    assert not check.ok and check.code == expected[0][0] and all(p.detail for p in check.problems)


DEEP: list[Any] = ["deep"]
for _ in range(33):
    DEEP = [DEEP]


@pytest.mark.parametrize("rcd", [
    "Acme", ["nam", "Acme"], {}, {"apn": "12025550100"}, {"nam": 5}, {"nam": "Acme", "apn": 12025550100},
    {"nam": "Acme", "icn": "logo.png"}, {"nam": "Acme", "icn": "https://a.example/ logo.png"},
    {"nam": "Acme", "jcl": ""}, {"nam": "Acme", "jcd": {"vcard": []}}, {"nam": "Acme", "logo": LOGO_URL},
    {"nam": "Acme", "jcd": DEEP},
    {1: "Acme"},
])
def test_bad_shapes(rcd: Any) -> None:
    for check in (check_rcd(rcd, None), check_rcd_shape(rcd)):
        assert codes(check) and set(codes(check)) == {"passport.bad_rcd"}, rcd


def test_shape_alone_needs_no_rcdi_and_crn_is_checked() -> None:
    assert check_rcd_shape({"nam": "Acme", "icn": LOGO_URL}).ok
    assert not check_rcd({"nam": "Acme", "icn": LOGO_URL}, None).ok
    for crn in ("", 5, ["Billing"]):
        assert codes(check_rcd({"nam": "Acme"}, None, crn=crn)) == ["passport.bad_crn"]
    assert codes(check_rcd({"nam": 1}, None, crn="")) == ["passport.bad_crn", "passport.bad_rcd"]


def test_the_result_is_frozen() -> None:
    check = check_rcd({"nam": 1}, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.problems = ()  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.problems[0].code = "x"  # type: ignore[misc]


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
                       | st.sampled_from([LOGO_URL, LOGO_SRI, "/icn", "/nam", "cid:1", "https://x.example/"]),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                           st.sampled_from(["nam", "apn", "icn", "jcd", "jcl", "/icn", "/nam", "/jcd/1", "x"]),
                           inner, max_size=5), max_leaves=20)


@given(JSONISH, JSONISH, JSONISH)
def test_never_raises(rcd: Any, rcdi: Any, crn: Any) -> None:
    check = check_rcd(rcd, rcdi, crn=crn)
    codes(check)
    assert check.ok == (not check.problems)


# -- the enterprise PASSporT uses the same shape ------------------------------------------------------------------

KID = format_did("test", bytes(range(16))) + "#key-1"


def enterprise(rcd: Any) -> str:
    return sign_call(SIGNER, kid=KID, orig="12025550142", dest=["13105550000"], iat=1_790_000_000,
                     credential_id="urn:uuid:6a7e0f4c-4c1b-4a7e-9a7e-0f4c4c1b4a7e", rcd=rcd)


SIGNER = Ed25519Key.generate()


def test_enterprise_rcd_shape_is_the_shared_one() -> None:
    call = parse_call(enterprise({"nam": "Acme Health", "icn": LOGO_URL, "jcd": JCARD}))
    assert call.rcd == {"nam": "Acme Health", "icn": LOGO_URL, "jcd": JCARD}  # no rcdi in this PASSporT
    for bad in ({"nam": "Acme", "icn": "logo.png"}, {"nam": "Acme", "logo": LOGO_URL}, {"nam": "Acme", "jcd": "x"},
                {"icn": LOGO_URL}, {"nam": ""}, {"nam": "x" * 257}):
        with pytest.raises(PassportError) as info:
            enterprise_passport(SIGNER, kid=KID, orig="12025550142", dest=["13105550000"], iat=1_790_000_000,
                                credential_id="urn:uuid:6a7e0f4c-4c1b-4a7e-9a7e-0f4c4c1b4a7e", rcd=bad)
        assert info.value.code == "passport.bad_claims", bad
