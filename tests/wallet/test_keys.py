"""wallet.keys: known answers from RFC 8032 / RFC 6979 / RFC 8224, round trips, and a verifier that never raises."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from did_method.ident import KeyType
from wallet.errors import WalletError
from wallet.keys import Ed25519Key, P256Key, Signer, algorithm_for, generate_signer, load_signer, verify

# RFC 8032 §7.1, TEST 1 (empty message): SECRET KEY (the seed), PUBLIC KEY, SIGNATURE.
RFC8032_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24"
    "655141438e7a100b")

# RFC 6979 Appendix A.2.5, ECDSA P-256: private key x, public key (Ux, Uy), and the SHA-256 signatures (r, s) of
# "sample" and "test" (deterministic k; a verifier accepts them as any other valid signature).
RFC6979_X = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
RFC6979_UX = bytes.fromhex("60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6")
RFC6979_UY = bytes.fromhex("7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299")
RFC6979_SIGS = {
    b"sample": "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
               "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
    b"test": "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
             "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083",
}

# RFC 8224 §4 Identity example (= RFC 8225 §7.1), ES256; it verifies with the public key printed in RFC 8225
# Appendix A (X9.62 point below, from its SubjectPublicKeyInfo). The matching private scalar is the EC key of
# draft-ietf-stir-passport (RFC 8225 prints a different, non-matching private key). Source: the project's shared
# vectors, shaken/verify_all.py "RFC8224_sec4_example", and research/shaken.md §4.1.
RFC8224_TOKEN = (
    "eyJhbGciOiJFUzI1NiIsInR5cCI6InBhc3Nwb3J0IiwieDV1IjoiaHR0cHM6Ly9jZXJ0LmV4YW1wbGUub3JnL3Bhc3Nwb3J0LmNlciJ9."
    "eyJkZXN0Ijp7InVyaSI6WyJzaXA6YWxpY2VAZXhhbXBsZS5jb20iXX0sImlhdCI6IjE0NDMyMDgzNDUiLCJvcmlnIjp7InRuIjoiMTIxNTU1"
    "NTEyMTIifX0.rq3pjT1hoRwakEGjHCnWSwUnshd0-zJ6F1VOgFWSjHBr8Qjpjlk-cpFYpFYsojNCpTzO3QfPOlckGaS6hEck7w")
RFC8225_PUBLIC_SPKI = base64.b64decode(
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8HNbQd/TmvCKwPKHkMF9fScavGeH78YTU8qLS8I5HLHSSmlATLcslQMhNC/OhlWBYC626nIlo7Xe"
    "ebYS7Sb37g==")
STIR_DRAFT_D = bytes.fromhex("5799d51db4f100af72ee46b98c8c7c6e16eec1f89bdf7fede1d20cba5d625945")

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _compressed(x: bytes, y: bytes) -> bytes:
    return bytes([2 + (y[-1] & 1)]) + x


# ------------------------------------------------------------------------------------------------ known answers


def test_rfc8032_test1_byte_exact() -> None:
    key = Ed25519Key.from_seed(RFC8032_SEED)
    assert key.public_key == RFC8032_PUBLIC
    assert key.sign(b"") == RFC8032_SIGNATURE
    assert key.seed == RFC8032_SEED
    assert verify(KeyType.ED25519, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE)
    assert not verify(KeyType.ED25519, RFC8032_PUBLIC, b"\x00", RFC8032_SIGNATURE)


def test_rfc6979_p256_key_and_published_signatures() -> None:
    public = _compressed(RFC6979_UX, RFC6979_UY)
    assert P256Key.from_private_bytes(RFC6979_X).public_key == public
    for message, sig in RFC6979_SIGS.items():
        assert verify(KeyType.P256, public, message, bytes.fromhex(sig)), message
    assert not verify(KeyType.P256, public, b"test", bytes.fromhex(RFC6979_SIGS[b"sample"]))


def test_rfc8224_identity_example_verifies() -> None:
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), RFC8225_PUBLIC_SPKI[-65:])
    public = _compressed(RFC8225_PUBLIC_SPKI[-64:-32], RFC8225_PUBLIC_SPKI[-32:])
    assert point.public_numbers().x.to_bytes(32, "big") == public[1:]
    header, payload, signature = RFC8224_TOKEN.split(".")
    signing_input = f"{header}.{payload}".encode()
    assert verify(KeyType.P256, public, signing_input, _b64url(signature))
    assert not verify(KeyType.P256, public, signing_input + b" ", _b64url(signature))
    assert P256Key.from_private_bytes(STIR_DRAFT_D).public_key == public


# ------------------------------------------------------------------------------------------------ round trips


@pytest.mark.parametrize("key_type", list(KeyType))
def test_generate_sign_verify(key_type: KeyType) -> None:
    key = generate_signer(key_type)
    assert key.key_type is key_type and key.algorithm == algorithm_for(key_type)
    assert len(key.public_key) == (32 if key_type is KeyType.ED25519 else 33)
    sig = key.sign(b"INVITE sip:+12155551212@example.com")
    assert len(sig) == 64
    assert verify(key_type, key.public_key, b"INVITE sip:+12155551212@example.com", sig)
    assert not verify(key_type, key.public_key, b"INVITE sip:+12155551213@example.com", sig)
    flipped = bytes([sig[0] ^ 1]) + sig[1:]
    assert not verify(key_type, key.public_key, b"INVITE sip:+12155551212@example.com", flipped)
    secret = key.seed if isinstance(key, Ed25519Key) else key.private_bytes
    assert load_signer(key_type, secret).public_key == key.public_key


def test_p256_signature_is_raw_r_s_not_der() -> None:
    key = P256Key.from_private_bytes(RFC6979_X)
    sig = key.sign(b"x")
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    assert len(sig) == 64 and 1 <= r < P256_N and 1 <= s < P256_N
    der = encode_dss_signature(r, s)
    point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.public_key)
    point.verify(der, b"x", ec.ECDSA(hashes.SHA256()))  # the same (r, s), checked by pyca directly
    assert not verify(KeyType.P256, key.public_key, b"x", der)


def test_algorithms() -> None:
    assert algorithm_for(KeyType.ED25519) == "EdDSA"
    assert algorithm_for(KeyType.P256) == "ES256"


def test_signer_protocol() -> None:
    assert isinstance(Ed25519Key.generate(), Signer)
    assert isinstance(P256Key.generate(), Signer)
    assert not isinstance(object(), Signer)

    class Hsm:  # what an HSM-backed signer would look like: no private bytes in this process
        key_type = KeyType.P256
        algorithm = "ES256"
        public_key = b"\x02" * 33

        def sign(self, data: bytes) -> bytes:
            return b"\x00" * 64

    assert isinstance(Hsm(), Signer)


def test_repr_shows_no_secret() -> None:
    ed = Ed25519Key.from_seed(RFC8032_SEED)
    p = P256Key.from_private_bytes(RFC6979_X)
    assert RFC8032_SEED.hex() not in repr(ed) and RFC8032_PUBLIC.hex() in repr(ed)
    assert RFC6979_X.hex() not in repr(p) and "P256Key" in repr(p)


@pytest.mark.parametrize("make, secret", [
    (Ed25519Key.from_seed, b"\x01" * 31),
    (Ed25519Key.from_seed, b"\x01" * 64),
    (P256Key.from_private_bytes, b"\x01" * 31),
    (P256Key.from_private_bytes, b"\x00" * 32),
    (P256Key.from_private_bytes, P256_N.to_bytes(32, "big")),
    (P256Key.from_private_bytes, b"\xff" * 32),
])
def test_bad_secrets(make: object, secret: bytes) -> None:
    with pytest.raises(WalletError) as err:
        make(secret)  # type: ignore[operator]
    assert err.value.code == "wallet.bad_key"
    assert secret.hex() not in str(err.value)


def test_p256_key_of_another_curve_refused() -> None:
    with pytest.raises(WalletError) as err:
        P256Key(ec.generate_private_key(ec.SECP384R1()))
    assert err.value.code == "wallet.bad_key"


# ------------------------------------------------------------------------------------------------ verify: bad input


def _off_curve_x() -> bytes:
    """The first x (counting up from 0) with no point on P-256: a compressed encoding that must be refused."""
    for x in range(100):
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x02" + x.to_bytes(32, "big"))
        except ValueError:
            return x.to_bytes(32, "big")
    raise AssertionError("no off-curve x below 100")


def test_verify_bad_inputs_are_false() -> None:
    p = P256Key.from_private_bytes(RFC6979_X)
    good = bytes.fromhex(RFC6979_SIGS[b"sample"])
    r = good[:32]
    cases = [
        (KeyType.ED25519, RFC8032_PUBLIC[:31], b"", RFC8032_SIGNATURE),
        (KeyType.ED25519, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE[:63]),
        (KeyType.ED25519, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE + b"\x00"),
        (KeyType.ED25519, b"\x01" + b"\x00" * 31, b"", RFC8032_SIGNATURE),  # the identity point (small order)
        (KeyType.P256, p.public_key, b"sample", good[:63]),
        (KeyType.P256, p.public_key[1:], b"sample", good),
        (KeyType.P256, b"\x04" + p.public_key[1:], b"sample", good),  # bad prefix
        (KeyType.P256, b"\x02" + _off_curve_x(), b"sample", good),  # not on the curve
        (KeyType.P256, p.public_key, b"sample", r + b"\x00" * 32),  # s = 0
        (KeyType.P256, p.public_key, b"sample", r + P256_N.to_bytes(32, "big")),  # s = n
        (KeyType.P256, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE),  # an Ed25519 key as P-256
        (3, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE),  # unknown key type
        (0, RFC8032_PUBLIC, b"", RFC8032_SIGNATURE),
    ]
    for key_type, public, data, sig in cases:
        assert verify(key_type, public, data, sig) is False, (key_type, public.hex(), sig.hex())


def test_verify_wrong_python_types_raise() -> None:
    with pytest.raises(TypeError):
        verify(KeyType.ED25519, RFC8032_PUBLIC.hex(), b"", RFC8032_SIGNATURE)  # type: ignore[arg-type]


@given(key_type=st.integers(min_value=-2, max_value=5), public=st.binary(max_size=70), data=st.binary(max_size=64),
       signature=st.binary(max_size=70))
def test_verify_never_raises(key_type: int, public: bytes, data: bytes, signature: bytes) -> None:
    assert verify(key_type, public, data, signature) is False


@given(public=st.binary(min_size=33, max_size=33), signature=st.binary(min_size=64, max_size=64))
def test_verify_never_raises_on_right_lengths(public: bytes, signature: bytes) -> None:
    for key_type in KeyType:
        assert verify(key_type, public, b"m", signature) is False
        assert verify(key_type, public[:32], b"m", signature) is False
