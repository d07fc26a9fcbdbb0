"""The PASSporT's one home for canonical bytes: compact JWS assembly (RFC 7515) and a decoder that never trusts.

Decisions:

* Header and claims are serialized as RFC 8225 §9 asks: member names sorted lexicographically, no insignificant
  whitespace, UTF-8, and ``/`` left unescaped. :func:`canonical_json` is the only serializer of signed JSON.
* The algorithm allow-list is ES256 and EdDSA (the two :class:`wallet.keys.Signer` suites). ``none``, HS* and
  everything else are refused on both paths; the signer's own algorithm must equal the header's ``alg``.
* :func:`decode` checks shape only and raises :class:`PassportError` (and nothing else) for any text: strict
  base64url (no padding, no stray characters, no non-zero trailing bits), UTF-8 JSON objects without duplicate
  member names, NaN or Infinity, a size limit, 64-byte signatures, and no ``crit`` (this layer understands no
  JWS extensions). Segments are parsed by :func:`wallet.strictjson.loads`, bounded by the token's size limit
  and 32 levels of nesting, so a deeply nested claims segment is refused before the decoder recurses, whatever
  the interpreter's recursion limit (py-evm raises it to 100,000, where 65,536 ``[`` overflow the C stack).
  Signatures are checked over the *received* ``header.payload`` bytes, never over re-serialized JSON.
* Claim semantics (``iat`` freshness, ``orig``/``dest`` shape, ``attest``) belong to the layer above.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from did_method.ident import KeyType
from wallet import keys, strictjson
from wallet.keys import Signer
from wallet.passport.errors import PassportError

__all__ = [
    "ALLOWED_ALGORITHMS",
    "MAX_TOKEN_LENGTH",
    "Parsed",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "decode",
    "decode_header",
    "encode",
    "encode_payload",
    "verify_signature",
]

ALLOWED_ALGORITHMS = frozenset({"ES256", "EdDSA"})
MAX_TOKEN_LENGTH = 8192
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
_MAX_DEPTH = 32
_SIGNATURE_LENGTH = 64  # ES256 raw r || s (RFC 7518 §3.4) and Ed25519 (RFC 8032) alike


@dataclass(frozen=True)
class Parsed:
    """A decoded, not yet verified PASSporT: its JOSE header, its claims and the exact bytes that were signed."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    """Strict base64url: alphabet ``A-Za-z0-9-_`` only, no padding, canonical trailing bits. Else ``bad_base64``."""
    rest = len(segment) % 4
    if not _B64URL.fullmatch(segment) or rest == 1:
        raise PassportError("a segment is not unpadded base64url", code="passport.bad_base64")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-rest % 4))
    except (binascii.Error, ValueError) as exc:
        raise PassportError("a segment is not unpadded base64url", code="passport.bad_base64") from exc
    # Canonical form (RFC 4648 §3.5): the bits of the last character that encode nothing must be zero.
    if rest and _B64_VALUE[segment[-1]] & (0x0F if rest == 2 else 0x03):
        raise PassportError("a segment has non-zero trailing bits", code="passport.bad_base64")
    return data


def _check_value(value: object, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise PassportError("JSON nested too deeply", code="passport.bad_claims")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PassportError("NaN and Infinity are not JSON", code="passport.bad_claims")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_value(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PassportError(f"a member name must be a string, not {type(key).__name__}",
                                    code="passport.bad_claims")
            _check_value(item, depth + 1)
        return
    raise PassportError(f"{type(value).__name__} is not a JSON value", code="passport.bad_claims")


def canonical_json(obj: dict[str, Any]) -> bytes:
    """RFC 8225 §9 bytes of a JSON object: sorted member names, no whitespace, UTF-8, ``/`` not escaped."""
    if not isinstance(obj, dict):
        raise PassportError("a PASSporT header or claims set must be a JSON object", code="passport.bad_claims")
    _check_value(obj, 0)
    try:
        return strictjson.canonical(obj)  # the one canonical JSON of the project (same bytes)
    except (TypeError, strictjson.JsonError) as exc:  # NaN, lone surrogates, values that are not JSON
        raise PassportError(f"not serializable as JSON: {exc}", code="passport.bad_claims") from exc


def _check_alg(header: dict[str, Any], signer: Signer) -> None:
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise PassportError(f"alg {alg!r} is not one of {sorted(ALLOWED_ALGORITHMS)}", code="passport.alg_not_allowed")
    if signer.algorithm != alg:
        raise PassportError(f"header alg {alg!r} but the signer signs {signer.algorithm!r}",
                            code="passport.alg_not_allowed")


def encode_payload(header: dict[str, Any], payload: bytes, signer: Signer) -> str:
    """Compact JWS of raw ``payload`` bytes under the canonical ``header`` (generic JWS, e.g. RFC 8037 A.4)."""
    if not isinstance(payload, bytes):
        raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
    header_bytes = canonical_json(header)
    _check_alg(header, signer)
    signing_input = f"{b64url_encode(header_bytes)}.{b64url_encode(payload)}"
    signature = signer.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{b64url_encode(signature)}"


def encode(header: dict[str, Any], claims: dict[str, Any], signer: Signer) -> str:
    """A signed PASSporT in compact JWS form. ``header["alg"]`` must be the signer's algorithm (ES256 or EdDSA)."""
    return encode_payload(header, canonical_json(claims), signer)


