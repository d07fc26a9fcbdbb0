"""eddsa-rdfc-2022 on the W3C vc-di-eddsa vectors, byte for byte; tampering; policy checks; verify never raises."""

from __future__ import annotations

import copy
import hashlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from did_method.ident import KeyType
from did_method.syntax import b58encode
from tests.wallet.dataintegrity import (
    VECTOR_CREATED,
    VECTOR_DID,
    VECTOR_VM,
    did_key_resolver,
    vector_bytes,
    vector_json,
    vector_key,
)
from wallet.dataintegrity import (
    ProofError,
    VerificationResult,
    canonical_forms,
    canonize_rdfc,
    document_loader,
    sign,
    verify,
)
from wallet.dataintegrity.canon import jsonld_options
from wallet.keys import P256Key
from wallet.keys import verify as verify_signature

SUITE = "eddsa-rdfc-2022"
DIR = "eddsa-rdfc-2022/"
# did:key of the RFC 8032-style seed 00..01 (w3c-ccg did-method-key vector 2): a real key that did not sign.
OTHER_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
OTHER_VM = OTHER_DID + "#z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"


def text(name: str) -> str:
    return vector_bytes(DIR + name).decode("utf-8").strip()


def signed() -> dict[str, Any]:
    result: dict[str, Any] = vector_json(DIR + "signedDataInt.json")
    return result


def check(document: Any, **kwargs: Any) -> VerificationResult:
    kwargs.setdefault("key_resolver", did_key_resolver)
    return verify(document, loader=document_loader, **kwargs)


def proof_options() -> dict[str, Any]:
    config = vector_json(DIR + "proofConfigDataInt.json")
    del config["@context"]
    return dict(config)


# ------------------------------------------------------------------------------------------------ vectors


def test_canonical_document_is_byte_exact() -> None:
    nquads = canonize_rdfc(vector_json("unsigned.json"), document_loader)
    assert nquads.encode() == vector_bytes(DIR + "canonDocDataInt.txt")  # including the final "\n"
    assert hashlib.sha256(nquads.encode()).hexdigest() == text("docHashDataInt.txt")


def test_same_output_as_pyld_normalize_urdna2015() -> None:
    doc = vector_json("unsigned.json")
    options = {**jsonld_options(document_loader), "algorithm": "URDNA2015", "format": "application/n-quads"}
    assert canonize_rdfc(doc, document_loader) == jsonld.normalize(doc, options)


def test_proof_config_canonical_form_is_byte_exact() -> None:
    config = vector_json(DIR + "proofConfigDataInt.json")
    assert canonize_rdfc(config, document_loader).encode() == vector_bytes(DIR + "proofCanonDataInt.txt")


def test_canonical_forms_and_hashes() -> None:
    forms = canonical_forms(vector_json("unsigned.json"), proof_options(), loader=document_loader)
    assert forms.proof_config == vector_bytes(DIR + "proofCanonDataInt.txt")
    assert forms.document == vector_bytes(DIR + "canonDocDataInt.txt")
    assert hashlib.sha256(forms.proof_config).hexdigest() == text("proofHashDataInt.txt")
    assert hashlib.sha256(forms.document).hexdigest() == text("docHashDataInt.txt")
    assert forms.hash_data.hex() == text("combinedHashDataInt.txt")


def test_sign_reproduces_the_vector() -> None:
    out = sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,
               loader=document_loader, cryptosuite=SUITE)
    assert out == signed()
    assert list(out["proof"]) == list(signed()["proof"])  # same key order as the vector
    assert out["proof"]["proofValue"] == text("sigBTC58DataInt.txt")
    assert "@context" not in out["proof"]
    assert out["proof"]["proofValue"] == "z" + b58encode(bytes.fromhex(text("sigHexDataInt.txt")))


def test_sign_accepts_an_aware_datetime() -> None:
    created = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
    out = sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=created,
               loader=document_loader)
    assert out == signed()


def test_sign_does_not_touch_its_input() -> None:
    doc = vector_json("unsigned.json")
    before = copy.deepcopy(doc)
    sign(doc, vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED, loader=document_loader)
    assert doc == before


