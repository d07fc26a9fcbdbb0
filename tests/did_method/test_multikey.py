"""Multikey (CID 1.0 §2.2.2) on the did:key test vectors both ways, P-256 points, JWKs, every error path."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st
from nacl.signing import SigningKey

from did_method import KeyType, MultikeyError, decode_public_key, encode_public_key, to_jwk
from did_method.syntax import b58decode, b58encode

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "w3c"
ED25519_X25519: dict[str, Any] = json.loads((VECTORS / "didkey-ed25519-x25519.json").read_text())
NIST: dict[str, Any] = json.loads((VECTORS / "didkey-nist-p256.json").read_text())
DB_DOC: dict[str, Any] = json.loads((VECTORS / "didkey-z6MkrJVn-digitalbazaar.json").read_text())
KEY_PAIR: dict[str, str] = json.loads((VECTORS / "keyPair.json").read_text())

P256_ORDER_P = 2**256 - 2**224 + 2**192 + 2**96 - 1


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _multikey(did_key: str) -> str:
    return did_key.removeprefix("did:key:")


def _compressed(x: bytes, y: bytes) -> bytes:
    return bytes([2 | (y[-1] & 1)]) + x


# ------------------------------------------------------------------------------------------ Ed25519


@pytest.mark.parametrize("did_key", sorted(ED25519_X25519))
def test_ed25519_did_key_vectors_both_ways(did_key: str) -> None:
    vector = ED25519_X25519[did_key]
    raw = bytes(SigningKey(bytes.fromhex(vector["seed"])).verify_key)
    key_pair = vector["verificationKeyPair"]
    if "publicKeyBase58" in key_pair:
        assert b58decode(key_pair["publicKeyBase58"]) == raw
        assert b58encode(raw) == key_pair["publicKeyBase58"]
    else:
        assert to_jwk(KeyType.ED25519, raw) == key_pair["publicKeyJwk"]
    # decode: did:key suffix -> key
    assert decode_public_key(_multikey(did_key)) == (KeyType.ED25519, raw)
    # encode: key -> did:key suffix, also as the document's verification method fragment
    encoded = encode_public_key(KeyType.ED25519, raw)
    assert encoded == _multikey(did_key) and encoded.startswith("z6Mk")
    assert vector["didDocument"]["verificationMethod"][0]["id"] == f"{did_key}#{encoded}"


@pytest.mark.parametrize("did_key", sorted(ED25519_X25519))
def test_x25519_keys_are_not_accepted(did_key: str) -> None:
    x25519 = ED25519_X25519[did_key]["keyAgreementKeyPair"]["id"].split("#")[1]
    assert x25519.startswith("z6LS")
    with pytest.raises(MultikeyError, match="prefix 0xec01"):
        decode_public_key(x25519)


def test_multikey_document_vector() -> None:
    method = DB_DOC["verificationMethod"][0]
    assert method["type"] == "Multikey"
    key_type, raw = decode_public_key(method["publicKeyMultibase"])
    assert key_type is KeyType.ED25519
    assert encode_public_key(key_type, raw) == method["publicKeyMultibase"] == KEY_PAIR["publicKeyMultibase"]
    # the W3C key pair's secret Multikey (prefix 0x8026 + seed) derives the same public key
    secret = b58decode(KEY_PAIR["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"
    assert bytes(SigningKey(secret[2:]).verify_key) == raw


# ------------------------------------------------------------------------------------------ P-256


@pytest.mark.parametrize("did_key", [k for k in sorted(NIST) if NIST[k]["publicKeyJwk"]["crv"] == "P-256"])
def test_p256_did_key_vectors_both_ways(did_key: str) -> None:
    jwk = NIST[did_key]["publicKeyJwk"]
    raw = _compressed(_b64url_decode(jwk["x"]), _b64url_decode(jwk["y"]))
    assert decode_public_key(_multikey(did_key)) == (KeyType.P256, raw)
    encoded = encode_public_key(KeyType.P256, raw)
    assert encoded == _multikey(did_key) and encoded.startswith("zDn")
    assert to_jwk(KeyType.P256, raw) == jwk


def test_p384_is_not_accepted() -> None:
    (did_key,) = [k for k in NIST if NIST[k]["publicKeyJwk"]["crv"] == "P-384"]
    with pytest.raises(MultikeyError, match="prefix 0x8124"):
        decode_public_key(_multikey(did_key))


def test_p256_round_trip_with_a_generated_key() -> None:
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = public.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    text = encode_public_key(KeyType.P256, raw)
    assert text.startswith("zDn")
    assert decode_public_key(text) == (KeyType.P256, raw)
    numbers = public.public_numbers()
    assert to_jwk(KeyType.P256, raw) == {
        "kty": "EC", "crv": "P-256",
        "x": base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).rstrip(b"=").decode(),
        "y": base64.urlsafe_b64encode(numbers.y.to_bytes(32, "big")).rstrip(b"=").decode()}


def _off_curve_x() -> bytes:
    """The smallest x for which x^3 - 3x + b has no square root mod p: no point has it."""
    for x in range(1000):
        candidate = b"\x02" + x.to_bytes(32, "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), candidate)
        except ValueError:
            return candidate
    raise AssertionError("no off-curve x below 1000")


def test_off_curve_points_are_rejected() -> None:
    raw = _off_curve_x()
    with pytest.raises(MultikeyError, match="not a point on the curve"):
        encode_public_key(KeyType.P256, raw)
    with pytest.raises(MultikeyError, match="not a point on the curve"):
        decode_public_key("z" + b58encode(b"\x80\x24" + raw))
    with pytest.raises(MultikeyError, match="not a point on the curve"):
        to_jwk(KeyType.P256, raw)
    beyond_p = b"\x03" + (P256_ORDER_P + 1).to_bytes(32, "big")   # x >= p is not a field element
    with pytest.raises(MultikeyError, match="not a point on the curve"):
        encode_public_key(KeyType.P256, beyond_p)


# ------------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(("text", "why"), [
    ("", "starts with 'z'"),
    ("u7QEp", "starts with 'z'"),
    ("Z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "starts with 'z'"),
    ("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ0", "not base58btc"),
    ("z" + "2" * 128, "at most 128 characters"),
    ("z", "unsupported multicodec prefix"),
    ("z1" + b58encode(b"\xed\x01" + bytes(32)), "unsupported multicodec prefix 0x00ed"),
    ("z" + b58encode(b"\xe7\x01" + b"\x02" * 33), "unsupported multicodec prefix 0xe701"),
    ("z" + b58encode(b"\xed\x01" + bytes(31)), "Ed25519 public keys are 32 bytes, not 31"),
    ("z" + b58encode(b"\xed\x01" + bytes(33)), "Ed25519 public keys are 32 bytes, not 33"),
    ("z" + b58encode(b"\x80\x24" + b"\x02" * 32), "P-256 public keys are 33 bytes, not 32"),
    ("z" + b58encode(b"\x80\x24" + b"\x04" + bytes(64)), "not 65 .*compressed form"),
    ("z" + b58encode(b"\x80\x24" + b"\x04" + bytes(32)), "compressed point"),
])
def test_decode_errors(text: str, why: str) -> None:
    with pytest.raises(MultikeyError, match=why) as info:
        decode_public_key(text)
    assert info.value.code == "invalidPublicKey"


@pytest.mark.parametrize(("key_type", "raw", "why"), [
    (KeyType.ED25519, bytes(31), "32 bytes, not 31"),
    (KeyType.P256, b"\x02" * 32, "33 bytes, not 32"),
    (KeyType.P256, b"\x04" + bytes(32), "compressed point"),
    (KeyType.P256, bytes(33), "compressed point"),
    (3, bytes(32), "unknown key type 3"),
    (0, bytes(32), "unknown key type 0"),
])
def test_encode_and_jwk_errors(key_type: KeyType, raw: bytes, why: str) -> None:
    with pytest.raises(MultikeyError, match=why):
        encode_public_key(key_type, raw)
    with pytest.raises(MultikeyError, match=why):
        to_jwk(key_type, raw)


def test_wrong_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        encode_public_key(KeyType.ED25519, "00" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_jwk(KeyType.ED25519, bytearray(32))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        decode_public_key(b"z6Mk")  # type: ignore[arg-type]


def test_integer_key_types_are_accepted() -> None:
    raw = bytes(SigningKey(bytes(32)).verify_key)
    assert encode_public_key(1, raw) == encode_public_key(KeyType.ED25519, raw)  # type: ignore[arg-type]


@given(st.binary(min_size=32, max_size=32))
def test_ed25519_round_trip(raw: bytes) -> None:
    assert decode_public_key(encode_public_key(KeyType.ED25519, raw)) == (KeyType.ED25519, raw)


@given(st.text(max_size=140))
def test_decode_raises_only_multikey_errors(text: str) -> None:
    try:
        decode_public_key(text)
    except MultikeyError:
        pass
