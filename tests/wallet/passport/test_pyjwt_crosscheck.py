"""PyJWT as a second implementation of compact JWS (RFC 7515) with ES256 and EdDSA: a cross-check, never a dependency
of the call path (docs/dependencies.md says why).

* Tokens we sign verify under PyJWT, with the header and claims we meant.
* Tokens PyJWT signs decode with ours and their signatures verify, whatever the claims (a property test).
* Where the two differ, ours is the stricter by design: PyJWT takes duplicate member names (the last wins),
  ``alg: none`` when a caller allows it and (depending on its version) padded or non-canonical base64url; our
  decoder refuses each with a code.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from did_method.ident import KeyType
from wallet.keys import Ed25519Key, P256Key, Signer, generate_signer
from wallet.passport import PassportError, decode, encode, verify_signature

P256 = P256Key.from_private_bytes(bytes(range(1, 33)))
ED25519 = Ed25519Key.from_seed(bytes(range(32, 64)))
SIGNERS = {"ES256": P256, "EdDSA": ED25519}
CLAIMS = {"attest": "A", "dest": {"tn": ["12025550143", "*67"]}, "iat": 1_800_000_000, "orig": {"tn": "12025550100"},
          "origid": "123e4567-e89b-12d3-a456-426614174000"}
HEADER = {"ppt": "shaken", "typ": "passport", "x5u": "https://cert.example/sti.pem"}
# PyJWT judges the claims it knows (iat must not lie in the future, ...); a PASSporT's freshness is the verifier's.
NO_CLAIM_CHECKS = {"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False,
                   "verify_iss": False}


def public_key(signer: Signer) -> Any:
    """The signer's public key as a pyca/cryptography object, which PyJWT takes."""
    if signer.key_type is KeyType.P256:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), signer.public_key)
    return ed25519.Ed25519PublicKey.from_public_bytes(signer.public_key)


def private_key(signer: Signer) -> Any:
    if isinstance(signer, P256Key):
        return ec.derive_private_key(int.from_bytes(signer.private_bytes, "big"), ec.SECP256R1())
    assert isinstance(signer, Ed25519Key)
    return ed25519.Ed25519PrivateKey.from_private_bytes(signer.seed)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ours_verify(token: str, signer: Signer) -> bool:
    return verify_signature(decode(token), signer.key_type, signer.public_key)


def code_of(token: str) -> str:
    with pytest.raises(PassportError) as info:
        decode(token)
    return info.value.code


# ------------------------------------------------------------------------------------------------ agreement


@pytest.mark.parametrize("alg", sorted(SIGNERS))
def test_tokens_we_sign_verify_under_pyjwt(alg: str) -> None:
    signer = SIGNERS[alg]
    token = encode({"alg": alg, **HEADER}, CLAIMS, signer)
    assert jwt.decode(token, public_key(signer), algorithms=[alg], options=NO_CLAIM_CHECKS) == CLAIMS
    assert jwt.get_unverified_header(token) == {"alg": alg, **HEADER}
    other = generate_signer(signer.key_type)
    with pytest.raises(jwt.InvalidSignatureError):  # and not under another key
        jwt.decode(token, public_key(other), algorithms=[alg], options=NO_CLAIM_CHECKS)


@pytest.mark.parametrize("alg", sorted(SIGNERS))
def test_tokens_pyjwt_signs_decode_with_ours(alg: str) -> None:
    signer = SIGNERS[alg]
    token = jwt.encode(CLAIMS, private_key(signer), algorithm=alg, headers=HEADER)
    parsed = decode(token)
    assert parsed.claims == CLAIMS and parsed.header == {"alg": alg, **HEADER}
    assert verify_signature(parsed, signer.key_type, signer.public_key)
    assert not verify_signature(parsed, signer.key_type, SIGNERS["ES256" if alg == "EdDSA" else "EdDSA"].public_key)


_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)
_CLAIMS = st.dictionaries(_TEXT, st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT, lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=10), max_size=6)


@settings(max_examples=60, deadline=None)
@given(claims=_CLAIMS, alg=st.sampled_from(sorted(SIGNERS)))
def test_any_claims_round_trip_both_ways(claims: dict[str, Any], alg: str) -> None:
    signer = SIGNERS[alg]
    theirs = jwt.encode(claims, private_key(signer), algorithm=alg)  # ASCII-escaped, unsorted JSON
    assert decode(theirs).claims == claims and ours_verify(theirs, signer)
    mine = encode({"alg": alg, "typ": "passport"}, claims, signer)  # UTF-8, sorted JSON
    assert jwt.decode(mine, public_key(signer), algorithms=[alg], options=NO_CLAIM_CHECKS) == claims


# ------------------------------------------------------------------------------------------------ where ours is strict


def signed(signer: Signer, header_json: str, claims_json: str) -> str:
    """A token over exact JSON texts (which neither encoder would write), signed for real."""
    signing_input = f"{b64(header_json.encode())}.{b64(claims_json.encode())}"
    return f"{signing_input}.{b64(signer.sign(signing_input.encode('ascii')))}"


@pytest.mark.parametrize("alg", sorted(SIGNERS))
def test_duplicate_member_names(alg: str) -> None:
    signer = SIGNERS[alg]
    token = signed(signer, json.dumps({"alg": alg, "typ": "passport"}),
                   '{"orig":{"tn":"12025550100"},"orig":{"tn":"18005550199"},"iat":1}')
    assert jwt.decode(token, public_key(signer), algorithms=[alg], options=NO_CLAIM_CHECKS)["orig"] == {
        "tn": "18005550199"}  # PyJWT: the last one wins; another parser may take the first
    assert code_of(token) == "passport.duplicate_key"


@pytest.mark.parametrize("alg", sorted(SIGNERS))
def test_non_canonical_base64url(alg: str) -> None:
    signer = SIGNERS[alg]
    token = encode({"alg": alg}, {"iat": 1}, signer)
    head, body, sig = token.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 bytes are 86 characters; the last one's low 4 bits are padding. Set one: the same bytes, another text.
    # (PyJWT's answer depends on its version: 2.15 refuses the first and takes the second.)
    sig2 = sig[:-1] + alphabet[alphabet.index(sig[-1]) ^ 1]
    assert base64.urlsafe_b64decode(sig2 + "==") == base64.urlsafe_b64decode(sig + "==")
    for variant in (f"{head}.{body}.{sig2}", f"{head}.{body}.{sig}==", f"{head}=.{body}.{sig}"):
        assert code_of(variant) == "passport.bad_base64"  # one text per token: no malleable signatures


def test_alg_none_and_others_are_refused() -> None:
    unsigned = jwt.encode(CLAIMS, None, algorithm="none")
    assert jwt.decode(unsigned, options={"verify_signature": False}) == CLAIMS  # PyJWT: when a caller allows it
    assert code_of(unsigned) == "passport.malformed"  # no signature segment at all
    assert code_of(unsigned + b64(bytes(64))) == "passport.alg_not_allowed"
    hs256 = jwt.encode(CLAIMS, "a shared secret of 32 bytes or more!", algorithm="HS256")
    assert code_of(hs256) == "passport.alg_not_allowed"
    es384 = jwt.encode(CLAIMS, ec.generate_private_key(ec.SECP384R1()), algorithm="ES384")
    assert code_of(es384) == "passport.alg_not_allowed"