def test_verify_the_vector() -> None:
    result = check(signed(), now=datetime(2025, 1, 1, tzinfo=UTC))
    assert result.verified and result.errors == ()
    assert result.verification_method == VECTOR_VM and result.cryptosuite == SUITE
    assert result.created == datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)


def test_a_proof_set_of_one_verifies() -> None:
    doc = signed()
    doc["proof"] = [doc["proof"]]
    assert check(doc).verified


def test_resolver_gets_the_vm_and_created() -> None:
    seen: list[tuple[str, datetime]] = []

    def resolver(vm: str, created: datetime) -> tuple[KeyType, bytes]:
        seen.append((vm, created))
        return did_key_resolver(vm, created)

    assert check(signed(), key_resolver=resolver).verified
    assert seen == [(VECTOR_VM, datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC))]


class TestEnhancedVector:
    """employmentAuth.json: its context (w3id.org/citizenship/v4rc1) is not bundled, so it is refused, not fetched.

    The hashing and signing layer is still checked on the vector's own canonical forms.
    """

    def test_refused_for_its_context(self) -> None:
        result = check(vector_json(DIR + "employ/signedDataInt.json"))
        assert not result.verified and result.codes == ("vc.context_not_allowed",)
        assert "citizenship" in result.errors[0].message

    def test_hashes_and_signature(self) -> None:
        doc_c = vector_bytes(DIR + "employ/canonDocDataInt.txt")
        proof_c = vector_bytes(DIR + "employ/proofCanonDataInt.txt")
        assert proof_c == vector_bytes(DIR + "proofCanonDataInt.txt")  # no context term in the proof config
        assert hashlib.sha256(doc_c).hexdigest() == text("employ/docHashDataInt.txt")
        assert hashlib.sha256(proof_c).hexdigest() == text("employ/proofHashDataInt.txt")
        hash_data = hashlib.sha256(proof_c).digest() + hashlib.sha256(doc_c).digest()
        assert hash_data.hex() == text("employ/combinedHashDataInt.txt")
        key = vector_key()
        signature = key.sign(hash_data)
        assert signature.hex() == text("employ/sigHexDataInt.txt")
        assert "z" + b58encode(signature) == text("employ/sigBTC58DataInt.txt")
        signed_vector = vector_json(DIR + "employ/signedDataInt.json")
        assert signed_vector["proof"]["proofValue"] == text("employ/sigBTC58DataInt.txt")
        assert verify_signature(KeyType.ED25519, key.public_key, hash_data, signature)


# ------------------------------------------------------------------------------------------------ tampering


