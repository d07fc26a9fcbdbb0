"""The enterprise PASSporT: a call signed by the calling party's DID key (``ppt: "eidln"``).

This is the token a dialer, PBX or call center attaches to a call so that its originating carrier can find the
ledger evidence that the caller may use the calling number. It is an RFC 8225 PASSporT with:

* JOSE header ``{"alg", "kid", "ppt": "eidln", "typ": "passport"}`` — ``alg`` is ``EdDSA`` for an Ed25519 key and
  ``ES256`` for a P-256 key (nothing else); ``kid`` is the DID URL of the signing key (``did:eidln:…#key-1``),
  which replaces ``x5u``: the verifier takes the key from its ledger copy, never from the network.
* claims ``orig`` (``{"tn": …}``), ``dest`` (``{"tn": [ … ]}``), ``iat`` (integer seconds) and ``tnc``: the ``id``
  of the TN credential (a right-to-use grant or a delegation) whose subject is the signer and which lists ``orig``.
  Optional: ``rcd`` (RFC 9795 rich call data: ``nam``, ``apn``, ``icn``, ``jcd``, ``jcl``), ``crn`` (call reason)
  and ``origid``.
* SIP: ``Identity: <jws>;info=<DID URL>;alg=EdDSA;ppt=eidln`` (RFC 8224 §4.1; ``info`` equals ``kid``).

Decisions: the ``ppt`` value ``eidln`` is ours (not IANA-registered): a SHAKEN verifier that meets it ignores the
header (RFC 8224 §6.2.1 lets it skip unknown ``ppt``), so the token is safe to pass through. The claim names
``tnc`` is ours too; everything else is RFC 8225 / RFC 9795. The claim set is closed: unknown claims are refused,
so a verifier never acts on a claim it did not check. ``orig`` must be a telephone number (``uri`` is refused:
the ledger speaks numbers).

:func:`sign_call` is the one library call a dialer makes. :func:`parse_call` takes the untrusted Identity header
value and returns an :class:`EnterpriseCall` whose shape is checked; it verifies nothing cryptographic and reads
no clock — the attestation engine does that with the key the ledger says was valid at ``iat``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from did_method.errors import DidError
from did_method.ident import KeyType
from did_method.syntax import DidUrl, parse_did_url
from wallet.keys import Signer, algorithm_for
from wallet.passport.errors import PassportError
from wallet.passport.identity_header import format_identity, parse_identity
from wallet.passport.rcd import check_rcd_shape
from wallet.passport.tn import canonical_tn
from wallet.passport.token import Parsed, decode, decode_header, encode

__all__ = ["PPT", "EnterpriseCall", "sign_call", "enterprise_passport", "parse_call", "canonical_tn"]

PPT = "eidln"
_ALG_KEY = {"EdDSA": KeyType.ED25519, "ES256": KeyType.P256}
_CLAIMS = frozenset({"orig", "dest", "iat", "tnc", "rcd", "crn", "origid"})
_RCD_STRINGS = frozenset({"nam", "apn", "icn", "jcl"})
_MAX_DEST = 32


def _claim(message: str) -> PassportError:
    return PassportError(message, code="passport.bad_claims")


@dataclass(frozen=True)
class EnterpriseCall:
    """A parsed enterprise PASSporT: shape checked, signature *not* verified."""

    parsed: Parsed
    kid: DidUrl
    alg: str
    orig: str
    dest: tuple[str, ...]
    iat: int
    credential_id: str
    rcd: Mapping[str, Any] | None
    crn: str | None
    info: str

    @property
    def key_type(self) -> KeyType:
        return _ALG_KEY[self.alg]

    @property
    def kind(self) -> str:
        return PPT

    @property
    def ref(self) -> str:
        """What names this token in a reason: the TN credential it presents."""
        return self.credential_id


def enterprise_passport(signer: Signer, *, kid: str, orig: str, dest: Sequence[str], iat: int, credential_id: str,
                        rcd: Mapping[str, Any] | None = None, crn: str | None = None,
                        origid: str | None = None) -> str:
    """The compact JWS of an enterprise PASSporT, signed by ``signer`` (the key ``kid`` names)."""
    url = _kid(kid)
    if url.fragment is None:
        raise PassportError(f"kid {kid!r} names no key (a DID URL needs a #fragment)", code="passport.bad_kid")
    claims: dict[str, Any] = {"orig": {"tn": canonical_tn(orig, "orig")}, "dest": {"tn": _dest_list(dest)},
                              "iat": _iat(iat), "tnc": _credential_id(credential_id)}
    if rcd is not None:
        claims["rcd"] = _rcd(rcd)
    if crn is not None:
        claims["crn"] = _text(crn, "crn")
    if origid is not None:
        claims["origid"] = _text(origid, "origid")
    header = {"alg": algorithm_for(signer.key_type), "kid": str(url), "ppt": PPT, "typ": "passport"}
    return encode(header, claims, signer)


def sign_call(signer: Signer, *, kid: str, orig: str, dest: Sequence[str], iat: int, credential_id: str,
              rcd: Mapping[str, Any] | None = None, crn: str | None = None) -> str:
    """The SIP Identity header value for one call: ``<jws>;info=<kid>;alg=…;ppt=eidln``."""
    token = enterprise_passport(signer, kid=kid, orig=orig, dest=dest, iat=iat, credential_id=credential_id,
                                rcd=rcd, crn=crn)
    return format_identity(token, info=kid, alg=algorithm_for(signer.key_type), ppt=PPT)


def parse_call(identity: str) -> EnterpriseCall:
    """Parse an Identity header value carrying an enterprise PASSporT. Only :class:`PassportError` escapes:
    ``passport.bad_header`` / ``bad_base64`` / ``malformed`` / ``duplicate_key`` / ``too_large`` for the text,
    ``passport.wrong_ppt`` when it is not ``eidln``, ``passport.alg_not_allowed``, ``passport.bad_kid``,
    ``passport.bad_claims``. The compact form (RFC 8224 §4.1.1) is refused: ``tnc`` is not in the SIP request.
    """
    head = parse_identity(identity)
    if head.compact:
        raise PassportError("an enterprise PASSporT must be sent in full form (its tnc claim cannot be rebuilt "
                            "from the SIP request)", code="passport.bad_header")
    parsed = decode(head.token, header_of=_header)
    alg, kid, kid_text = _header_info(head.token.split(".", 1)[0])
    if head.ppt is not None and head.ppt != PPT:
        raise PassportError(f"the ppt parameter is {head.ppt[:20]!r}, not {PPT!r}", code="passport.wrong_ppt")
    if head.alg is not None and head.alg != alg:
        raise PassportError(f"the alg parameter {head.alg[:20]!r} differs from the token's {alg}",
                            code="passport.alg_not_allowed")
    if head.info != kid_text:
        raise PassportError("the info parameter differs from the token's kid", code="passport.bad_kid")
    claims = parsed.claims
    unknown = set(claims) - _CLAIMS
    if unknown:
        raise _claim(f"unknown claims {sorted(unknown)[:4]}")
    orig = claims.get("orig")
    if not isinstance(orig, dict) or set(orig) != {"tn"}:
        raise _claim("orig must be {\"tn\": \"<digits>\"}")
    dest = claims.get("dest")
    if not isinstance(dest, dict) or set(dest) != {"tn"}:
        raise _claim("dest must be {\"tn\": [\"<digits>\", …]}")
    rcd = claims.get("rcd")
    crn = claims.get("crn")
    return EnterpriseCall(
        parsed=parsed, kid=kid, alg=alg, orig=_exact_tn(orig["tn"], "orig.tn"),
        dest=tuple(_exact_tn(d, "dest.tn") for d in _dest_items(dest["tn"])), iat=_iat(claims.get("iat")),
        credential_id=_credential_id(claims.get("tnc")), rcd=_rcd(rcd) if rcd is not None else None,
        crn=_text(crn, "crn") if crn is not None else None, info=head.info)


@lru_cache(maxsize=4096)
def _header_items(segment: str) -> tuple[tuple[str, Any], ...]:
    """The decoded JOSE header of a segment, memoized: a dialer's header is the same on every call (its alg and
    kid), so the OSP decodes it once. Failures raise and are not cached; the cache is bounded."""
    return tuple(decode_header(segment).items())


def _header(segment: str) -> dict[str, Any]:
    return dict(_header_items(segment))


@lru_cache(maxsize=4096)
def _header_info(segment: str) -> tuple[str, DidUrl, str]:
    """(alg, kid, kid as text) of an enterprise PASSporT header, every header rule checked once per distinct
    header (memoized like :func:`_header_items`; failures are not cached)."""
    header = _header(segment)
    if header.get("ppt") != PPT:
        raise PassportError(f"ppt is {str(header.get('ppt'))[:20]!r}, not {PPT!r}", code="passport.wrong_ppt")
    if header.get("typ") != "passport":
        raise PassportError("typ must be 'passport'", code="passport.bad_claims")
    alg = header.get("alg")
    if alg not in _ALG_KEY:
        raise PassportError(f"alg {str(alg)[:20]!r} is not EdDSA or ES256", code="passport.alg_not_allowed")
    extra = set(header) - {"alg", "kid", "ppt", "typ"}
    if extra:
        raise PassportError(f"unexpected header members {sorted(extra)[:4]}", code="passport.bad_claims")
    kid = _kid(header.get("kid"))
    if kid.fragment is None:
        raise PassportError("kid names no key (a DID URL needs a #fragment)", code="passport.bad_kid")
    return str(alg), kid, str(kid)


def _kid(value: object) -> DidUrl:
    if not isinstance(value, str):
        raise PassportError("kid must be a DID URL string", code="passport.bad_kid")
    try:
        return parse_did_url(value)
    except DidError:
        raise PassportError(f"kid {value[:80]!r} is not a DID URL", code="passport.bad_kid") from None


def _exact_tn(value: object, what: str) -> str:
    tn = canonical_tn(value, what)
    if tn != value:
        raise _claim(f"{what} must be canonical digits (RFC 8225 §5.2.1), not {str(value)[:40]!r}")
    return tn


def _dest_items(value: object) -> list[object]:
    if not isinstance(value, list) or not value or len(value) > _MAX_DEST:
        raise _claim(f"dest.tn must be a list of 1 to {_MAX_DEST} numbers")
    return value


def _dest_list(dest: Sequence[str]) -> list[str]:
    if isinstance(dest, str):
        raise _claim("dest must be a list of numbers, not one string")
    return [canonical_tn(d, "dest") for d in _dest_items(list(dest))]


def _iat(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**40:
        raise _claim("iat must be a positive integer number of seconds (RFC 8225 §5.1.1)")
    return value


def _credential_id(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]{1,200}", value):
        raise _claim("tnc must be the id (an absolute URI) of the TN credential that covers orig")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise _claim(f"{what} must be a non-empty string of at most 256 characters")
    return value


def _rcd(value: object) -> dict[str, Any]:
    """The RFC 9795 §5.1 shape (:func:`wallet.passport.rcd.check_rcd_shape`, the STI-VS's too), and our own bound:
    ``nam``, ``apn``, ``icn``, ``jcl`` non-empty and at most 256 characters. No ``rcdi`` here: the OSP passes on
    only what it vetted, with the digests of its own vetting (docs/attestation.md)."""
    shape = check_rcd_shape(value)
    if not shape.ok:
        raise _claim(shape.problems[0].detail)
    assert isinstance(value, Mapping)
    for k in _RCD_STRINGS & set(value):
        _text(value[k], f"rcd.{k}")
    return dict(value)
