"""RFC 8785 JCS (RFC examples and properties) and eddsa-jcs-2022 on the W3C vectors, byte for byte."""

from __future__ import annotations

import hashlib
import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_method.syntax import b58encode
from tests.wallet.dataintegrity import (
    VECTOR_CREATED,
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
    canonize_jcs,
    document_loader,
    sign,
    verify,
)

SUITE = "eddsa-jcs-2022"
DIR = "eddsa-jcs-2022/"

# RFC 8785 Appendix B: IEEE 754 bit patterns and the ECMAScript strings JCS prints for them.
RFC8785_NUMBERS = {
    "0000000000000000": "0",
    "8000000000000000": "0",
    "0000000000000001": "5e-324",
    "8000000000000001": "-5e-324",
    "7fefffffffffffff": "1.7976931348623157e+308",
    "ffefffffffffffff": "-1.7976931348623157e+308",
    "4340000000000000": "9007199254740992",
    "c340000000000000": "-9007199254740992",
    "4430000000000000": "295147905179352830000",
    "44b52d02c7e14af5": "9.999999999999997e+22",
    "44b52d02c7e14af6": "1e+23",
    "44b52d02c7e14af7": "1.0000000000000001e+23",
    "444b1ae4d6e2ef4e": "999999999999999700000",
    "444b1ae4d6e2ef4f": "999999999999999900000",
    "444b1ae4d6e2ef50": "1e+21",
    "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
    "3eb0c6f7a0b5ed8d": "0.000001",
    "41b3de4355555553": "333333333.3333332",
    "41b3de4355555554": "333333333.33333325",
    "41b3de4355555555": "333333333.3333333",
    "41b3de4355555556": "333333333.3333334",
    "41b3de4355555557": "333333333.33333343",
    "becbf647612f3696": "-0.0000033333333333333333",
    "43143ff3c1cb0959": "1424953923781206.2",
}


def text(name: str) -> str:
    return vector_bytes(DIR + name).decode("utf-8").strip()


def signed() -> dict[str, Any]:
    result: dict[str, Any] = vector_json(DIR + "signedJCS.json")
    return result


def check(document: Any, **kwargs: Any) -> VerificationResult:
    return verify(document, key_resolver=did_key_resolver, loader=document_loader, **kwargs)


# ------------------------------------------------------------------------------------------------ RFC 8785


@pytest.mark.parametrize(("bits", "expected"), sorted(RFC8785_NUMBERS.items()))
def test_rfc8785_numbers(bits: str, expected: str) -> None:
    value = struct.unpack(">d", bytes.fromhex(bits))[0]
    assert canonize_jcs(value) == expected.encode()


def test_rfc8785_section_3_2_2_example() -> None:
    source = r"""{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"""
    expected = (r"""{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"""
                r""""string":"€$\u000f\nA'B\"\\\\\"/"}""")
    assert canonize_jcs(json.loads(source)) == expected.encode("utf-8")


def test_rfc8785_section_3_2_3_sorting_by_utf16_code_units() -> None:
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O"}
    order = [key for key, _ in json.loads(canonize_jcs(value)).items()]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]  # not code point order


@pytest.mark.parametrize(("value", "expected"), [
    (None, b"null"), (True, b"true"), (False, b"false"), (0, b"0"), (-0.0, b"0"), (1.0, b"1"), (-7, b"-7"),
    (2**53, b"9007199254740992"), (-(2**53), b"-9007199254740992"), (2**60, b"1152921504606847000"),
    (1e21, b"1e+21"), (1e-7, b"1e-7"), (123.456, b"123.456"), ("", b'""'), ([], b"[]"), ({}, b"{}"),
    ("\u2028\u007f\x1f\b\t", b'"\xe2\x80\xa8\x7f\\u001f\\b\\t"'),
    ({"b": [1, {"d": 1, "c": 2}], "a": "x"}, b'{"a":"x","b":[1,{"c":2,"d":1}]}'),
])
def test_small_values(value: Any, expected: bytes) -> None:
    assert canonize_jcs(value) == expected


@pytest.mark.parametrize("value", [
    math.nan, math.inf, -math.inf, 2**53 + 1, -(2**53) - 1, 10**400, "\ud800", {"\udfff": 1}, {1: "a"}, {1, 2},
    b"bytes", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
])
def test_refused_values(value: Any) -> None:
    with pytest.raises(ProofError) as info:
        canonize_jcs(value)
    assert info.value.code == "vc.jcs_unsupported_value"


def test_integers_beyond_2_53_inside_containers() -> None:
    # rfc8785 refuses every integer beyond 2**53 - 1; JCS writes the double an integer names when one does.
    assert canonize_jcs({"b": [2**60, 1], "a": 2**53}) == b'{"a":9007199254740992,"b":[1152921504606847000,1]}'
    with pytest.raises(ProofError) as info:
        canonize_jcs({"a": [1, (2**53 + 1,)]})
    assert info.value.code == "vc.jcs_unsupported_value"


def test_nesting_bound_is_exact() -> None:
    def nested(levels: int) -> Any:
        value: Any = 1
        for i in range(levels):
            value = [value] if i % 2 else {"k": value}
        return value

    assert canonize_jcs(nested(32)).count(b"[") + canonize_jcs(nested(32)).count(b"{") == 32
    assert canonize_jcs([nested(31), []]) and canonize_jcs([[]] * 3)
    for value in (nested(33), [nested(2), nested(32)]):
        with pytest.raises(ProofError) as info:
            canonize_jcs(value)
        assert info.value.code == "vc.jcs_unsupported_value"


