"""The SHAKEN PASSporT module: golden bytes (RFC 8588), canonical form for any accepted input, the decoder on
third-party tokens (libstirshaken, FreeSWITCH) and on hostile ones."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
from hypothesis import given
from hypothesis import strategies as st

from did_method.ident import KeyType
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import (
    CODES,
    PassportError,
    ShakenPassport,
    b64url_decode,
    canonical_json,
    decode_shaken,
    parse_identity,
    shaken_header,
    shaken_identity,
    shaken_passport,
    verify_signature,
)
from wallet.passport.shaken import ATTEST_LEVELS, CLAIMS

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "shaken"
TOKENS: dict[str, dict[str, str]] = json.loads((VECTORS / "tokens.json").read_text())
KEY = P256Key.generate()
X5U = "https://cert.example.org/passport.cer"
ORIGID = "123e4567-e89b-12d3-a456-426655440000"
GOOD: dict[str, Any] = {"attest": "A", "orig": "12155550121", "dest": ["12155550131"], "iat": 1443208345,
                        "origid": ORIGID}
TN = st.text(alphabet="0123456789*#", min_size=1, max_size=15)


def sign(**over: Any) -> str:
    return shaken_passport(KEY, x5u=X5U, **{**GOOD, **over})


def forge(header: Any, claims: Any, key: Any = KEY) -> str:
    """A token over arbitrary header and claims, canonical or not, signed by ``key`` (negative decoder tests)."""
    def seg(part: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
    signing_input = f"{seg(header)}.{seg(claims)}"
    return f"{signing_input}.{base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b'=').decode()}"


def refused(token: str) -> PassportError:
    with pytest.raises(PassportError) as info:
        decode_shaken(token)
    assert info.value.code in CODES
    return info.value


# ------------------------------------------------------------------------------------------------ signing


def test_rfc8588_example_bytes() -> None:
    """RFC 8588 §6's PASSporT, byte for byte (header and claims; the signature is ours)."""
    token = sign()
    head, claims, _ = token.split(".")
    assert b64url_decode(head) == (b'{"alg":"ES256","ppt":"shaken","typ":"passport",'
                                   b'"x5u":"https://cert.example.org/passport.cer"}')
    assert b64url_decode(head) == canonical_json(shaken_header(X5U))
    assert b64url_decode(claims) == (b'{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,'
                                     b'"orig":{"tn":"12155550121"},"origid":"123e4567-e89b-12d3-a456-426655440000"}')
    passport = decode_shaken(token)
    assert verify_signature(passport.parsed, KeyType.P256, KEY.public_key)


def test_identity_header_is_the_full_form() -> None:
    value = shaken_identity(KEY, x5u=X5U, **{**GOOD, "orig": "+1 215 555 0121"})
    assert value.endswith(";info=<https://cert.example.org/passport.cer>;alg=ES256;ppt=shaken")
    header = parse_identity(value)
    assert (header.info, header.alg, header.ppt, header.compact) == (X5U, "ES256", "shaken", False)
    assert decode_shaken(header.token).orig == "12155550121"


@given(st.sampled_from(ATTEST_LEVELS), TN, st.lists(TN, min_size=1, max_size=4), st.integers(1, 2**40),
       st.text(alphabet=[chr(c) for c in range(0x21, 0x7F)], min_size=1, max_size=128),
       st.one_of(st.none(), st.text(min_size=1, max_size=30)), st.one_of(st.none(), st.text(min_size=1, max_size=30)),
       st.booleans())
