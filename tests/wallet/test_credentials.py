"""Credential shapes and the ledger anchor derived from their content."""

from __future__ import annotations

import json

import pytest

from contracts.vocab import Flags, Kind, TNRange, credential_key
from did_method.syntax import format_did
from wallet.credentials import (
    CredentialError,
    anchor_of,
    credential_bytes,
    enterprise_identity,
    ranges_of,
    tn_auth_list,
    tn_delegation,
    tn_right_to_use,
)

TNSP, ENT, CC = (format_did("local", bytes([i]) * 16) for i in (1, 2, 3))
T0, T1 = 1_800_000_000, 1_900_000_000


def test_tn_auth_list_round_trip() -> None:
    ranges = (TNRange(12025550100, 10), TNRange(12025550143), TNRange(12025550110, 5))
    entries = tn_auth_list(ranges)
    assert entries == [{"tnRange": {"start": "12025550100", "count": 15}}, {"tn": "12025550143"}]
    assert ranges_of(entries) == (TNRange(12025550100, 15), TNRange(12025550143))
    for bad in ([], [{"tn": 12025550143}], [{"tn": "+1202"}], [{"tnRange": {"start": "1", "count": 0}}],
                [{"tnRange": {"start": "1", "count": True}}], [{"tn": "1", "x": 1}], "12025550143"):
        with pytest.raises(CredentialError):
            ranges_of(bad)


def test_anchor_from_content() -> None:
    grant = tn_right_to_use(issuer=TNSP, subject=ENT, ranges=(TNRange(12025550100, 100),), valid_from=T0,
                            valid_until=T1, credential_id="urn:uuid:grant-1")
    a = anchor_of(grant)
    assert (a.kind, a.flags, a.tns) == (Kind.TN_RIGHT_TO_USE, Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE,
                                        (TNRange(12025550100, 100),))
    assert a.id == credential_key("urn:uuid:grant-1") and a.valid_from == T0 and a.valid_until == T1
    assert a.credential == credential_bytes(grant)
    d = tn_delegation(issuer=ENT, subject=CC, parent="urn:uuid:grant-1", ranges=(TNRange(12025550100, 10),),
                      may_delegate=False, valid_from=T0, valid_until=T1)
    ad = anchor_of(d)
    assert ad.parent == a.id and ad.flags == Flags.MAY_ORIGINATE and ad.kind == Kind.TN_DELEGATION
    ident = enterprise_identity(issuer=TNSP, subject=ENT, legal_name="Acme Corp", jurisdiction="US-DE",
                                lei="5493001KJTIIGC8Y1R12", vetting_level="full", vetting_date="2026-11-01",
                                valid_from=T0, valid_until=T1)
    assert anchor_of(ident).kind == Kind.ENTERPRISE_IDENTITY and anchor_of(ident).tns == ()


def test_malformed_credentials() -> None:
    good = tn_right_to_use(issuer=TNSP, subject=ENT, ranges=(TNRange(12025550100),), valid_from=T0, valid_until=T1)
    for mutate, code in [
        (lambda v: v.update(type=["VerifiableCredential"]), "wallet.unknown_kind"),
        (lambda v: v.update(type=["VerifiableCredential", "TNRightToUseCredential", "TNDelegationCredential"]),
         "wallet.unknown_kind"),
        (lambda v: v["credentialSubject"].update(mayOriginate="yes"), "wallet.bad_credential"),
        (lambda v: v.update(validUntil="tomorrow"), "wallet.bad_credential"),
        (lambda v: v.update(validFrom="2026-01-01T00:00:00"), "wallet.bad_credential"),
        (lambda v: v.pop("issuer"), "wallet.bad_credential"),
    ]:
        vc = {**good, "credentialSubject": dict(good["credentialSubject"])}
        mutate(vc)
        with pytest.raises(CredentialError) as exc:
            anchor_of(vc)
        assert exc.value.code == code
    with pytest.raises(CredentialError):
        tn_right_to_use(issuer=TNSP, subject=ENT, ranges=(TNRange(1),), valid_from=T1, valid_until=T0)
    with pytest.raises(CredentialError):
        enterprise_identity(issuer=TNSP, subject=ENT, legal_name="X", jurisdiction="US", vetting_level="basic",
                            vetting_date="2026-01-01", valid_from=T0, valid_until=T1)


@pytest.mark.parametrize("entry", [{"tn": "²"}, {"tn": "١٢٠٢٥٥٥٠١٠٠"}, {"tn": "1" * 16}, {"tn": "1" * 5000},
                                   {"tnRange": {"start": "²²²", "count": 2}}])
def test_tn_auth_list_numbers_are_ascii_e164_digits(entry: dict[str, object]) -> None:
    """str.isdigit() alone takes digits int() refuses: a ValueError escaped instead of CredentialError."""
    with pytest.raises(CredentialError):
        ranges_of([entry])


def test_credential_bytes_are_canonical_json() -> None:
    grant = tn_right_to_use(issuer=TNSP, subject=ENT, ranges=(TNRange(12025550100),), valid_from=T0, valid_until=T1,
                            credential_id="urn:uuid:grant-1")
    raw = credential_bytes({**grant, "name": "Café/€"})  # the anchored bytes: sorted, compact, UTF-8, "/" as is
    assert raw == json.dumps({**grant, "name": "Café/€"}, sort_keys=True, separators=(",", ":"),
                             ensure_ascii=False).encode("utf-8")
    assert raw.startswith(b'{"@context":["https://www.w3.org/ns/credentials/v2",') and "Café/€".encode() in raw
    for bad in (float("nan"), "\ud800"):
        with pytest.raises(CredentialError) as info:
            credential_bytes({**grant, "name": bad})
        assert info.value.code == "wallet.bad_credential"
