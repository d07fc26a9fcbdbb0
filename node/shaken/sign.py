"""The OSP's SHAKEN authentication service (RFC 8588, ATIS-1000074 §5): one ES256 PASSporT per call.

Header ``{"alg":"ES256","ppt":"shaken","typ":"passport","x5u":<STI certificate URL>}``, claims
``{"attest","dest":{"tn":[…]},"iat","orig":{"tn"},"origid"}``, both serialized canonically by
:func:`wallet.passport.canonical_json`; the Identity header value is ``<jws>;info=<x5u>;alg=ES256;ppt=shaken``.
Telephone numbers are canonical E.164 digit strings (no ``+``); ``origid`` is a UUID string.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wallet.keys import P256Key
from wallet.passport import PassportError, b64url_encode, canonical_json
from wallet.passport.rcd import check_rcd
from wallet.passport.tn import canonical_tn as _canonical_tn

from .errors import BAD_REQUEST, ShakenError

__all__ = ["ShakenSigner", "ATTEST_LEVELS", "canonical_tn"]

ATTEST_LEVELS = ("A", "B", "C")
_URL = re.compile(r"https?://[\x21-\x7e]+")
_ORIGID = re.compile(r"[\x21-\x7e]{1,128}")
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]  # the C string encoder json uses


def canonical_tn(value: object, what: str = "tn") -> str:
    """:func:`wallet.passport.tn.canonical_tn`, failing with ``shaken.bad_request``."""
    try:
        return _canonical_tn(value, what)
    except PassportError as exc:
        raise ShakenError(BAD_REQUEST, exc.message) from None


@dataclass(frozen=True)
class ShakenSigner:
    """Signs SHAKEN PASSporTs with the OSP's STI key; ``x5u`` is where its certificate (chain) is served."""

    key: P256Key
    x5u: str

    def __post_init__(self) -> None:
        if self.key.algorithm != "ES256":
            raise ShakenError(BAD_REQUEST, "SHAKEN PASSporTs are ES256 only (RFC 8588 §3)")
        if not _URL.fullmatch(self.x5u) or set('<>"') & set(self.x5u):
            raise ShakenError(BAD_REQUEST, f"x5u {self.x5u[:80]!r} is not an http(s) URL")
        header = {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": self.x5u}
        object.__setattr__(self, "_head", b64url_encode(canonical_json(header)))  # the same for every call

    def passport(self, *, attest: str, orig: str, dest: list[str] | tuple[str, ...], iat: int,
                 origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                 rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
        """The compact JWS. ``origid`` defaults to a fresh UUID (RFC 8588 §4: opaque, unique per call). ``rcd``
        adds RFC 9795 rich call data (``{"nam": …}``) as a claim of the SHAKEN PASSporT (ATIS-1000094 style),
        ``rcdi`` the integrity digests of what ``rcd`` references by URL (``{"/icn": "sha256-…"}``) and ``crn`` the
        call reason."""
        if attest not in ATTEST_LEVELS:
            raise ShakenError(BAD_REQUEST, f"attest must be A, B or C, not {str(attest)[:10]!r}")
        if isinstance(iat, bool) or not isinstance(iat, int) or iat <= 0:
            raise ShakenError(BAD_REQUEST, "iat must be a positive integer (seconds since the epoch)")
        if isinstance(dest, str) or not dest:
            raise ShakenError(BAD_REQUEST, "dest must be a non-empty list of telephone numbers")
        if origid is None:
            origid = str(uuid.uuid4())
        elif not isinstance(origid, str) or not _ORIGID.fullmatch(origid):
            raise ShakenError(BAD_REQUEST, "origid must be 1 to 128 printable ASCII characters (a UUID)")
        dests = ",".join(f'"{canonical_tn(d, "dest")}"' for d in dest)
        # RFC 8225 §9 canonical form written out: members in sorted order, no whitespace. Numbers are checked
        # digits/*/#, iat an int, origid printable ASCII escaped by the JSON encoder; a test compares this with
        # canonical_json for arbitrary inputs.
        extra = reason = ""
        if rcd is not None:  # "rcd" and "rcdi" sort after "origid"
            if not isinstance(rcd, Mapping) or not isinstance(rcd.get("nam"), str):
                raise ShakenError(BAD_REQUEST, "rcd must be an object with a nam string (RFC 9795)")
            try:
                extra = f',"rcd":{canonical_json(dict(rcd)).decode("utf-8")}'
                if rcdi:
                    extra += f',"rcdi":{canonical_json(dict(rcdi)).decode("utf-8")}'
            except PassportError as exc:
                raise ShakenError(BAD_REQUEST, f"rcd: {exc.message}") from None
        elif rcdi:
            raise ShakenError(BAD_REQUEST, "rcdi without rcd")
        if rcd is not None or crn is not None:  # never sign rich call data a verifier (ours too) would refuse
            checked = check_rcd(rcd, rcdi, crn=crn) if rcd is not None else None
            if checked is not None and not checked.ok:
                raise ShakenError(BAD_REQUEST, f"rcd: {checked.problems[0].code}")
        if crn is not None:  # "crn" sorts after "attest"
            if not isinstance(crn, str) or not crn:
                raise ShakenError(BAD_REQUEST, "crn must be a non-empty string (RFC 9795)")
            reason = f',"crn":{_json_string(crn)}'
        payload = (f'{{"attest":"{attest}"{reason},"dest":{{"tn":[{dests}]}},"iat":{iat},"orig":{{"tn":'
                   f'"{canonical_tn(orig, "orig")}"}},"origid":{_json_string(origid)}{extra}}}').encode()
        signing_input = f"{self._head}.{b64url_encode(payload)}"  # type: ignore[attr-defined]
        return f"{signing_input}.{b64url_encode(self.key.sign(signing_input.encode('ascii')))}"

    def identity(self, *, attest: str, orig: str, dest: list[str] | tuple[str, ...], iat: int,
                 origid: str | None = None, rcd: Mapping[str, Any] | None = None,
                 rcdi: Mapping[str, str] | None = None, crn: str | None = None) -> str:
        """The SIP Identity header value (RFC 8588 §6 / ATIS-1000074 §5.3.1, full form)."""
        token = self.passport(attest=attest, orig=orig, dest=dest, iat=iat, origid=origid, rcd=rcd, rcdi=rcdi,
                              crn=crn)
        return f"{token};info=<{self.x5u}>;alg=ES256;ppt=shaken"  # format_identity's strict form, built directly