def test_claims_are_canonical_json(attest: str, orig: str, dest: list[str], iat: int, origid: str, nam: str | None,
                                   crn: str | None, logo: bool) -> None:
    """The written-out claims are exactly canonical_json's bytes, and decode back to what was signed."""
    rcd: dict[str, Any] | None = None
    rcdi: dict[str, str] | None = None
    if nam is not None:
        rcd = {"nam": nam, **({"icn": "https://brand.example/logo.png"} if logo else {})}
        rcdi = {"/icn": "sha256-" + "A" * 43 + "="} if logo else None
    token = sign(attest=attest, orig=orig, dest=dest, iat=iat, origid=origid, rcd=rcd, rcdi=rcdi, crn=crn)
    claims: dict[str, Any] = {"attest": attest, "dest": {"tn": dest}, "iat": iat, "orig": {"tn": orig},
                              "origid": origid}
    claims.update({k: v for k, v in (("rcd", rcd), ("rcdi", rcdi), ("crn", crn)) if v is not None})
    assert b64url_decode(token.split(".")[1]) == canonical_json(claims)
    passport = decode_shaken(token)
    assert (passport.attest, passport.orig, passport.dest, passport.iat, passport.origid) == (
        attest, orig, tuple(dest), iat, origid)
    assert (passport.rcd, passport.rcdi, passport.crn) == (rcd, rcdi, crn)


@pytest.mark.parametrize("over, code", [
    ({"attest": "D"}, "passport.bad_claims"), ({"orig": "alice"}, "passport.bad_claims"),
    ({"dest": []}, "passport.bad_claims"), ({"dest": "12155550131"}, "passport.bad_claims"),
    ({"dest": ["12155550131", "bob"]}, "passport.bad_claims"), ({"iat": 0}, "passport.bad_claims"),
    ({"iat": True}, "passport.bad_claims"), ({"origid": ""}, "passport.bad_claims"),
    ({"origid": "é"}, "passport.bad_claims"), ({"origid": "x" * 129}, "passport.bad_claims"),
    ({"rcd": {}}, "passport.bad_rcd"), ({"rcd": {"nam": 1}}, "passport.bad_rcd"),
    ({"rcd": {"nam": "x", "n": float("nan")}}, "passport.bad_claims"),
    ({"rcd": {"nam": "x", "icn": "https://brand.example/logo.png"}}, "passport.no_integrity"),
    ({"rcdi": {"/icn": "sha256-x"}}, "passport.dangling_integrity"),
    ({"crn": ""}, "passport.bad_crn"), ({"crn": 5}, "passport.bad_crn"), ({"crn": "\ud800"}, "passport.bad_crn"),
])
def test_what_is_not_signed(over: dict[str, Any], code: str) -> None:
    with pytest.raises(PassportError) as info:
        sign(**over)
    assert info.value.code == code


def test_es256_and_an_http_x5u_only() -> None:
    with pytest.raises(PassportError) as info:
        shaken_passport(Ed25519Key.generate(), x5u=X5U, **GOOD)
    assert info.value.code == "passport.alg_not_allowed"
    for x5u in ("ftp://cert.example.org/c.pem", 'https://a.example/"x', "cert.pem", 5):
        with pytest.raises(PassportError):
            shaken_passport(KEY, x5u=x5u, **GOOD)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ decoding


@pytest.mark.parametrize("name", ["LSS_README_passport", "LSS_README_sih", "FS_expired_attestA"])
def test_third_party_tokens_decode(name: str) -> None:
    """libstirshaken's and FreeSWITCH's SHAKEN PASSporTs decode, and verify with their own keys."""
    token = TOKENS[name]["value"].split(";", 1)[0]
    passport = decode_shaken(token)
    assert isinstance(passport, ShakenPassport) and passport.attest in ATTEST_LEVELS
    assert passport.x5u == passport.header["x5u"] and passport.origid == passport.claims["origid"]
    pem = load_pem_public_key((VECTORS / TOKENS[name]["key"]).read_bytes())
    assert verify_signature(passport.parsed, KeyType.P256,
                            pem.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))


@pytest.mark.parametrize("name, code", [
    ("LSS_README_jwtcheck_AliceBob", "passport.bad_claims"),  # orig.tn "Alice"
    ("LSS_ref_passport_txt_passport", "passport.bad_claims"),  # orig without tn
    ("LSS_spc_token", "passport.wrong_ppt"),  # an SPC token, not a PASSporT
    ("RFC8224_sec4_example", "passport.wrong_ppt"),  # a base PASSporT (no ppt)
])
def test_other_tokens_are_refused(name: str, code: str) -> None:
    assert refused(TOKENS[name]["value"].split(";", 1)[0]).code == code


