"""The careful layer for DID key material: in-memory signers, raw key encodings, and a verifier that never raises.

Decisions:

* :class:`Signer` is the one seam for private keys. The classes here keep the key in process memory; an HSM or a
  cloud KMS (PKCS#11, AWS/GCP/Azure KMS, Vault transit) supplies another class with the same four members and
  the rest of the code does not change. Only this module and the encrypted wallet file see private bytes.
* Public keys are raw bytes, as multicodec/Multikey and the DID registry carry them: 32 bytes for Ed25519,
  33 bytes (SEC1 compressed point) for P-256. Uncompressed P-256 points are refused rather than converted.
* Signatures are raw and fixed-size, as JOSE wants them: Ed25519 64 bytes (RFC 8032), ES256 ``r || s`` with each
  half 32 big-endian bytes (RFC 7518 §3.4), never DER.
* :func:`verify` treats every byte string as untrusted: wrong lengths, points off the curve, scalars out of range
  and unknown key types give ``False``. Wrong Python types (a ``str`` for ``bytes``) are misuse and raise.
* Secret material is only reachable through ``Ed25519Key.seed`` / ``P256Key.private_bytes`` (for the wallet
  file and backups); ``repr`` shows the algorithm and the public key.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol, runtime_checkable

import nacl.bindings
import nacl.exceptions
import nacl.signing
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from did_method.ident import KeyType
from wallet.errors import WalletError

__all__ = ["Signer", "Ed25519Key", "P256Key", "verify", "algorithm_for", "load_signer", "generate_signer"]

_ALGORITHMS = {KeyType.ED25519: "EdDSA", KeyType.P256: "ES256"}
# Order of the P-256 group (SEC 2 §2.4.2): private scalars and signature halves lie in [1, n - 1].
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@runtime_checkable
class Signer(Protocol):
    """A private key that signs, wherever it lives (this process, an HSM, a cloud KMS)."""

    @property
    def key_type(self) -> KeyType: ...

    @property
    def public_key(self) -> bytes:
        """Raw public key: 32 bytes (Ed25519) or 33 bytes, SEC1 compressed (P-256)."""
        ...

    @property
    def algorithm(self) -> str:
        """The JOSE ``alg``: ``"EdDSA"`` or ``"ES256"``."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A 64-byte signature of ``data``: Ed25519, or ES256 as raw ``r || s``."""
        ...


def algorithm_for(key_type: KeyType) -> str:
    """The JOSE ``alg`` of a key type (``EdDSA`` for Ed25519, ``ES256`` for P-256)."""
    return _ALGORITHMS[KeyType(key_type)]


def _need_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")
    return bytes(value)


class Ed25519Key:
    """An Ed25519 private key in memory (PyNaCl / libsodium)."""

    key_type = KeyType.ED25519
    algorithm = "EdDSA"

    def __init__(self, signing_key: nacl.signing.SigningKey) -> None:
        self._sk = signing_key

    @classmethod
    def generate(cls) -> Ed25519Key:
        return cls(nacl.signing.SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Ed25519Key:
        """The key of a 32-byte RFC 8032 seed (the "private key" of RFC 8032 §5.1.5)."""
        seed = _need_bytes(seed, "seed")
        if len(seed) != 32:
            raise WalletError(f"an Ed25519 seed is 32 bytes, not {len(seed)}", code="wallet.bad_key")
        return cls(nacl.signing.SigningKey(seed))

    @property
    def seed(self) -> bytes:
        """The 32-byte seed. For the encrypted wallet file and backups only."""
        return bytes(self._sk)

    @property
    def public_key(self) -> bytes:
        return bytes(self._sk.verify_key)

    def sign(self, data: bytes) -> bytes:
        return self._sk.sign(_need_bytes(data, "data")).signature

    def __repr__(self) -> str:
        return f"Ed25519Key(public_key={self.public_key.hex()})"


class P256Key:
    """A P-256 (secp256r1) private key in memory (pyca/cryptography); signs ES256 (ECDSA with SHA-256)."""

    key_type = KeyType.P256
    algorithm = "ES256"

    def __init__(self, private_key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise WalletError(f"a P256Key needs a secp256r1 key, not {private_key.curve.name}", code="wallet.bad_key")
        self._sk = private_key

    @classmethod
    def generate(cls) -> P256Key:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_private_bytes(cls, scalar: bytes) -> P256Key:
        """The key of a 32-byte big-endian private scalar ``d``, 1 <= d < n."""
        scalar = _need_bytes(scalar, "scalar")
        if len(scalar) != 32:
            raise WalletError(f"a P-256 private scalar is 32 bytes, not {len(scalar)}", code="wallet.bad_key")
        d = int.from_bytes(scalar, "big")
        if not 1 <= d < _P256_N:
            raise WalletError("a P-256 private scalar must lie in [1, n - 1]", code="wallet.bad_key")
        return cls(ec.derive_private_key(d, ec.SECP256R1()))

    @property
    def private_bytes(self) -> bytes:
        """The 32-byte private scalar. For the encrypted wallet file and backups only."""
        return self._sk.private_numbers().private_value.to_bytes(32, "big")

    @property
    def public_key(self) -> bytes:
        return self._sk.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)

    def sign(self, data: bytes) -> bytes:
        der = self._sk.sign(_need_bytes(data, "data"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"P256Key(public_key={self.public_key.hex()})"


def generate_signer(key_type: KeyType) -> Ed25519Key | P256Key:
    """A fresh in-memory key of ``key_type``."""
    return Ed25519Key.generate() if KeyType(key_type) is KeyType.ED25519 else P256Key.generate()


def load_signer(key_type: KeyType, secret: bytes) -> Ed25519Key | P256Key:
    """The in-memory key of a 32-byte secret: an Ed25519 seed or a P-256 scalar. Bad bytes: ``wallet.bad_key``."""
    if KeyType(key_type) is KeyType.ED25519:
        return Ed25519Key.from_seed(secret)
    return P256Key.from_private_bytes(secret)


def verify(key_type: KeyType | int, public_key: bytes, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid signature of ``data`` under ``public_key``. Never raises on bad bytes.

    Ed25519: 32-byte key, 64-byte signature, libsodium's checks (canonical ``S``, no small-order keys).
    P-256: 33-byte compressed key on the curve, 64-byte ``r || s`` with both halves in [1, n - 1].
    """
    public_key = _need_bytes(public_key, "public_key")
    data = _need_bytes(data, "data")
    signature = _need_bytes(signature, "signature")
    try:
        kt = KeyType(key_type)
    except ValueError:
        return False
    if len(signature) != 64:
        return False
    if kt is KeyType.ED25519:
        return _verify_ed25519(public_key, data, signature)
    return _verify_p256(public_key, data, signature)


def _verify_ed25519(public_key: bytes, data: bytes, signature: bytes) -> bool:
    if len(public_key) != 32:
        return False
    try:  # the libsodium call VerifyKey.verify makes, without building a VerifyKey per signature
        nacl.bindings.crypto_sign_open(signature + data, public_key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return False
    return True


@lru_cache(maxsize=4096)
def _p256_point(public_key: bytes) -> ec.EllipticCurvePublicKey:
    """The decoded (and on-curve checked) public key, memoized: decompressing a point costs as much as a verify."""
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)


def _verify_p256(public_key: bytes, data: bytes, signature: bytes) -> bool:
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (1 <= r < _P256_N and 1 <= s < _P256_N):
        return False
    try:
        _p256_point(public_key).verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
