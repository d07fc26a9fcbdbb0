"""Undefined terms: PyLD drops them from the canonical form without a word; we refuse them at sign and verify.

Also the TN context: every term expands into our vocabulary with the declared datatypes, and TN credentials
sign and verify with both suites.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.wallet.dataintegrity import VECTOR_CREATED, VECTOR_DID, VECTOR_VM, did_key_resolver, vector_key
from wallet.dataintegrity import (
    CREDENTIALS_V2_URL,
    TN_CONTEXT_URL,
    ProofError,
    canonize_rdfc,
    check_all_terms_defined,
    document_loader,
    sign,
    verify,
)

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
TN = "https://eidln.example/ns/tn#"
XSD = "http://www.w3.org/2001/XMLSchema#"


def plain_credential() -> dict[str, Any]:
    """A VC 2.0 credential that uses only terms of the credentials v2 context (no examples @vocab)."""
    return {
        "@context": [CREDENTIALS_V2_URL],
        "id": "urn:uuid:9f1f2a3c-0c4e-4a59-8d43-6f5b2a7c1d10",
        "type": ["VerifiableCredential"],
        "name": "Plain credential",
        "issuer": VECTOR_DID,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:enterprise"},
    }


def tn_credential() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2_URL, TN_CONTEXT_URL],
        "id": "urn:uuid:3b0c1f8e-5f0b-4b8e-9a77-0d1e2f3a4b5c",
        "type": ["VerifiableCredential", "TNRightToUseCredential"],
        "issuer": VECTOR_DID,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:eidln:0123456789abcdef0123456789abcdef",
            "legalName": "Example Widgets, Inc.",
            "tnAuthList": [
                {"tn": "12025550100"},
                {"tnRange": {"start": "12025550200", "count": 100}},
                {"spc": "1234"},
            ],
            "mayOriginate": True,
            "mayDelegate": False,
            "parentCredential": "urn:uuid:7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
            "brandName": "Example Widgets",
            "callReason": "Your order has shipped",
            "logo": "https://widgets.example/logo.png",
        },
    }


def enterprise_credential() -> dict[str, Any]:
    return {
        "@context": [CREDENTIALS_V2_URL, TN_CONTEXT_URL],
        "type": ["VerifiableCredential", "EnterpriseIdentityCredential"],
        "issuer": VECTOR_DID,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:eidln:0123456789abcdef0123456789abcdef",
            "legalName": "Example Widgets, Inc.",
            "jurisdiction": "US-DE",
            "registrationNumber": "7654321",
            "lei": "5493001KJTIIGC8Y1R12",
            "vettingLevel": "ov",
            "vettingDate": "2024-12-15",
        },
    }


def _sign(doc: dict[str, Any], suite: str = "eddsa-rdfc-2022") -> dict[str, Any]:
    return sign(doc, vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED, loader=document_loader,
                cryptosuite=suite)


def _refused(doc: dict[str, Any]) -> ProofError:
    with pytest.raises(ProofError) as info:
        check_all_terms_defined(doc, document_loader)
    return info.value


# ------------------------------------------------------------------------------------------------ the trap


def test_pyld_drops_an_undefined_property_silently() -> None:
    """Why the check exists: without it the canonical form, hence the signature, ignores the extra claim."""
    doc = plain_credential()
    doc["credentialSubject"]["telephoneNumber"] = "+12025550100"
    assert canonize_rdfc(doc, document_loader, check_terms=False) == canonize_rdfc(plain_credential(),
                                                                                   document_loader)


@pytest.mark.parametrize("suite", SUITES)
def test_undefined_property_refused_at_sign(suite: str) -> None:
    doc = plain_credential()
    doc["credentialSubject"]["telephoneNumber"] = "+12025550100"
    with pytest.raises(ProofError) as info:
        _sign(doc, suite)
    assert info.value.code == "vc.undefined_term" and "telephoneNumber" in info.value.message


@pytest.mark.parametrize("suite", SUITES)
def test_undefined_property_refused_at_verify(suite: str) -> None:
    signed = _sign(plain_credential(), suite)
    assert verify(signed, key_resolver=did_key_resolver, loader=document_loader).verified
    signed["credentialSubject"]["telephoneNumber"] = "+12025550100"  # added after signing
    result = verify(signed, key_resolver=did_key_resolver, loader=document_loader)
    assert not result.verified and result.codes == ("vc.undefined_term",)
    assert "telephoneNumber" in result.errors[0].message


def test_undefined_term_in_the_proof_is_refused() -> None:
    signed = _sign(plain_credential())
    signed["proof"]["note"] = "not signed by RDFC"
    assert verify(signed, key_resolver=did_key_resolver, loader=document_loader).codes == ("vc.undefined_term",)


def test_all_undefined_terms_are_named() -> None:
    doc = plain_credential()
    doc["telephoneNumber"] = "+1"
    doc["credentialSubject"]["extension"] = "9"
    error = _refused(doc)
    assert error.code == "vc.undefined_term"
    assert "telephoneNumber" in error.message and "extension" in error.message


@pytest.mark.parametrize(("mutate", "code", "name"), [
    (lambda d: d.__setitem__("type", ["VerifiableCredential", "TelephoneCredential"]), "vc.undefined_term",
     "TelephoneCredential"),
    (lambda d: d["credentialSubject"].__setitem__("type", "Enterprise"), "vc.undefined_term", "Enterprise"),
    (lambda d: d.__setitem__("@context", [CREDENTIALS_V2_URL, {"legalName": None}]) or d.__setitem__(
        "legalName", "x"), "vc.undefined_term", "defined as null"),
    (lambda d: d.__setitem__("@foo", "bar"), "vc.undefined_term", "keyword-like"),
    (lambda d: d["credentialSubject"].__setitem__("_:p", "x"), "vc.undefined_term", "_:p"),
    (lambda d: d.__setitem__("id", "credential-42"), "vc.invalid_iri", "credential-42"),
    (lambda d: d["credentialSubject"].__setitem__("id", "urn:x> <urn:y"), "vc.invalid_iri", "urn:x"),
    # inside a list container too (the walk descends into @list, @set, @graph, @included, @reverse)
    (lambda d: d.__setitem__("@context", [CREDENTIALS_V2_URL, {"items": {"@id": "https://example.org/items",
                                                                         "@container": "@list"}}])
     or d["credentialSubject"].__setitem__("items", [{"id": "item-7"}]), "vc.invalid_iri", "item-7"),
    # a relative datatype: PyLD refuses it itself
    (lambda d: d.__setitem__("@context", [CREDENTIALS_V2_URL, {"weight": {"@id": "https://example.org/w",
                                                                          "@type": "kg"}}])
     or d.__setitem__("weight", "3"), "vc.invalid_jsonld", "absolute IRI"),
    (lambda d: d.__setitem__("description", {"@value": "3", "@type": "kg"}), "vc.invalid_jsonld", "absolute IRI"),
])
def test_what_rdfc_would_drop_or_garble(mutate: Any, code: str, name: str) -> None:
    doc = plain_credential()
    mutate(doc)
    error = _refused(doc)
    assert error.code == code and name in error.message


def test_protected_terms_cannot_be_redefined() -> None:
    doc = plain_credential()
    doc["@context"] = [CREDENTIALS_V2_URL, {"name": "https://evil.example/name"}]
    assert _refused(doc).code == "vc.invalid_jsonld"


def test_the_examples_context_defines_everything() -> None:
    """credentials/examples/v2 is one @vocab: any term is 'defined'. It is for examples and test vectors only."""
    doc = plain_credential()
    doc["@context"] = [CREDENTIALS_V2_URL, "https://www.w3.org/ns/credentials/examples/v2"]
    doc["credentialSubject"]["telephoneNumber"] = "+12025550100"
    check_all_terms_defined(doc, document_loader)


def test_check_returns_the_expansion_and_leaves_the_input_alone() -> None:
    doc = tn_credential()
    before = copy.deepcopy(doc)
    expanded = check_all_terms_defined(doc, document_loader)
    assert doc == before
    assert expanded[0]["@type"] == ["https://www.w3.org/2018/credentials#VerifiableCredential",
                                    TN + "TNRightToUseCredential"]


def test_check_needs_a_document_object() -> None:
    with pytest.raises(TypeError):
        check_all_terms_defined("https://example.com/doc.json", document_loader)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ TN context


def test_tn_terms_expand_into_our_vocabulary() -> None:
    nquads = canonize_rdfc(tn_credential(), document_loader)
    assert f"<{TN}tn> \"12025550100\" ." in nquads
    assert f"<{TN}start> \"12025550200\" ." in nquads
    assert f"<{TN}count> \"100\"^^<{XSD}integer> ." in nquads
    assert f"<{TN}mayOriginate> \"true\"^^<{XSD}boolean> ." in nquads
    assert f"<{TN}mayDelegate> \"false\"^^<{XSD}boolean> ." in nquads
    assert f"<{TN}parentCredential> <urn:uuid:7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e> ." in nquads
    assert f"<{TN}logo> <https://widgets.example/logo.png> ." in nquads
    assert f"<{TN}brandName> \"Example Widgets\" ." in nquads
    assert f"<{TN}callReason> \"Your order has shipped\" ." in nquads
    assert f"<{TN}spc> \"1234\" ." in nquads
    assert f"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{TN}TNRightToUseCredential> ." in nquads
    assert nquads.count(f"<{TN}tnAuthList> _:c14n") == 3


def test_enterprise_terms() -> None:
    nquads = canonize_rdfc(enterprise_credential(), document_loader)
    assert f"<{TN}vettingDate> \"2024-12-15\"^^<{XSD}date> ." in nquads
    for term in ("legalName", "jurisdiction", "registrationNumber", "lei", "vettingLevel"):
        assert f"<{TN}{term}> " in nquads
    assert f"<{TN}EnterpriseIdentityCredential> ." in nquads


def test_delegation_type() -> None:
    doc = tn_credential()
    doc["type"] = ["VerifiableCredential", "TNDelegationCredential"]
    assert f"<{TN}TNDelegationCredential> ." in canonize_rdfc(doc, document_loader)


def test_a_misspelt_tn_term_is_refused() -> None:
    doc = tn_credential()
    doc["credentialSubject"]["tnAuthlist"] = doc["credentialSubject"].pop("tnAuthList")
    error = _refused(doc)
    assert error.code == "vc.undefined_term" and "tnAuthlist" in error.message


def test_tn_terms_are_protected() -> None:
    doc = tn_credential()
    doc["@context"] = [CREDENTIALS_V2_URL, TN_CONTEXT_URL, {"tn": "https://evil.example/tn"}]
    assert _refused(doc).code == "vc.invalid_jsonld"


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("make", [tn_credential, enterprise_credential])
def test_tn_credentials_sign_and_verify(suite: str, make: Any) -> None:
    signed = _sign(make(), suite)
    result = verify(signed, key_resolver=did_key_resolver, loader=document_loader)
    assert result.verified, result.errors
    signed["credentialSubject"]["legalName"] = "Mallory Holdings"
    assert verify(signed, key_resolver=did_key_resolver, loader=document_loader).codes == ("vc.signature_invalid",)


@pytest.mark.parametrize("suite", SUITES)
def test_changing_a_tn_is_caught(suite: str) -> None:
    signed = _sign(tn_credential(), suite)
    signed["credentialSubject"]["tnAuthList"][0]["tn"] = "12025550199"
    assert verify(signed, key_resolver=did_key_resolver, loader=document_loader).codes == ("vc.signature_invalid",)
