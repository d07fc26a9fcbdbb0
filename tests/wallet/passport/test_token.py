"""PASSporT canonical bytes, strict decoding and signature checks, on RFC and third-party vectors."""

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
    canonical_json,
    decode,
    encode,
    encode_payload,
    verify_signature,
)

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "shaken"
TOKENS: dict[str, dict[str, str]] = json.loads((VECTORS / "tokens.json").read_text())
# Vectors whose signature verifies with the named key (RFC8225_AppA does not: serialization only).
VERIFYING = sorted(set(TOKENS) - {"RFC8225_AppA"})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compressed_key(file_name: str) -> bytes:
    key = load_pem_public_key((VECTORS / file_name).read_bytes())
    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def token_of(name: str) -> str:
    return TOKENS[name]["value"].split(";", 1)[0]


def forge(header: Any, claims: Any = None, signature: bytes = b"\x01" * 64) -> str:
    """A token with arbitrary (possibly non-canonical) JSON text, for negative tests."""
    def seg(part: Any) -> str:
        return b64(part if isinstance(part, bytes) else json.dumps(part).encode())
    return f"{seg(header)}.{seg(claims if claims is not None else {'iat': 1})}.{b64(signature)}"


def code_of(token: str, **kwargs: Any) -> str:
    with pytest.raises(PassportError) as info:
        decode(token, **kwargs)
    assert info.value.code in CODES
    return info.value.code


# -- RFC and third-party vectors -------------------------------------------------------------------------------


def test_rfc8224_section4_example_decodes_and_verifies() -> None:
    parsed = decode(token_of("RFC8224_sec4_example"))
    assert parsed.header == {"alg": "ES256", "typ": "passport", "x5u": "https://cert.example.org/passport.cer"}
    assert parsed.claims == {"dest": {"uri": ["sip:alice@example.com"]}, "iat": "1443208345",
                             "orig": {"tn": "12155551212"}}
    assert parsed.alg == "ES256" and len(parsed.signature) == 64
    assert verify_signature(parsed, KeyType.P256, compressed_key("rfc8225_public.pem"))


@pytest.mark.parametrize("name", VERIFYING)
def test_third_party_tokens_verify(name: str) -> None:
    parsed = decode(token_of(name))
    assert verify_signature(parsed, KeyType.P256, compressed_key(TOKENS[name]["key"]))


@pytest.mark.parametrize("name", VERIFYING)
def test_wrong_key_or_key_type_does_not_verify(name: str) -> None:
    parsed = decode(token_of(name))
    other = "freeswitch_pub.pem" if TOKENS[name]["key"] != "freeswitch_pub.pem" else "libstirshaken_sp.pub"
    assert not verify_signature(parsed, KeyType.P256, compressed_key(other))
    assert not verify_signature(parsed, KeyType.ED25519, bytes(32))
    assert not verify_signature(parsed, 99, compressed_key(TOKENS[name]["key"]))


def test_tampered_claims_do_not_verify() -> None:
    header, _, signature = token_of("FS_expired_attestA").split(".")
    claims = b64(canonical_json({"attest": "A", "dest": {"tn": ["15553214322"]}, "iat": 1618373175,
                                 "orig": {"tn": "15551231234"}, "origid": "39bd63d4-9152-4354-ad67-6896466b8d27"}))
    parsed = decode(f"{header}.{claims}.{signature}")
    assert not verify_signature(parsed, KeyType.P256, compressed_key("freeswitch_pub.pem"))


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_canonical_json_reproduces_third_party_segments(name: str) -> None:
    """Every vector was serialized per RFC 8225 §9: re-encoding the decoded JSON gives the received segments."""
    header_segment, claims_segment, _ = token_of(name).split(".")
    parsed = decode(token_of(name))
    assert b64(canonical_json(parsed.header)) == header_segment
    assert b64(canonical_json(parsed.claims)) == claims_segment


def test_rfc8588_canonical_bytes() -> None:
    header = {"alg": "ES256", "typ": "passport", "ppt": "shaken", "x5u": "https://cert.example.org/passport.cer"}
    claims = {"attest": "A", "dest": {"tn": ["12155550131"]}, "iat": 1443208345, "orig": {"tn": "12155550121"},
              "origid": "123e4567-e89b-12d3-a456-426655440000"}
    assert canonical_json(header) == (
        b'{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":"https://cert.example.org/passport.cer"}')
    assert canonical_json(claims) == (
        b'{"attest":"A","dest":{"tn":["12155550131"]},"iat":1443208345,"orig":{"tn":"12155550121"},'
        b'"origid":"123e4567-e89b-12d3-a456-426655440000"}')


def test_canonical_json_utf8_and_slash() -> None:
    assert canonical_json({"nam": "Zoë", "u": "a/b", "e": "\"\\"}) == '{"e":"\\"\\\\","nam":"Zoë","u":"a/b"}'.encode()


def test_rfc8037_a4_ed25519_jws_byte_exact() -> None:
    signer = Ed25519Key.from_seed(base64.urlsafe_b64decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="))
    assert b64(signer.public_key) == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    jws = encode_payload({"alg": "EdDSA"}, b"Example of Ed25519 signing", signer)
    assert jws == ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
                   "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")


@pytest.mark.parametrize("signer", [Ed25519Key.generate(), P256Key.generate()], ids=["EdDSA", "ES256"])
def test_encode_decode_round_trip(signer: Ed25519Key | P256Key) -> None:
    header = {"alg": signer.algorithm, "ppt": "shaken", "typ": "passport", "x5u": "https://example.org/c.pem"}
    claims = {"attest": "A", "dest": {"tn": ["12155550131"]}, "iat": 1443208345, "orig": {"tn": "12155550121"}}
    parsed = decode(encode(header, claims, signer))
    assert (parsed.header, parsed.claims) == (header, claims)
    assert verify_signature(parsed, signer.key_type, signer.public_key)