def _tampered(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = signed()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize(("path", "value"), [
    (("credentialSubject", "alumniOf"), "The School of Forgery"),
    (("credentialSubject", "id"), "did:example:mallory"),
    (("validFrom",), "2020-01-01T00:00:00Z"),
    (("issuer",), "https://vc.example/issuers/9999"),
    (("type",), ["VerifiableCredential"]),
    (("proof", "created"), "2023-02-24T23:36:39Z"),
    (("proof", "proofPurpose"), "authentication"),
])
def test_tampering_breaks_the_signature(path: tuple[str, ...], value: Any) -> None:
    purpose = value if path == ("proof", "proofPurpose") else "assertionMethod"
    result = check(_tampered(path, value), expected_purpose=purpose)
    assert not result.verified and result.codes == ("vc.signature_invalid",)


def test_another_key_does_not_verify() -> None:
    result = check(_tampered(("proof", "verificationMethod"), OTHER_VM))
    assert result.codes == ("vc.signature_invalid",)


def test_changed_proof_value() -> None:
    value = signed()["proof"]["proofValue"]
    flipped = value[:10] + ("3" if value[10] != "3" else "4") + value[11:]
    assert check(_tampered(("proof", "proofValue"), flipped)).codes[0] in {"vc.signature_invalid", "vc.bad_proof_value"}
    other = "z" + b58encode(bytes(64))
    assert check(_tampered(("proof", "proofValue"), other)).codes == ("vc.signature_invalid",)


@pytest.mark.parametrize("value", [None, 5, "", "z", "u" + "A" * 86, "z0OIl", "z" + b58encode(bytes(63)),
                                   "z" + b58encode(b"\1" * 65), "z" + "2" * 500])
def test_malformed_proof_value(value: object) -> None:
    assert check(_tampered(("proof", "proofValue"), value)).codes == ("vc.bad_proof_value",)


def test_wrong_purpose() -> None:
    result = check(signed(), expected_purpose="authentication")
    assert not result.verified and result.codes == ("vc.wrong_purpose",)


@pytest.mark.parametrize(("field", "value", "code"), [
    ("type", "Ed25519Signature2020", "vc.unsupported_cryptosuite"),
    ("cryptosuite", "ecdsa-rdfc-2019", "vc.unsupported_cryptosuite"),
    ("cryptosuite", None, "vc.unsupported_cryptosuite"),
    ("created", "yesterday", "vc.proof_malformed"),
    ("created", "2023-02-24T23:36:38", "vc.proof_malformed"),  # no time zone
    ("created", "2023-02-30T23:36:38Z", "vc.proof_malformed"),
    ("created", None, "vc.proof_malformed"),
    ("verificationMethod", 7, "vc.proof_malformed"),
    ("proofPurpose", ["assertionMethod"], "vc.proof_malformed"),
])
def test_malformed_proof_fields(field: str, value: object, code: str) -> None:
    doc = signed()
    if value is None:
        del doc["proof"][field]
    else:
        doc["proof"][field] = value
    assert check(doc).codes == (code,)


@pytest.mark.parametrize(("proof", "code"), [
    (None, "vc.proof_missing"),
    ("z2YwC8z3", "vc.proof_malformed"),
    ([], "vc.proof_set_unsupported"),
])
def test_missing_or_odd_proof(proof: object, code: str) -> None:
    doc = signed()
    if proof is None:
        del doc["proof"]
    else:
        doc["proof"] = proof
    assert check(doc).codes == (code,)


def test_two_proofs_are_not_supported() -> None:
    doc = signed()
    doc["proof"] = [doc["proof"], doc["proof"]]
    assert check(doc).codes == ("vc.proof_set_unsupported",)


def test_created_in_the_future() -> None:
    before = datetime(2023, 2, 24, 23, 36, 37, tzinfo=UTC)
    assert check(signed(), now=before).codes == ("vc.created_in_future",)
    assert check(signed(), now=before, max_clock_skew=timedelta(seconds=1)).verified
    assert check(signed(), now=before + timedelta(seconds=1)).verified


def test_expires() -> None:
    doc = sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,
               expires="2024-01-01T00:00:00Z", loader=document_loader)
    assert check(doc, now=datetime(2023, 12, 31, tzinfo=UTC)).verified
    assert check(doc, now=datetime(2024, 1, 1, tzinfo=UTC)).codes == ("vc.proof_expired",)
    assert check(doc).verified  # no clock, no time checks


def test_resolver_failures() -> None:
    def boom(vm: str, created: datetime) -> tuple[KeyType, bytes]:
        raise LookupError("unknown DID")

    result = check(signed(), key_resolver=boom)
    assert result.codes == ("vc.key_not_found",) and "unknown DID" in result.errors[0].message
    assert check(signed(), key_resolver=lambda vm, created: None).codes == ("vc.key_not_found",)
    p256 = P256Key.generate().public_key
    assert check(signed(), key_resolver=lambda vm, created: (KeyType.P256, p256)).codes == ("vc.wrong_key_type",)
    assert check(signed(), key_resolver=lambda vm, created: (KeyType.ED25519, b"\0" * 31)).codes == (
        "vc.key_not_found",)


# ------------------------------------------------------------------------------------------------ sign misuse


def test_sign_refuses_a_p256_signer() -> None:
    with pytest.raises(ProofError) as info:
        sign(vector_json("unsigned.json"), P256Key.generate(), verification_method=VECTOR_VM,
             created=VECTOR_CREATED, loader=document_loader)
    assert info.value.code == "vc.wrong_key_type"


