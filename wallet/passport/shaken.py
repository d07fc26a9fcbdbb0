"""The SHAKEN PASSporT (RFC 8588, ATIS-1000074 §5.2): the one home of its header, its claims and its bytes.

* Header ``{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":<STI certificate URL>}``: ES256 only (RFC 8588 §3).
* Claims ``attest`` (A, B or C), ``dest`` (``{"tn":[…]}``), ``iat``, ``orig`` (``{"tn":…}``) and ``origid`` (RFC 8588
  §4), and optionally RFC 9795 ``rcd``, ``rcdi`` and ``crn``, carried as claims of the SHAKEN PASSporT as ATIS-1000094
  does. Telephone numbers are canonical digit strings (:func:`wallet.passport.tn.canonical_tn`).
* Identity header (RFC 8588 §6, ATIS-1000074 §5.3.1, full form): ``<jws>;info=<x5u>;alg=ES256;ppt=shaken``.

Decisions:

* **Signing is the OSP's per-call fast path.** :func:`shaken_passport` writes the RFC 8225 §9 canonical form itself:
  the header segment is serialized once per ``x5u`` (memoized) and the claims are one f-string of values checked
  first (numbers digits, ``*`` and ``#``; ``iat`` an int; ``origid`` printable ASCII; strings escaped by the C JSON
  string encoder); only ``rcd``/``rcdi`` go through :func:`wallet.passport.canonical_json`. A property test compares
  the bytes with :func:`canonical_json` for arbitrary inputs. Nothing else in the project serializes a SHAKEN
  PASSporT. ``origid`` is the caller's (a fresh UUID per call: RFC 8588 §4); this module draws no randomness and
  reads no clock. Rich call data that a verifier (ours too) would refuse is not signed (:func:`check_rcd`).
* **Decoding trusts nothing and judges only shape.** :func:`decode_shaken` decodes with
  :func:`wallet.passport.decode` (strict base64url and JSON, bounded size and depth, 64-byte signature), then checks
  the header (ES256, ``ppt`` shaken, ``typ`` passport, an ``x5u`` string) and the claims (the five mandatory claims,
  ``orig``/``dest`` objects of telephone numbers, read liberally and canonicalised, ``iat`` an integer, ``attest``
  and ``origid`` strings). It verifies no signature, reads no clock, and judges neither ``attest``'s level nor the
  rich call data: the STI-VS does that after the signature (ATIS-1000082 E19; :func:`check_rcd`). Sentences name a
  claim, never quote its unverified value.
* Errors are :class:`PassportError`: ``passport.bad_claims`` for a value of the wrong shape (and ``passport.bad_rcd``,
  ``passport.dangling_integrity``, ``passport.bad_crn`` and :func:`check_rcd`'s codes for rich call data) on both
  paths; when decoding also the decoder's codes, ``passport.wrong_ppt``, ``passport.alg_not_allowed`` and
  ``passport.missing_claim``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from wallet.keys import Signer
from wallet.passport.errors import PassportError
from wallet.passport.rcd import check_rcd
from wallet.passport.tn import canonical_tn
from wallet.passport.token import Parsed, b64url_encode, canonical_json, decode, decode_header

__all__ = [
    "ALG",
    "ATTEST_LEVELS",
    "CLAIMS",
    "HEADER_MEMBERS",
    "PPT",
    "RCD_CLAIMS",
    "TYP",
    "ShakenPassport",
    "decode_shaken",
    "shaken_header",
    "shaken_identity",
    "shaken_identity_of",
    "shaken_passport",
]

ALG = "ES256"
PPT = "shaken"
TYP = "passport"
HEADER_MEMBERS = ("ppt", "typ", "x5u", "alg")  # every one required (ATIS-1000082 E9 checks them in this order)
CLAIMS = ("attest", "dest", "iat", "orig", "origid")  # the mandatory claims (RFC 8588 §4, ATIS-1000074 §5.2.3)
RCD_CLAIMS = ("rcd", "rcdi", "crn")  # RFC 9795, optional
ATTEST_LEVELS = ("A", "B", "C")

_URL = re.compile(r"https?://[\x21-\x7e]+")
_ORIGID = re.compile(r"[\x21-\x7e]{1,128}")
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # the C string encoder json uses


def _claim(message: str, code: str = "passport.bad_claims") -> PassportError:
    return PassportError(message, code=code)


def shaken_header(x5u: str) -> dict[str, str]:
    """The JOSE header of a SHAKEN PASSporT whose certificate (chain) is served at ``x5u`` (an http(s) URL)."""
    if not isinstance(x5u, str) or not _URL.fullmatch(x5u) or set('<>"') & set(x5u):
        raise _claim(f"x5u {str(x5u)[:80]!r} is not an http(s) URL")
    return {"alg": ALG, "ppt": PPT, "typ": TYP, "x5u": x5u}


@lru_cache(maxsize=64)
def _header_segment(x5u: str) -> str:
    """The base64url header segment for ``x5u``, memoized: a signer's header is the same on every call (failures
    raise and are not cached)."""
    return b64url_encode(canonical_json(shaken_header(x5u)))


def _claims_bytes(attest: str, orig: str, dest: Sequence[str], iat: int, origid: str,
                  rcd: Mapping[str, Any] | None, rcdi: Mapping[str, str] | None, crn: str | None) -> bytes:
    """The canonical claims (RFC 8225 §9: members sorted, no whitespace), written out (module notice)."""
    if attest not in ATTEST_LEVELS:
        raise _claim(f"attest must be A, B or C, not {str(attest)[:10]!r}")
    if isinstance(iat, bool) or not isinstance(iat, int) or iat <= 0:
        raise _claim("iat must be a positive integer (seconds since the epoch)")
    if isinstance(dest, str) or not dest:
        raise _claim("dest must be a non-empty list of telephone numbers")
    if not isinstance(origid, str) or not _ORIGID.fullmatch(origid):
        raise _claim("origid must be 1 to 128 printable ASCII characters (a UUID)")
    dests = ",".join(f'"{canonical_tn(d, "dest")}"' for d in dest)
    extra = reason = ""
    if rcd is not None:  # "rcd" and "rcdi" sort after "origid"
        if not isinstance(rcd, Mapping) or not isinstance(rcd.get("nam"), str):
            raise _claim("rcd must be an object with a nam string (RFC 9795)", "passport.bad_rcd")
        try:
            extra = f',"rcd":{canonical_json(dict(rcd)).decode("utf-8")}'
            if rcdi:
                extra += f',"rcdi":{canonical_json(dict(rcdi)).decode("utf-8")}'
        except PassportError as exc:
            raise _claim(f"rcd: {exc.message}", exc.code) from None
    elif rcdi:
        raise _claim("rcdi without rcd", "passport.dangling_integrity")
    if rcd is not None:  # never sign rich call data a verifier (ours too) would refuse
        checked = check_rcd(rcd, rcdi, crn=crn)
        if not checked.ok:
            raise _claim(f"rcd: {checked.code}", checked.code or "passport.bad_rcd")
    if crn is not None:  # "crn" sorts after "attest"
        if not isinstance(crn, str) or not crn:
            raise _claim("crn must be a non-empty string (RFC 9795)", "passport.bad_crn")
        reason = f',"crn":{_json_string(crn)}'
    text = (f'{{"attest":"{attest}"{reason},"dest":{{"tn":[{dests}]}},"iat":{iat},"orig":{{"tn":'
            f'"{canonical_tn(orig, "orig")}"}},"origid":{_json_string(origid)}{extra}}}')
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate in crn: not UTF-8, so not JSON text either
        raise _claim("crn is not UTF-8 text (a lone surrogate)", "passport.bad_crn") from None


def shaken_passport(signer: Signer, *, x5u: str, attest: str, orig: str, dest: Sequence[str], iat: int,
                    origid: str, rcd: Mapping[str, Any] | None = None, rcdi: Mapping[str, str] | None = None,
                    crn: str | None = None) -> str:
    """The compact JWS of a SHAKEN PASSporT signed by ``signer`` (an ES256 key; its certificate is at ``x5u``).
    ``rcd`` adds RFC 9795 rich call data (``{"nam": …}``), ``rcdi`` the integrity digests of what ``rcd`` references
    by URL (``{"/icn": "sha256-…"}``), ``crn`` the call reason. Raises :class:`PassportError`."""
    if signer.algorithm != ALG:
        raise PassportError(f"SHAKEN PASSporTs are ES256 only (RFC 8588 §3), not {signer.algorithm}",
                            code="passport.alg_not_allowed")
    payload = _claims_bytes(attest, orig, dest, iat, origid, rcd, rcdi, crn)
    signing_input = f"{_header_segment(x5u)}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(signer.sign(signing_input.encode('ascii')))}"


def shaken_identity(signer: Signer, *, x5u: str, attest: str, orig: str, dest: Sequence[str], iat: int,
                    origid: str, rcd: Mapping[str, Any] | None = None, rcdi: Mapping[str, str] | None = None,
                    crn: str | None = None) -> str:
    """The SIP Identity header value of :func:`shaken_passport`'s token: ``<jws>;info=<x5u>;alg=ES256;ppt=shaken``
    (:func:`wallet.passport.format_identity`'s strict form, written directly)."""
    token = shaken_passport(signer, x5u=x5u, attest=attest, orig=orig, dest=dest, iat=iat, origid=origid, rcd=rcd,
                            rcdi=rcdi, crn=crn)
    return shaken_identity_of(token, x5u)


def shaken_identity_of(token: str, x5u: str) -> str:
    """The full-form Identity header value of a SHAKEN PASSporT signed for ``x5u``."""
    return f"{token};info=<{x5u}>;alg={ALG};ppt={PPT}"


@dataclass(frozen=True)
class ShakenPassport:
    """A decoded SHAKEN PASSporT: header and claim shapes checked, numbers canonical, signature *not* verified.

    ``attest`` is a string, not necessarily an attestation level (:data:`ATTEST_LEVELS`); ``rcd``, ``rcdi`` and
    ``crn`` are as received, not judged (:func:`wallet.passport.check_rcd`)."""

    parsed: Parsed
    x5u: str
    attest: str
    orig: str
    dest: tuple[str, ...]
    iat: int
    origid: str

    @property
    def header(self) -> dict[str, Any]:
        return self.parsed.header

    @property
    def claims(self) -> dict[str, Any]:
        return self.parsed.claims

    @property
    def rcd(self) -> Any:
        return self.parsed.claims.get("rcd")

    @property
    def rcdi(self) -> Any:
        return self.parsed.claims.get("rcdi")

    @property
    def crn(self) -> Any:
        return self.parsed.claims.get("crn")


def _header(segment: str) -> dict[str, Any]:
    header = decode_header(segment)
    if header.get("ppt") != PPT:
        raise PassportError(f"ppt is {str(header.get('ppt'))[:20]!r}, not {PPT!r}", code="passport.wrong_ppt")
    if header.get("alg") != ALG:
        raise PassportError(f"a SHAKEN PASSporT is ES256, not {str(header.get('alg'))[:20]!r}",
                            code="passport.alg_not_allowed")
    if header.get("typ") != TYP:
        raise _claim("typ must be 'passport'")
    if not isinstance(header.get("x5u"), str):
        raise _claim("x5u must be a string (the certificate URL)")
    return header


def _tn(value: object, sentence: str) -> str:
    try:
        return canonical_tn(value)
    except PassportError:
        raise _claim(sentence) from None


def decode_shaken(token: str) -> ShakenPassport:
    """Decode an untrusted compact SHAKEN PASSporT (module notice). Raises only :class:`PassportError`; a missing
    mandatory claim is ``passport.missing_claim``, a claim of the wrong shape ``passport.bad_claims``."""
    parsed = decode(token, header_of=_header)
    claims = parsed.claims
    for name in CLAIMS:
        if name not in claims:
            raise _claim(f"Missing '{name}' mandatory claim in PASSporT payload.", "passport.missing_claim")
    orig, dest, iat, attest, origid = (claims[name] for name in ("orig", "dest", "iat", "attest", "origid"))
    if not isinstance(orig, dict) or not isinstance(orig.get("tn"), str):
        raise _claim("'orig' is not an object with a 'tn' string.")
    tns = dest.get("tn") if isinstance(dest, dict) else None
    if not isinstance(tns, list) or not tns or not all(isinstance(t, str) for t in tns):
        raise _claim("'dest' is not an object with a non-empty 'tn' array of strings.")
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise _claim("'iat' is not an integer.")
    if not isinstance(attest, str) or not isinstance(origid, str) or not origid:
        raise _claim("'attest' and 'origid' must be strings.")
    orig_tn = _tn(orig["tn"], "'orig.tn' is not a telephone number.")
    dest_tns = tuple(_tn(t, "'dest.tn' holds a value that is not a telephone number.") for t in tns)
    return ShakenPassport(parsed=parsed, x5u=parsed.header["x5u"], attest=attest, orig=orig_tn, dest=dest_tns,
                          iat=iat, origid=origid)
