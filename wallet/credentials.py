"""The three credential kinds of the TN ledger, as W3C VC Data Model 2.0 documents, and their ledger anchors.

One home for the credential's shape: the builders here produce the unsigned documents; the Data Integrity
layer (``wallet.dataintegrity``) signs and verifies them; :func:`anchor_of` derives the record the ledger
keeps from a credential's own content, so that the node can check, at sync, that what the chain recorded
is what the issuer signed.

Telephone numbers follow RFC 8226 TNAuthList semantics: ``{"tn": "<E.164 digits>"}`` for one number,
``{"tnRange": {"start": "<digits>", "count": n}}`` for ``n`` numbers from ``start``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from contracts.vocab import MAX_CREDENTIAL, Anchor, Flags, Kind, TNRange, canonical_ranges, credential_key
from did_method.syntax import parse_did
from did_method.timefmt import parse_date_time_stamp, xml_datetime
from wallet import strictjson
from wallet.errors import WalletError
from wallet.passport.rcd import check_integrity

__all__ = ["VC_CONTEXT", "TN_CONTEXT", "TYPES", "ROLES", "enterprise_identity", "tn_right_to_use", "tn_delegation",
           "anchor_of", "credential_bytes", "tn_auth_list", "ranges_of", "role_of", "role_of_anchored",
           "CredentialError"]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
TN_CONTEXT = "https://eidln.example/ns/tn/v2"  # new credentials; v1 ones still verify (wallet.dataintegrity.loader)
TYPES = {Kind.ENTERPRISE_IDENTITY: "EnterpriseIdentityCredential", Kind.TN_RIGHT_TO_USE: "TNRightToUseCredential",
         Kind.TN_DELEGATION: "TNDelegationCredential"}
_KIND_OF = {v: k for k, v in TYPES.items()}
# What the subject of a grant or delegation is to the numbers (docs/attestation.md §2.1): the enterprise the calls
# are for, a vendor (call center, BPO) originating on an enterprise's behalf, a platform (hosted PBX, UCaaS, CPaaS)
# relaying or originating for its tenants, a reseller.
ROLES = ("enterprise", "vendor", "platform", "reseller")
_DEFAULT_ROLE = {Kind.TN_RIGHT_TO_USE: "enterprise", Kind.TN_DELEGATION: "vendor"}  # a v1 credential has no role


class CredentialError(WalletError):
    """A credential whose content is not one of the ledger's kinds, or is internally inconsistent."""

    def __init__(self, message: str, *, code: str = "wallet.bad_credential") -> None:
        super().__init__(message, code=code)


def _epoch(text: Any, field: str) -> int:
    ts = parse_date_time_stamp(text)
    if ts is None:
        raise CredentialError(f"{field} {text!r} is not an XML Schema dateTimeStamp (time zone required)")
    return ts


def tn_auth_list(ranges: Sequence[TNRange]) -> list[dict[str, Any]]:
    """TN ranges as TNAuthList entries (canonical order, merged)."""
    return [{"tn": str(r.start)} if r.count == 1 else {"tnRange": {"start": str(r.start), "count": r.count}}
            for r in canonical_ranges(ranges)]


def _digits(text: str) -> bool:
    """At most 15 ASCII digits (E.164): ``str.isdigit()`` alone also takes ``"²"``, which ``int()`` refuses."""
    return len(text) <= 15 and text.isascii() and text.isdigit()


def ranges_of(entries: Any) -> tuple[TNRange, ...]:
    """TNAuthList entries back to canonical ranges; malformed entries raise CredentialError."""
    if not isinstance(entries, list) or not entries:
        raise CredentialError("tnAuthList must be a non-empty list")
    out = []
    for e in entries:
        if isinstance(e, Mapping) and set(e) == {"tn"} and isinstance(e["tn"], str) and _digits(e["tn"]):
            out.append(TNRange(int(e["tn"]), 1))
        elif (isinstance(e, Mapping) and set(e) == {"tnRange"} and isinstance(e["tnRange"], Mapping)
              and set(e["tnRange"]) == {"start", "count"} and isinstance(e["tnRange"]["start"], str)
              and _digits(e["tnRange"]["start"]) and type(e["tnRange"]["count"]) is int
              and e["tnRange"]["count"] >= 1):
            out.append(TNRange(int(e["tnRange"]["start"]), e["tnRange"]["count"]))
        else:
            raise CredentialError(f"malformed tnAuthList entry {json.dumps(e)[:80]}")
    return canonical_ranges(out)