def test_sign_refuses_a_signed_document() -> None:
    with pytest.raises(ProofError) as info:
        sign(signed(), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED, loader=document_loader)
    assert info.value.code == "vc.proof_exists"


def test_sign_refuses_other_cryptosuites() -> None:
    with pytest.raises(ProofError) as info:
        sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,
             loader=document_loader, cryptosuite="ecdsa-rdfc-2019")
    assert info.value.code == "vc.unsupported_cryptosuite"


@pytest.mark.parametrize("created", ["2023-02-24", "2023-02-24T23:36:38", datetime(2023, 2, 24)])
def test_sign_refuses_bad_created(created: Any) -> None:
    with pytest.raises((ProofError, ValueError)):
        sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=created,
             loader=document_loader)


def test_misuse_raises() -> None:
    with pytest.raises(TypeError):
        sign("{}", vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,  # type: ignore[arg-type]
             loader=document_loader)
    with pytest.raises(TypeError):
        sign({}, object(), verification_method=VECTOR_VM, created=VECTOR_CREATED,  # type: ignore[arg-type]
             loader=document_loader)
    with pytest.raises(TypeError):
        check(signed(), now=datetime(2025, 1, 1))  # naive clock


# ------------------------------------------------------------------------------------------------ RDFC work budget


def _tree(branching: int, depth: int) -> dict[str, Any]:
    return {"v": "1"} if depth == 0 else {"c": [_tree(branching, depth - 1) for _ in range(branching)]}


@pytest.mark.parametrize("doc", [
    # 111 identical nested blank nodes: minutes in plain PyLD URDNA2015
    {"@context": {"@vocab": "https://example.org/"}, **_tree(10, 2)},
    # a clique of 8 blank nodes: about 45 s in plain PyLD URDNA2015
    {"@context": {"p": {"@id": "https://example.org/p", "@type": "@id"}},
     "@graph": [{"@id": f"_:b{i}", "p": [f"_:b{j}" for j in range(8) if j != i]} for i in range(8)]},
])
def test_poison_graphs_are_refused_quickly(doc: dict[str, Any]) -> None:
    start = time.perf_counter()
    with pytest.raises(ProofError) as info:
        canonize_rdfc(doc, document_loader)
    assert info.value.code == "vc.canonicalization_too_complex"
    assert time.perf_counter() - start < 2


def test_a_few_identical_blank_nodes_still_canonicalize() -> None:
    doc = {"@context": {"@vocab": "https://example.org/"}, "entry": [{"x": {"y": "1"}} for _ in range(6)]}
    assert canonize_rdfc(doc, document_loader).count("\n") == 18


# ------------------------------------------------------------------------------------------------ never raises

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=25,
)
_KEYS = st.sampled_from(["@context", "@id", "@type", "@graph", "@list", "@value", "@reverse", "@included", "id",
                         "type", "proof", "proofValue", "cryptosuite", "created", "verificationMethod",
                         "proofPurpose", "credentialSubject", "issuer", "alumniOf", "expires"]) | st.text(max_size=8)
_PLACES = st.sampled_from([(), ("proof",), ("credentialSubject",)])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON)
def test_verify_never_raises_on_random_json(value: Any) -> None:
    result = check(value)
    assert isinstance(result, VerificationResult) and not result.verified and result.errors


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(place=_PLACES, key=_KEYS, value=_JSON, suite=st.sampled_from(["rdfc", "jcs"]))
def test_verify_never_raises_on_mutated_vectors(place: tuple[str, ...], key: str, value: Any, suite: str) -> None:
    doc = signed() if suite == "rdfc" else vector_json("eddsa-jcs-2022/signedJCS.json")
    target = doc
    for step in place:
        target = target[step]
    target[key] = value
    result = check(doc)
    assert isinstance(result, VerificationResult)
    assert result.verified == (not result.errors)


def test_the_unmodified_vectors_are_not_an_accident() -> None:
    assert check(signed()).verified and check(vector_json("eddsa-jcs-2022/signedJCS.json")).verified
    assert VECTOR_VM.startswith(VECTOR_DID)