def _json_object(data: bytes, what: str, max_bytes: int) -> dict[str, Any]:
    try:
        value = strictjson.loads(data, max_bytes=max_bytes, max_depth=_MAX_DEPTH)
    except strictjson.JsonError as exc:
        code = "passport.duplicate_key" if exc.code == "json.duplicate_key" else "passport.malformed"
        raise PassportError(f"the {what} is not strict UTF-8 JSON ({exc.message})", code=code) from None
    if not isinstance(value, dict):
        raise PassportError(f"the {what} is not a JSON object", code="passport.malformed")
    return value


def decode_header(segment: str) -> dict[str, Any]:
    """The JOSE header of one base64url segment, with the algorithm allow-list and ``crit`` refusal applied."""
    header = _json_object(b64url_decode(segment), "header", MAX_TOKEN_LENGTH)
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise PassportError(f"alg {alg!r} is not allowed", code="passport.alg_not_allowed")
    if "crit" in header:
        raise PassportError("critical header parameters are not supported", code="passport.malformed")
    return header


def decode(token: str, *, max_len: int = MAX_TOKEN_LENGTH,
           header_of: Callable[[str], dict[str, Any]] = decode_header) -> Parsed:
    """Split and decode a compact-form PASSporT without verifying it. Raises only :class:`PassportError`.

    ``header_of`` decodes the header segment (default :func:`decode_header`); a caller that sees the same signer's
    header on every call may pass a memoized one that returns a fresh dict of the same result."""
    if not isinstance(token, str):
        raise TypeError(f"token must be str, not {type(token).__name__}")
    if len(token) > max_len:
        raise PassportError(f"token is {len(token)} characters, limit {max_len}", code="passport.too_large")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise PassportError("a PASSporT is three non-empty dot-separated segments", code="passport.malformed")
    header_segment, claims_segment, signature_segment = parts
    header = header_of(header_segment)
    claims = _json_object(b64url_decode(claims_segment), "claims", max_len)
    signature = b64url_decode(signature_segment)
    if len(signature) != _SIGNATURE_LENGTH:
        raise PassportError(f"an {header['alg']} signature is 64 bytes, not {len(signature)}",
                            code="passport.malformed")
    signing_input = f"{header_segment}.{claims_segment}".encode("ascii")
    return Parsed(header=header, claims=claims, signing_input=signing_input, signature=signature)


def verify_signature(parsed: Parsed, key_type: KeyType | int, public_key: bytes) -> bool:
    """Whether ``parsed`` carries a valid signature by ``public_key``; ``False`` if ``alg`` does not fit the key.

    ``public_key`` is raw: 32 bytes for Ed25519, 33 bytes SEC1 compressed for P-256. Never raises on bad bytes.
    """
    try:
        expected = keys.algorithm_for(KeyType(key_type))
    except (KeyError, ValueError):
        return False
    if parsed.header.get("alg") != expected:
        return False
    return keys.verify(key_type, public_key, parsed.signing_input, parsed.signature)