HEADER = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": X5U}
CLAIMS_OK = {"attest": "A", "dest": {"tn": ["12155550131"]}, "iat": 1, "orig": {"tn": "12155550121"},
             "origid": ORIGID}


@pytest.mark.parametrize("name", CLAIMS)
def test_a_missing_claim_is_named(name: str) -> None:
    err = refused(forge(HEADER, {k: v for k, v in CLAIMS_OK.items() if k != name}))
    assert err.code == "passport.missing_claim" and f"'{name}'" in err.message


@pytest.mark.parametrize("change", [
    {"orig": {"uri": "sip:alice@example.com"}}, {"orig": "12155550121"}, {"dest": {"tn": "12155550131"}},
    {"dest": {"tn": []}}, {"dest": {"tn": [1]}}, {"iat": "1"}, {"iat": True}, {"attest": 1}, {"origid": ""},
    {"orig": {"tn": "<b>call me</b>"}}, {"dest": {"tn": ["<b>call me</b>"]}},
])
def test_a_bad_claim_is_named_not_quoted(change: dict[str, Any]) -> None:
    err = refused(forge(HEADER, CLAIMS_OK | change))
    assert err.code == "passport.bad_claims" and next(iter(change)) in err.message and "call me" not in err.message


def test_attest_level_and_rich_call_data_are_not_judged_here() -> None:
    """E19 and the RFC 9795 checks are the verifier's, after the signature: the decoder reports what it read."""
    passport = decode_shaken(forge(HEADER, CLAIMS_OK | {"attest": "D", "rcd": {"nam": 5}, "crn": ""}))
    assert passport.attest == "D" and passport.rcd == {"nam": 5} and passport.crn == ""


@pytest.mark.parametrize("header, code", [
    (HEADER | {"ppt": "div"}, "passport.wrong_ppt"), ({k: v for k, v in HEADER.items() if k != "ppt"},
                                                      "passport.wrong_ppt"),
    (HEADER | {"typ": "JWT"}, "passport.bad_claims"), ({k: v for k, v in HEADER.items() if k != "x5u"},
                                                       "passport.bad_claims"),
    (HEADER | {"x5u": ["https://a.example/c.pem"]}, "passport.bad_claims"),
    (HEADER | {"crit": ["x"]}, "passport.malformed"),
])
def test_the_header_is_checked(header: dict[str, Any], code: str) -> None:
    assert refused(forge(header, CLAIMS_OK)).code == code


def test_only_es256() -> None:
    """An EdDSA token, even well signed, is not a SHAKEN PASSporT; nor is alg none."""
    assert refused(forge(HEADER | {"alg": "EdDSA"}, CLAIMS_OK, key=Ed25519Key.generate())).code == \
        "passport.alg_not_allowed"
    none = forge(HEADER | {"alg": "none"}, CLAIMS_OK)
    assert refused(none).code == "passport.alg_not_allowed"


def test_signatures_are_over_received_bytes() -> None:
    """A non-canonical but well-signed token decodes; its signature is checked over what was received."""
    claims = json.dumps(CLAIMS_OK, indent=1).encode()  # whitespace: not canonical
    head = base64.urlsafe_b64encode(canonical_json(HEADER)).rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(claims).rstrip(b"=").decode()
    sig = base64.urlsafe_b64encode(KEY.sign(f"{head}.{body}".encode())).rstrip(b"=").decode()
    passport = decode_shaken(f"{head}.{body}.{sig}")
    assert verify_signature(passport.parsed, KeyType.P256, KEY.public_key)
    assert passport.parsed.signing_input == f"{head}.{body}".encode()


@given(st.text(max_size=300))
def test_any_text_raises_only_passport_errors(text: str) -> None:
    try:
        decode_shaken(text)
    except PassportError as exc:
        assert exc.code in CODES