_KEY = st.text(alphabet=st.characters(max_codepoint=0xD7FF), max_size=6)
_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(alphabet=st.characters(max_codepoint=0xD7FF)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_KEY, children, max_size=4),
    max_leaves=20,
)


@given(_PLAIN)
def test_matches_sorted_compact_json_without_floats(value: Any) -> None:
    # Below U+D800 code point order equals UTF-16 order, and Python's escapes equal ECMAScript's.
    assert canonize_jcs(value) == json.dumps(value, sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=False).encode("utf-8")


@given(st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"])),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=6), children, max_size=4),
    max_leaves=20,
))
def test_round_trips_and_is_idempotent(value: Any) -> None:
    # JSON numbers are IEEE doubles (RFC 8785 §3.2.2.3): 4.982282672402799e16 prints as 49822826724027990.
    canonical = canonize_jcs(value)
    parsed = json.loads(canonical, parse_int=float)
    assert parsed == value
    assert canonize_jcs(parsed) == canonical


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_exactly(value: float) -> None:
    assert float(canonize_jcs(value)) == value


# ------------------------------------------------------------------------------------------------ vectors


def test_canonical_forms_are_byte_exact() -> None:
    assert canonize_jcs(vector_json("unsigned.json")) == vector_bytes(DIR + "canonDocJCS.txt")
    assert canonize_jcs(vector_json(DIR + "proofConfigJCS.json")) == vector_bytes(DIR + "proofCanonJCS.txt")


def test_canonical_forms_and_hashes() -> None:
    options = vector_json(DIR + "proofConfigJCS.json")  # the options keep @context in this suite
    forms = canonical_forms(vector_json("unsigned.json"), options, loader=document_loader)
    assert forms.document == vector_bytes(DIR + "canonDocJCS.txt")  # no trailing newline, unlike RDFC
    assert forms.proof_config == vector_bytes(DIR + "proofCanonJCS.txt")
    assert hashlib.sha256(forms.document).hexdigest() == text("docHashJCS.txt")
    assert hashlib.sha256(forms.proof_config).hexdigest() == text("proofHashJCS.txt")
    assert forms.hash_data.hex() == text("combinedHashJCS.txt")


def test_sign_reproduces_the_vector() -> None:
    out = sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,
               loader=document_loader, cryptosuite=SUITE)
    assert out == signed()
    assert list(out["proof"]) == list(signed()["proof"])
    assert out["proof"]["proofValue"] == text("sigBTC58JCS.txt")
    assert out["proof"]["proofValue"] == "z" + b58encode(bytes.fromhex(text("sigHexJCS.txt")))
    assert out["proof"]["@context"] == out["@context"]


def test_verify_the_vector() -> None:
    result = check(signed())
    assert result.verified and result.cryptosuite == SUITE and result.verification_method == VECTOR_VM


@pytest.mark.parametrize(("path", "value"), [
    (("credentialSubject", "alumniOf"), "The School of Forgery"),
    (("name",), "Alumni Credential "),
    (("proof", "created"), "2023-02-24T23:36:39Z"),
    (("proof", "verificationMethod"), "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
                                      "#z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
])
def test_tampering_breaks_the_signature(path: tuple[str, ...], value: Any) -> None:
    doc = signed()
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not check(doc).verified


def test_changed_proof_value() -> None:
    doc = signed()
    doc["proof"]["proofValue"] = "z" + b58encode(bytes(64))
    assert check(doc).codes == ("vc.signature_invalid",)


def test_member_order_and_whitespace_do_not_matter() -> None:
    doc = json.loads(json.dumps(signed(), indent=7, sort_keys=True))
    assert check(doc).verified


def test_proof_context_must_prefix_the_document_context() -> None:
    doc = signed()
    doc["@context"] = list(reversed(doc["@context"]))
    assert check(doc).codes == ("vc.context_mismatch",)
    doc = signed()
    doc["proof"]["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/security/multikey/v1"]
    assert check(doc).codes == ("vc.context_mismatch",)


def test_a_context_appended_after_signing_is_set_aside() -> None:
    # Verify step 4: the document's @context is replaced by the proof's before hashing.
    doc = signed()
    doc["@context"] = [*doc["@context"], "https://w3id.org/security/data-integrity/v2"]
    assert check(doc).verified


def test_wrong_purpose() -> None:
    assert check(signed(), expected_purpose="authentication").codes == ("vc.wrong_purpose",)


def test_a_proof_without_context_verifies() -> None:
    """ACA-Py's eddsa-jcs-2022 leaves out proof.@context; the spec still verifies such proofs."""
    unsigned: dict[str, Any] = {"@context": ["https://www.w3.org/ns/credentials/v2"],
                                "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
                                "credentialSubject": {"id": "did:example:subject"}}
    options = vector_json(DIR + "proofConfigJCS.json")
    del options["@context"]
    forms = canonical_forms(unsigned, options, loader=document_loader)
    assert b"@context" not in forms.proof_config
    proof_value = "z" + b58encode(vector_key().sign(forms.hash_data))
    doc: dict[str, Any] = {**unsigned, "proof": {**options, "proofValue": proof_value}}
    assert check(doc).verified
    doc["proof"]["note"] = "x"  # its terms must still be defined, by the document's @context
    result = check(doc)
    assert result.codes == ("vc.undefined_term",) and "note" in result.errors[0].message