# -- encoder refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES384", "es256", None, 1])
def test_encode_refuses_algorithms_outside_allow_list(alg: object) -> None:
    with pytest.raises(PassportError) as info:
        encode({"alg": alg}, {"iat": 1}, P256Key.generate())
    assert info.value.code == "passport.alg_not_allowed"


def test_encode_refuses_alg_that_is_not_the_signers() -> None:
    with pytest.raises(PassportError) as info:
        encode({"alg": "ES256"}, {"iat": 1}, Ed25519Key.generate())
    assert info.value.code == "passport.alg_not_allowed"


@pytest.mark.parametrize("claims", [[1], {"iat": float("nan")}, {1: "x"}, {"x": object()}, {"x": "\ud800"}])
def test_encode_refuses_non_json(claims: Any) -> None:
    with pytest.raises(PassportError) as info:
        encode({"alg": "ES256"}, claims, P256Key.generate())
    assert info.value.code == "passport.bad_claims"


# -- decoder refusals -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS256", "ES256K", "eddsa", None, ["ES256"]])
def test_decode_refuses_algorithms(alg: object) -> None:
    header = {"typ": "passport"} if alg is None else {"alg": alg, "typ": "passport"}
    assert code_of(forge(header)) == "passport.alg_not_allowed"


def test_decode_refuses_unsigned_alg_none_with_empty_signature() -> None:
    token = forge({"alg": "none"})
    assert code_of(token.rsplit(".", 1)[0] + ".") == "passport.malformed"


def test_decode_refuses_crit() -> None:
    assert code_of(forge({"alg": "ES256", "crit": ["x"], "x": 1})) == "passport.malformed"


@pytest.mark.parametrize("where", [0, 1, 2])
def test_decode_refuses_padding(where: int) -> None:
    parts = forge({"alg": "ES256", "typ": "passport"}).split(".")
    parts[where] += "=="
    assert code_of(".".join(parts)) == "passport.bad_base64"


@pytest.mark.parametrize("bad", ["a+b", "a/b", "ab c", "é", "A", "AB!", "ab=", "Qx"])
def test_decode_refuses_bad_base64(bad: str) -> None:
    header, claims, signature = token_of("FS_expired_attestA").split(".")
    for token in (f"{bad}.{claims}.{signature}", f"{header}.{bad}.{signature}", f"{header}.{claims}.{bad}"):
        assert code_of(token) == "passport.bad_base64"


def test_decode_refuses_duplicate_keys() -> None:
    dup_header = b'{"alg":"ES256","alg":"none"}'
    dup_claims = b'{"orig":{"tn":"1","tn":"2"}}'
    assert code_of(forge(dup_header)) == "passport.duplicate_key"
    assert code_of(forge({"alg": "ES256"}, dup_claims)) == "passport.duplicate_key"


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"1", b"{", b"\xff\xfe", b"{\"a\":NaN}", b"{\"a\":Infinity}",
                                     b"[" * 2000 + b"]" * 2000, b""])
def test_decode_refuses_non_object_json(payload: bytes) -> None:
    assert code_of(forge({"alg": "ES256"}, payload)) == "passport.malformed"


def test_decode_refuses_truncated_tokens() -> None:
    token = token_of("RFC8224_sec4_example")
    header, claims, _ = token.split(".")
    assert code_of(f"{header}.{claims}") == "passport.malformed"
    assert code_of(f"{header}..{token.rsplit('.', 1)[1]}") == "passport.malformed"  # compact form
    assert code_of(token + ".x") == "passport.malformed"
    assert code_of("") == "passport.malformed"
    # cut inside the signature: an impossible base64 length, or a signature shorter than 64 bytes
    assert code_of(token[:-1]) == "passport.bad_base64"
    assert code_of(token[:-2]) == "passport.malformed"
    assert code_of(token[:-30]) == "passport.malformed"


def test_decode_refuses_oversized() -> None:
    token = token_of("FS_expired_attestA")
    assert code_of(token, max_len=len(token) - 1) == "passport.too_large"
    assert decode(token, max_len=len(token)).alg == "ES256"
    assert code_of(forge({"alg": "ES256"}, {"x": "a" * 9000})) == "passport.too_large"


def test_decode_misuse_raises_type_error() -> None:
    with pytest.raises(TypeError):
        decode(b"a.b.c")  # type: ignore[arg-type]


@given(st.text(max_size=400))
def test_decode_raises_only_passport_errors(text: str) -> None:
    try:
        decode(text)
    except PassportError as exc:
        assert exc.code in CODES


_B64_CHARS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=120)


@given(_B64_CHARS, _B64_CHARS, _B64_CHARS)
def test_decode_raises_only_passport_errors_on_jws_shaped_text(a: str, b: str, c: str) -> None:
    try:
        decode(f"{a}.{b}.{c}")
    except PassportError as exc:
        assert exc.code in CODES


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
                    max_leaves=10))
def test_decode_of_encoded_json_round_trips(value: Any) -> None:
    signer = Ed25519Key.from_seed(bytes(range(32)))
    try:
        token = encode({"alg": "EdDSA"}, {"v": value}, signer)
    except PassportError as exc:  # lone surrogates in generated text
        assert exc.code == "passport.bad_claims"
        return
    parsed = decode(token, max_len=1 << 20)
    assert parsed.claims == {"v": value}
    assert verify_signature(parsed, KeyType.ED25519, signer.public_key)
