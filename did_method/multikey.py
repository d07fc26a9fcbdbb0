"""Multikey public keys (W3C CID 1.0 §2.2.2) for the two key types the DID registry accepts.

``publicKeyMultibase`` = ``"z"`` + base58btc(multicodec prefix || raw key):

* Ed25519: prefix ``0xed01``, 32-byte key, always ``z6Mk...``;
* P-256: prefix ``0x8024``, 33-byte SEC1 compressed point, always ``zDn...``.

Decisions:

* One encoding per key: only base58btc (``z``), only the compressed P-256 form (the form the ledger stores),
  exact lengths. Anything else is a :class:`~did_method.errors.MultikeyError` (code ``invalidPublicKey``).
* A P-256 key must be a point on the curve, both when encoding and when decoding: the registry contract
  checks only the length and the ``0x02``/``0x03`` prefix byte, so this is where an off-curve key is caught.
* An Ed25519 key is checked for length only; a key that is not a valid point cannot verify any signature,
  which the signature suite reports.
* :func:`to_jwk` gives the public JWK (RFC 7517/8037) for tools that want one; it never has ``d``.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric import ec

from did_method.errors import MultikeyError
from did_method.ident import MULTICODEC_PREFIX, KeyType
from did_method.syntax import b58decode, b58encode

__all__ = ["KEY_LENGTH", "MAX_MULTIKEY_LENGTH", "encode_public_key", "decode_public_key", "to_jwk"]

KEY_LENGTH = {KeyType.ED25519: 32, KeyType.P256: 33}
_NAME = {KeyType.ED25519: "Ed25519", KeyType.P256: "P-256"}
# Checked before decoding (base58 is quadratic). The longest valid value, a P-256 key (35 bytes), is 49
# characters; 128 leaves room for an uncompressed P-256 key to get the helpful "use the compressed form" error.
MAX_MULTIKEY_LENGTH = 128


def _key_type(key_type: KeyType | int) -> KeyType:
    try:
        return KeyType(key_type)
    except ValueError:
        raise MultikeyError(f"unknown key type {key_type!r} (1 Ed25519, 2 P-256)") from None


def _p256_point(raw: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise MultikeyError("the P-256 key is not a point on the curve") from None


def _check_raw(key_type: KeyType, raw: bytes) -> None:
    want = KEY_LENGTH[key_type]
    if len(raw) != want:
        hint = " (use the SEC1 compressed form)" if key_type is KeyType.P256 else ""
        raise MultikeyError(f"{_NAME[key_type]} public keys are {want} bytes, not {len(raw)}{hint}")
    if key_type is KeyType.P256:
        if raw[0] not in (2, 3):
            raise MultikeyError("a P-256 public key must be a compressed point (first byte 0x02 or 0x03)")
        _p256_point(raw)


def encode_public_key(key_type: KeyType, raw: bytes) -> str:
    """The ``publicKeyMultibase`` value of a raw public key. Raises :class:`MultikeyError` for a bad key."""
    if not isinstance(raw, bytes):
        raise TypeError(f"raw is bytes, not {type(raw).__name__}")
    kt = _key_type(key_type)
    _check_raw(kt, raw)
    return "z" + b58encode(MULTICODEC_PREFIX[kt] + raw)


def decode_public_key(text: str) -> tuple[KeyType, bytes]:
    """The key type and raw key of a ``publicKeyMultibase`` value. Raises :class:`MultikeyError`."""
    if not isinstance(text, str):
        raise TypeError(f"a Multikey value is a str, not {type(text).__name__}")
    if not text.startswith("z"):
        raise MultikeyError("a Multikey public key is multibase base58btc: it starts with 'z'")
    if len(text) > MAX_MULTIKEY_LENGTH:
        raise MultikeyError(f"a Multikey public key is at most {MAX_MULTIKEY_LENGTH} characters here")
    try:
        data = b58decode(text[1:])
    except ValueError as exc:
        raise MultikeyError(f"the Multikey value is not base58btc: {exc}") from None
    for kt, prefix in MULTICODEC_PREFIX.items():
        if data.startswith(prefix):
            raw = data[len(prefix):]
            _check_raw(kt, raw)
            return kt, raw
    raise MultikeyError(f"unsupported multicodec prefix 0x{data[:2].hex()} (Ed25519 0xed01 and P-256 0x8024 only)")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def to_jwk(key_type: KeyType, raw: bytes) -> dict[str, str]:
    """The public JWK of a raw key: ``OKP``/``Ed25519`` with ``x``, or ``EC``/``P-256`` with ``x`` and ``y``."""
    if not isinstance(raw, bytes):
        raise TypeError(f"raw is bytes, not {type(raw).__name__}")
    kt = _key_type(key_type)
    _check_raw(kt, raw)
    if kt is KeyType.ED25519:
        return {"kty": "OKP", "crv": "Ed25519", "x": _b64url(raw)}
    numbers = _p256_point(raw).public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big"))}