def _base(kind: Kind, issuer: str, subject: dict[str, Any], valid_from: int, valid_until: int,
          credential_id: str | None) -> dict[str, Any]:
    parse_did(issuer)
    parse_did(subject["id"])
    if valid_from >= valid_until:
        raise CredentialError("validFrom must be before validUntil")
    return {"@context": [VC_CONTEXT, TN_CONTEXT], "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", TYPES[kind]], "issuer": issuer, "validFrom": xml_datetime(valid_from),
            "validUntil": xml_datetime(valid_until), "credentialSubject": subject}


def enterprise_identity(*, issuer: str, subject: str, legal_name: str, jurisdiction: str, vetting_level: str,
                        vetting_date: str, valid_from: int, valid_until: int, registration_number: str | None = None,
                        lei: str | None = None, credential_id: str | None = None, brand_name: str | None = None,
                        call_reason: str | Sequence[str] | None = None, logo: str | None = None,
                        logo_integrity: str | None = None,
                        evidence: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """A vetting agency's statement of who an enterprise is (KYC), optionally with the vetted brand an OSP or
    TSP may show (RFC 9795 rich call data: ``brandName`` ~ ``nam``, ``logo`` ~ ``icn`` (an https URL) with
    ``logoIntegrity`` ~ its ``rcdi`` digest (``sha256-<base64>``; without it an OSP does not pass the logo on),
    ``callReason`` ~ the call reasons ``crn`` may carry), and the ``evidence`` of how it was vetted (VC 2.0
    ``evidence``: the DID Auth proof)."""
    if logo is not None and not logo.startswith("https://"):
        raise CredentialError("logo must be an https URL")
    if logo_integrity is not None and logo is None:
        raise CredentialError("logoIntegrity is the digest of a logo: give the logo too")
    if logo_integrity is not None and not check_integrity(logo_integrity):
        raise CredentialError("logoIntegrity must be an RFC 9795 integrity string (sha256-<base64 of the digest>)")
    reasons = [call_reason] if isinstance(call_reason, str) else list(call_reason or [])
    if any(not isinstance(r, str) or not r for r in reasons):
        raise CredentialError("a call reason is a non-empty string")
    if not (registration_number or lei):
        raise CredentialError("an enterprise identity needs a registration number or an LEI")
    subj: dict[str, Any] = {"id": subject, "legalName": legal_name, "jurisdiction": jurisdiction,
                            "vettingLevel": vetting_level, "vettingDate": vetting_date}
    if registration_number:
        subj["registrationNumber"] = registration_number
    if lei:
        subj["lei"] = lei
    for name, value in (("brandName", brand_name), ("callReason", reasons), ("logo", logo),
                        ("logoIntegrity", logo_integrity)):
        if value:
            subj[name] = value
    vc = _base(Kind.ENTERPRISE_IDENTITY, issuer, subj, valid_from, valid_until, credential_id)
    if evidence:
        vc["evidence"] = [dict(e) for e in evidence]
    return vc


def _role(role: str) -> str:
    if role not in ROLES:
        raise CredentialError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def tn_right_to_use(*, issuer: str, subject: str, ranges: Sequence[TNRange], may_originate: bool = True,
                    may_delegate: bool = True, valid_from: int, valid_until: int,
                    credential_id: str | None = None, role: str = "enterprise") -> dict[str, Any]:
    """A TNSP's (or Resp Org's) grant of the right to use numbers it holds, to a subject in ``role`` (an enterprise,
    or a platform / reseller that passes numbers on to its tenants or customers)."""
    subj = {"id": subject, "role": _role(role), "tnAuthList": tn_auth_list(ranges), "mayOriginate": may_originate,
            "mayDelegate": may_delegate}
    return _base(Kind.TN_RIGHT_TO_USE, issuer, subj, valid_from, valid_until, credential_id)


def tn_delegation(*, issuer: str, subject: str, parent: str, ranges: Sequence[TNRange], may_originate: bool = True,
                  may_delegate: bool = False, valid_from: int, valid_until: int,
                  credential_id: str | None = None, role: str = "vendor") -> dict[str, Any]:
    """A holder's delegation of some of its numbers (non-exclusive) to a subject in ``role``: a vendor (call
    center, BPO), a platform (CPaaS, hosted PBX), a reseller, or an enterprise (a tenant on a platform's or a
    reseller's numbers)."""
    subj = {"id": subject, "role": _role(role), "parentCredential": parent, "tnAuthList": tn_auth_list(ranges),
            "mayOriginate": may_originate, "mayDelegate": may_delegate}
    return _base(Kind.TN_DELEGATION, issuer, subj, valid_from, valid_until, credential_id)


def credential_bytes(vc: Mapping[str, Any]) -> bytes:
    """The bytes anchored on the ledger: the canonical JSON (:func:`wallet.strictjson.canonical`) of the signed
    credential. A credential that is not JSON (``NaN``, a lone surrogate) is ``wallet.bad_credential``."""
    try:
        return strictjson.canonical(vc)
    except strictjson.JsonError as exc:
        raise CredentialError(f"the credential is not JSON ({exc.message})") from None


def role_of(vc: Mapping[str, Any]) -> str | None:
    """The ``role`` of a grant's or delegation's subject; a credential without one (TN context v1) reads as
    ``enterprise`` for a grant and ``vendor`` for a delegation; ``None`` for other kinds or a role outside
    :data:`ROLES` (the caller refuses it)."""
    types = vc.get("type")
    kinds = [_KIND_OF[t] for t in types if t in _KIND_OF] if isinstance(types, list) else []
    if len(kinds) != 1 or kinds[0] not in _DEFAULT_ROLE:
        return None
    subject = vc.get("credentialSubject")
    role = subject.get("role", _DEFAULT_ROLE[kinds[0]]) if isinstance(subject, Mapping) else None
    return role if role in ROLES else None


def role_of_anchored(credential: bytes, kind: int) -> str:
    """The subject's role in a grant or delegation as anchored (the signed credential's bytes from the ledger event);
    the kind's default when the bytes carry none (TN context v1) and ``""`` for other kinds. For the node's index,
    which keeps only credentials it verified at sync: unreadable bytes give the default, never an error."""
    default = _DEFAULT_ROLE.get(Kind(kind)) if kind in (Kind.TN_RIGHT_TO_USE, Kind.TN_DELEGATION) else None
    if default is None:
        return ""
    try:
        vc = strictjson.loads(credential, max_bytes=MAX_CREDENTIAL)
    except strictjson.JsonError:
        return default
    return (role_of(vc) if isinstance(vc, Mapping) else None) or default


def anchor_of(vc: Mapping[str, Any]) -> Anchor:
    """The ledger record this credential must have, derived only from the credential's content."""
    types = vc.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise CredentialError("not a verifiable credential (type)")
    kinds = [_KIND_OF[t] for t in types if t in _KIND_OF]
    if len(kinds) != 1:
        raise CredentialError(f"exactly one TN ledger credential type expected, got {types}",
                              code="wallet.unknown_kind")
    kind = kinds[0]
    subject = vc.get("credentialSubject")
    if not isinstance(subject, Mapping) or not isinstance(vc.get("id"), str) or not isinstance(vc.get("issuer"), str):
        raise CredentialError("id, issuer and credentialSubject are required")
    issuer, subj = parse_did(vc["issuer"]), parse_did(subject.get("id", ""))
    flags, parent = Flags.NONE, b"\x00" * 32
    tns: tuple[TNRange, ...] = ()
    if kind != Kind.ENTERPRISE_IDENTITY:
        if "role" in subject and subject["role"] not in ROLES:
            raise CredentialError(f"role {str(subject['role'])[:40]!r} is not one of {', '.join(ROLES)}")
        for name in ("mayOriginate", "mayDelegate"):
            if type(subject.get(name)) is not bool:
                raise CredentialError(f"{name} must be true or false")
        flags = (Flags.MAY_ORIGINATE if subject["mayOriginate"] else Flags.NONE) | (
            Flags.MAY_DELEGATE if subject["mayDelegate"] else Flags.NONE)
        tns = ranges_of(subject.get("tnAuthList"))
    if kind == Kind.TN_DELEGATION:
        if not isinstance(subject.get("parentCredential"), str):
            raise CredentialError("a delegation names its parentCredential")
        parent = credential_key(subject["parentCredential"])
    return Anchor(id=credential_key(vc["id"]), kind=kind, issuer=issuer.ident, subject=subj.ident,
                  credential=credential_bytes(vc), valid_from=_epoch(vc.get("validFrom"), "validFrom"),
                  valid_until=_epoch(vc.get("validUntil"), "validUntil"), parent=parent, flags=flags, tns=tns)
