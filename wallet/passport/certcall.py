"""The certificate-signed enterprise PASSporT: a call signed with an X.509 key whose chain is served at ``x5u``.

The report's certificate-based mechanisms (Annex A.1, A.2) have the enterprise (or its vendor) sign a PASSporT with
an STI or EV certificate instead of a DID key:

* delegate certificates (ATIS-1000092, RFC 9060) and EV certificates with TN letters of authorization: a **base**
  PASSporT (RFC 8225, no ``ppt``) or an **RCD** PASSporT (RFC 9795, ``ppt: "rcd"``);
* Lemon Twist and enterprise certificates: a **SHAKEN** PASSporT (RFC 8588, ``ppt: "shaken"``) signed by the
  enterprise's own STI certificate.

This module is the one home of that token's shape (:func:`parse_cert_call`, :func:`cert_passport`), and of the
dispatch every OSP mechanism shares (:func:`parse_token`): each enterprise Identity header is parsed once, into an
:class:`~wallet.passport.enterprise.EnterpriseCall` (``ppt: "eidln"``, key by DID URL) or a :class:`CertCall`
(key by certificate URL). Nothing here fetches a certificate, reads a clock or verifies a signature: the
mechanisms do, from the OSP's local certificate store.

Decisions:

* ``alg`` is ES256 only (RFC 8588 §3, ATIS-1000080: STI certificates hold P-256 keys); ``typ`` is ``passport``;
  ``x5u`` is an ``http(s)`` URL and the JOSE header holds nothing else (no ``x5c``, no ``kid``, no ``crit``).
* The Identity header is in full form; its ``info`` equals ``x5u`` (RFC 8224 §4.1) and its ``ppt`` parameter, when
  present, equals the token's (absent for a base PASSporT).
* Claims: ``orig`` (one ``tn``, canonical digits), ``dest`` (``tn`` list), ``iat``; a SHAKEN PASSporT also has
  ``attest`` and ``origid`` (RFC 8588 §4); optional ``rcd`` / ``rcdi`` / ``crn`` (RFC 9795) and ``origid``. The set
  is closed: an unknown claim is refused, so no mechanism acts on a claim nobody checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wallet.keys import Signer
from wallet.passport.enterprise import PPT as EIDLN_PPT
from wallet.passport.enterprise import EnterpriseCall, parse_call
from wallet.passport.errors import PassportError
from wallet.passport.identity_header import format_identity, parse_identity
from wallet.passport.rcd import check_rcd_shape
from wallet.passport.shaken import ATTEST_LEVELS, shaken_passport
from wallet.passport.tn import canonical_tn
from wallet.passport.token import Parsed, decode, decode_header, encode

__all__ = ["CertCall", "Token", "PPTS", "parse_cert_call", "parse_token", "cert_passport", "sign_cert_call"]

ALG = "ES256"
PPTS: tuple[str | None, ...] = (None, "rcd", "shaken")  # base (RFC 8225), RCD (RFC 9795), SHAKEN (RFC 8588)
_COMMON = frozenset({"orig", "dest", "iat", "rcd", "rcdi", "crn", "origid"})
_CLAIMS = {None: _COMMON, "rcd": _COMMON, "shaken": _COMMON | {"attest"}}
_MAX_DEST = 32
_MAX_URL = 512


def _claim(message: str) -> PassportError:
    return PassportError(message, code="passport.bad_claims")


@dataclass(frozen=True)
class CertCall:
    """A parsed certificate-signed enterprise PASSporT: shape checked, signature *not* verified."""

    parsed: Parsed
    ppt: str | None  # None (base), "rcd" or "shaken"
    x5u: str
    orig: str
    dest: tuple[str, ...]
    iat: int
    rcd: Mapping[str, Any] | None
    rcdi: Mapping[str, Any] | None
    crn: str | None
    attest: str | None  # SHAKEN only
    origid: str | None
    alg: str = ALG

    @property
    def kind(self) -> str:
        return {None: "base", "rcd": "rcd", "shaken": "shaken"}[self.ppt]

    @property
    def ref(self) -> str:
        """What names this token in a reason: its certificate URL."""
        return self.x5u


Token = EnterpriseCall | CertCall


def _url(value: object) -> str:
    if (not isinstance(value, str) or not value.startswith(("https://", "http://")) or len(value) > _MAX_URL
            or any(not 0x21 <= ord(c) <= 0x7E for c in value) or set('<>"') & set(value)):
        raise _claim(f"x5u {str(value)[:80]!r} is not an http(s) URL")
    return value


@lru_cache(maxsize=4096)
def _header_items(segment: str) -> tuple[tuple[str, Any], ...]:
    """The checked JOSE header of a segment, memoized (a signer's header is the same on every call; failures raise
    and are not cached)."""
    header = decode_header(segment)
    ppt = header.get("ppt")
    if ppt not in PPTS:
        raise PassportError(f"ppt {str(ppt)[:20]!r} is not a base, rcd or shaken PASSporT", code="passport.wrong_ppt")
    if header.get("alg") != ALG:
        raise PassportError(f"alg {str(header.get('alg'))[:20]!r}: a certificate-signed PASSporT is ES256",
                            code="passport.alg_not_allowed")
    if header.get("typ") != "passport":
        raise _claim("typ must be 'passport'")
    _url(header.get("x5u"))
    extra = set(header) - {"alg", "ppt", "typ", "x5u"}
    if extra:
        raise _claim(f"unexpected header members {sorted(extra)[:4]}")
    return tuple(header.items())


def _header(segment: str) -> dict[str, Any]:
    return dict(_header_items(segment))


def _exact_tn(value: object, what: str) -> str:
    tn = canonical_tn(value, what)
    if tn != value:
        raise _claim(f"{what} must be canonical digits (RFC 8225 §5.2.1), not {str(value)[:40]!r}")
    return tn


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise _claim(f"{what} must be a non-empty string of at most 256 characters")
    return value


def parse_cert_call(identity: str) -> CertCall:
    """Parse an Identity header value carrying a certificate-signed PASSporT (module notice). Raises only
    :class:`PassportError`: ``passport.wrong_ppt`` for another PASSporT type (``eidln`` included),
    ``passport.alg_not_allowed``, ``passport.bad_header`` (syntax, compact form, ``info`` or ``ppt`` parameter not
    the token's), ``passport.bad_claims`` / ``passport.missing_claim`` for the claims, and the decoder's codes."""
    head = parse_identity(identity)
    if head.compact:
        raise PassportError("an enterprise PASSporT must be sent in full form", code="passport.bad_header")
    parsed = decode(head.token, header_of=_header)
    header = parsed.header
    ppt, x5u = header.get("ppt"), header["x5u"]
    if head.ppt is not None and head.ppt != ppt:
        raise PassportError(f"the ppt parameter {head.ppt[:20]!r} is not the token's ({ppt or 'none'})",
                            code="passport.wrong_ppt")
    if head.alg is not None and head.alg != ALG:
        raise PassportError(f"the alg parameter {head.alg[:20]!r} is not ES256", code="passport.alg_not_allowed")
    if head.info != x5u:
        raise PassportError("the info parameter differs from the token's x5u (RFC 8224 §4.1)",
                            code="passport.bad_header")
    claims = parsed.claims
    unknown = set(claims) - _CLAIMS[ppt]
    if unknown:
        raise _claim(f"unknown claims {sorted(unknown)[:4]}")
    for name in ("orig", "dest", "iat") + (("attest", "origid") if ppt == "shaken" else ()):
        if name not in claims:
            raise PassportError(f"missing claim {name!r}", code="passport.missing_claim")
    orig, dest = claims["orig"], claims["dest"]
    if not isinstance(orig, dict) or set(orig) != {"tn"}:
        raise _claim('orig must be {"tn": "<digits>"}')
    if not isinstance(dest, dict) or set(dest) != {"tn"} or not isinstance(dest["tn"], list) \
            or not 0 < len(dest["tn"]) <= _MAX_DEST:
        raise _claim(f'dest must be {{"tn": [1 to {_MAX_DEST} numbers]}}')
    iat = claims["iat"]
    if isinstance(iat, bool) or not isinstance(iat, int) or not 0 < iat < 2**40:
        raise _claim("iat must be a positive integer number of seconds (RFC 8225 §5.1.1)")
    attest = claims.get("attest")
    if ppt == "shaken" and attest not in ATTEST_LEVELS:
        raise _claim("attest must be A, B or C (RFC 8588 §4)")
    rcd, rcdi, crn, origid = (claims.get(n) for n in ("rcd", "rcdi", "crn", "origid"))
    if rcd is not None:
        shape = check_rcd_shape(rcd)
        if not shape.ok:
            raise _claim(shape.problems[0].detail)
    elif ppt == "rcd":
        raise PassportError("an RCD PASSporT carries an rcd claim (RFC 9795)", code="passport.missing_claim")
    if rcdi is not None and not isinstance(rcdi, dict):
        raise _claim("rcdi must be an object of JSON pointers to integrity strings")
    return CertCall(
        parsed=parsed, ppt=ppt, x5u=x5u, orig=_exact_tn(orig["tn"], "orig.tn"),
        dest=tuple(_exact_tn(d, "dest.tn") for d in dest["tn"]), iat=iat, rcd=rcd, rcdi=rcdi,
        crn=_text(crn, "crn") if crn is not None else None, attest=attest,
        origid=_text(origid, "origid") if origid is not None else None)


def parse_token(identity: str) -> Token:
    """Parse one enterprise Identity header into its typed token: ``ppt: "eidln"`` →
    :class:`~wallet.passport.enterprise.EnterpriseCall`; a token with ``x5u`` → :class:`CertCall`. Anything else is
    ``passport.wrong_ppt``; every other failure is the type's own parser's :class:`PassportError`."""
    head = parse_identity(identity)
    header = decode_header(head.token.split(".", 1)[0])
    if header.get("ppt") == EIDLN_PPT:
        return parse_call(identity)
    if "x5u" in header:
        return parse_cert_call(identity)
    raise PassportError(f"ppt {str(header.get('ppt'))[:20]!r} without x5u: neither an enterprise (eidln) nor a "
                        "certificate-signed PASSporT", code="passport.wrong_ppt")


def cert_passport(signer: Signer, *, x5u: str, orig: str, dest: Sequence[str], iat: int, ppt: str | None = None,
                  attest: str | None = None, origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                  rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
    """The compact JWS of a certificate-signed PASSporT (an ES256 ``signer`` whose certificate chain is at ``x5u``):
    base (``ppt=None``), RCD (``"rcd"``, needs ``rcd``) or SHAKEN (``"shaken"``, needs ``attest`` and ``origid``)."""
    if signer.algorithm != ALG:
        raise PassportError(f"a certificate-signed PASSporT is ES256, not {signer.algorithm}",
                            code="passport.alg_not_allowed")
    if ppt not in PPTS:
        raise PassportError(f"ppt {ppt!r} is not None, 'rcd' or 'shaken'", code="passport.wrong_ppt")
    if ppt == "shaken":
        if attest is None or origid is None:
            raise _claim("a SHAKEN PASSporT needs attest and origid")
        return shaken_passport(signer, x5u=x5u, attest=attest, orig=orig, dest=dest, iat=iat, origid=origid,
                               rcd=rcd, rcdi=rcdi, crn=crn)
    if attest is not None:
        raise _claim("attest belongs to SHAKEN PASSporTs (RFC 8588)")
    if ppt == "rcd" and rcd is None:
        raise _claim("an RCD PASSporT carries an rcd claim (RFC 9795)")
    if isinstance(dest, str) or not dest:
        raise _claim("dest must be a non-empty list of numbers")
    claims: dict[str, Any] = {"orig": {"tn": canonical_tn(orig, "orig")},
                              "dest": {"tn": [canonical_tn(d, "dest") for d in dest]}, "iat": iat}
    for name, value in (("origid", origid), ("rcd", rcd), ("rcdi", rcdi), ("crn", crn)):
        if value is not None:
            claims[name] = dict(value) if isinstance(value, Mapping) else value
    header = {"alg": ALG, "typ": "passport", "x5u": _url(x5u), **({"ppt": ppt} if ppt else {})}
    return encode(header, claims, signer)


def sign_cert_call(signer: Signer, *, x5u: str, orig: str, dest: Sequence[str], iat: int, ppt: str | None = None,
                   attest: str | None = None, origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                   rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
    """The SIP Identity header value of :func:`cert_passport`'s token: ``<jws>;info=<x5u>;alg=ES256[;ppt=…]``."""
    token = cert_passport(signer, x5u=x5u, orig=orig, dest=dest, iat=iat, ppt=ppt, attest=attest, origid=origid,
                          rcd=rcd, rcdi=rcdi, crn=crn)
    return format_identity(token, info=x5u, alg=ALG, ppt=ppt)
