"""Data Integrity proofs with the EdDSA cryptosuites ``eddsa-rdfc-2022`` and ``eddsa-jcs-2022`` (W3C REC 2025).

Create: proof options ``{type: DataIntegrityProof, cryptosuite, created, verificationMethod, proofPurpose}``;
the proof configuration is the options with ``@context`` set to the document's ``@context``. For
``eddsa-jcs-2022`` the proof itself keeps that ``@context`` (Create Proof step 2); for ``eddsa-rdfc-2022`` it does
not. ``hashData = SHA-256(canonical proof config) || SHA-256(canonical document)``, signed with pure Ed25519;
``proofValue = "z" + base58btc(signature)``. Verify: take ``proof`` out of the document and ``proofValue`` out of
the proof; if the proof has an ``@context``, the document's ``@context`` must start with it and is replaced by
it; recompute and check the signature.

Decisions:

* :func:`sign` raises (:class:`ProofError`, or ``TypeError``/``ValueError`` for misuse); :func:`verify` never
  raises for untrusted input and returns a frozen :class:`VerificationResult` whose errors carry codes. It stops
  at the first failure, so ``errors`` holds one error.
* Both suites refuse documents with terms no context defines (:func:`~wallet.dataintegrity.canon.
  check_all_terms_defined`), at signing and at verification, and for the proof configuration too. For RDFC
  this is what keeps unsigned data out of a "verified" credential; for JCS the bytes are signed anyway, but a
  JSON-LD reader would still see a different credential than a JSON reader, so the same rule applies.
* ``created`` is required (the key is looked up as of that time) and must be an XML Schema ``dateTimeStamp``.
  Only one proof per document: proof sets and chains are refused (``vc.proof_set_unsupported``).
* The clock and the keys are passed in: ``now`` (``None`` skips the time checks) and ``key_resolver(vm_url,
  created) -> (KeyType, raw public key)``. The resolver must return only keys the controller has authorized for
  the purpose (the node resolves against the ledger as of ``created``); any exception it raises, or ``None``,
  is ``vc.key_not_found``. Whether the verification method's controller is the credential's issuer is the
  caller's check: the result carries ``verification_method`` for it.
* Only Ed25519 keys, only the two cryptosuites of :data:`CRYPTOSUITES`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from did_method.ident import KeyType
from did_method.syntax import b58decode, b58encode
from did_method.timefmt import read_date_time_stamp, xml_datetime
from wallet.dataintegrity.canon import Loader, canonize_jcs, canonize_rdfc, check_all_terms_defined, check_json
from wallet.dataintegrity.errors import DataIntegrityError, ProofError
from wallet.keys import Signer
from wallet.keys import verify as verify_signature

__all__ = [
    "CRYPTOSUITES",
    "PROOF_TYPE",
    "KeyResolver",
    "CanonicalForms",
    "VerificationResult",
    "canonical_forms",
    "sign",
    "verify",
]

PROOF_TYPE = "DataIntegrityProof"
RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
CRYPTOSUITES = frozenset({RDFC, JCS})

KeyResolver = Callable[[str, datetime], tuple[KeyType, bytes] | None]
"""``key_resolver(verification_method_url, created) -> (KeyType, raw public key)``; raise or return None if none."""

_MAX_PROOF_VALUE = 100  # "z" + base58 of 64 bytes is at most 89 characters
_MAX_VM_LENGTH = 2048


@dataclass(frozen=True)
class CanonicalForms:
    """The two canonical byte strings a proof signs, and the 64 bytes actually signed."""

    proof_config: bytes
    document: bytes

    @property
    def hash_data(self) -> bytes:
        return hashlib.sha256(self.proof_config).digest() + hashlib.sha256(self.document).digest()


@dataclass(frozen=True)
class VerificationResult:
    """What :func:`verify` found. ``verified`` is true only when ``errors`` is empty."""

    verified: bool
    errors: tuple[ProofError, ...] = ()
    verification_method: str | None = None
    cryptosuite: str | None = None
    created: datetime | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(error.code for error in self.errors)


def _supported(cryptosuite: object) -> bool:
    return isinstance(cryptosuite, str) and cryptosuite in CRYPTOSUITES


def parse_date_time_stamp(text: object, what: str) -> datetime:
    """An XML Schema ``dateTimeStamp`` (time zone required) as an aware datetime; ``vc.proof_malformed``."""
    when = read_date_time_stamp(text)
    if when is None:
        raise ProofError(f"{what} must be an XML Schema dateTimeStamp such as 2024-01-01T00:00:00Z (a real date "
                         "and time)", code="vc.proof_malformed")
    return when


def _format_created(created: datetime | str) -> str:
    if isinstance(created, datetime):
        if created.tzinfo is None:
            raise ValueError("created must be an aware datetime (with a time zone)")
        return xml_datetime(created)
    if isinstance(created, str):
        parse_date_time_stamp(created, "created")
        return created
    raise TypeError(f"created must be a datetime or a str, not {type(created).__name__}")


def canonical_forms(unsecured_document: Mapping[str, Any], proof_options: Mapping[str, Any], *,
                    loader: Loader) -> CanonicalForms:
    """Canonicalize a document (without ``proof``) and its proof options (without ``proofValue``).

    The cryptosuite is ``proof_options["cryptosuite"]``. Undefined terms in either are refused.
    """
    document = dict(unsecured_document)
    options = dict(proof_options)
    suite = options.get("cryptosuite")
    if options.get("type") != PROOF_TYPE or not _supported(suite):
        raise ProofError(f"proof type {str(options.get('type'))[:60]!r} with cryptosuite {str(suite)[:60]!r} is "
                         f"not supported (DataIntegrityProof with {', '.join(sorted(CRYPTOSUITES))})",
                         code="vc.unsupported_cryptosuite")
    if suite == RDFC:
        if "@context" in document:
            options["@context"] = document["@context"]
        return CanonicalForms(proof_config=canonize_rdfc(options, loader).encode("utf-8"),
                              document=canonize_rdfc(document, loader).encode("utf-8"))
    # A proof without @context (ACA-Py writes them) is signed as it is, but its terms mean what the document's
    # @context says.
    check_all_terms_defined(options if "@context" in options else {**options, "@context": document.get("@context")},
                            loader)
    check_all_terms_defined(document, loader)
    return CanonicalForms(proof_config=canonize_jcs(options), document=canonize_jcs(document))


# ------------------------------------------------------------------------------------------------ sign


def sign(document: Mapping[str, Any], signer: Signer, *, verification_method: str, created: datetime | str,
         loader: Loader, proof_purpose: str = "assertionMethod", cryptosuite: str = RDFC,
         expires: datetime | str | None = None) -> dict[str, Any]:
    """A copy of ``document`` with a DataIntegrityProof made by ``signer`` (an Ed25519 key).

    Raises :class:`ProofError`: ``vc.undefined_term``, ``vc.invalid_iri``, ``vc.invalid_jsonld``,
    ``vc.context_not_allowed``, ``vc.unsupported_cryptosuite``, ``vc.wrong_key_type``, ``vc.proof_exists``, ...
    """
    if not isinstance(document, Mapping):
        raise TypeError(f"document must be a mapping, not {type(document).__name__}")
    if not isinstance(signer, Signer):
        raise TypeError("signer must implement wallet.keys.Signer")
    if not isinstance(verification_method, str) or not verification_method:
        raise ValueError("verification_method must be a non-empty URL string")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise ValueError("proof_purpose must be a non-empty string")
    if not _supported(cryptosuite):
        raise ProofError(f"cryptosuite {cryptosuite!r} is not one of {sorted(CRYPTOSUITES)}",
                         code="vc.unsupported_cryptosuite")
    if signer.key_type is not KeyType.ED25519:
        raise ProofError(f"{cryptosuite} signs with Ed25519 keys, not {signer.key_type.name}",
                         code="vc.wrong_key_type")
    if "proof" in document:
        raise ProofError("the document already has a proof (proof sets are not supported)", code="vc.proof_exists")
    unsecured = dict(document)
    check_json(unsecured)
    proof: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": cryptosuite, "created": _format_created(created)}
    if expires is not None:
        proof["expires"] = _format_created(expires)
    proof["verificationMethod"] = verification_method
    proof["proofPurpose"] = proof_purpose
    if cryptosuite == JCS and "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    forms = canonical_forms(unsecured, proof, loader=loader)
    signature = signer.sign(forms.hash_data)
    proof["proofValue"] = "z" + b58encode(signature)
    return {**unsecured, "proof": proof}


# ------------------------------------------------------------------------------------------------ verify


def _decode_proof_value(value: object) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) > _MAX_PROOF_VALUE:
        raise ProofError("proofValue must be a multibase base58btc string ('z...')", code="vc.bad_proof_value")
    try:
        raw = b58decode(value[1:])
    except ValueError:
        raise ProofError("proofValue is not base58btc", code="vc.bad_proof_value") from None
    if len(raw) != 64:
        raise ProofError(f"proofValue decodes to {len(raw)} bytes, not a 64-byte Ed25519 signature",
                         code="vc.bad_proof_value")
    return raw


def _context_list(context: object) -> list[Any]:
    return context if isinstance(context, list) else [context]


def _take_proof(secured: dict[str, Any]) -> dict[str, Any]:
    proof = secured.get("proof")
    if proof is None:
        raise ProofError("the document has no proof", code="vc.proof_missing")
    if isinstance(proof, list):
        if len(proof) != 1:
            raise ProofError(f"the document has {len(proof)} proofs; proof sets are not supported",
                             code="vc.proof_set_unsupported")
        proof = proof[0]
    if not isinstance(proof, dict):
        raise ProofError("proof must be an object", code="vc.proof_malformed")
    return proof


def _check_proof_fields(proof: dict[str, Any]) -> None:
    if proof.get("type") != PROOF_TYPE or not _supported(proof.get("cryptosuite")):
        raise ProofError(f"proof type {str(proof.get('type'))[:60]!r} / cryptosuite "
                         f"{str(proof.get('cryptosuite'))[:60]!r} is not supported", code="vc.unsupported_cryptosuite")
    vm = proof.get("verificationMethod")
    if not isinstance(vm, str) or not vm or len(vm) > _MAX_VM_LENGTH:
        raise ProofError("proof.verificationMethod must be a URL string", code="vc.proof_malformed")
    if not isinstance(proof.get("proofPurpose"), str):
        raise ProofError("proof.proofPurpose must be a string", code="vc.proof_malformed")


def verify(secured_document: object, *, key_resolver: KeyResolver, loader: Loader,
           expected_purpose: str = "assertionMethod", now: datetime | None = None,
           max_clock_skew: timedelta = timedelta(0)) -> VerificationResult:
    """Check the DataIntegrityProof of ``secured_document``. Never raises for untrusted input.

    ``now`` (aware) enables the time checks: ``created`` may be at most ``max_clock_skew`` ahead of it, and
    ``expires``, when present, must be later than it.
    """
    if now is not None and (not isinstance(now, datetime) or now.tzinfo is None):
        raise TypeError("now must be an aware datetime or None")
    found: dict[str, Any] = {}
    try:
        if not isinstance(secured_document, dict):
            raise ProofError("a secured document is a JSON object", code="vc.malformed_document")
        check_json(secured_document)
        proof = _take_proof(secured_document)
        _check_proof_fields(proof)
        found.update(verification_method=proof["verificationMethod"], cryptosuite=proof["cryptosuite"])
        created = parse_date_time_stamp(proof.get("created"), "proof.created")
        found["created"] = created
        expires = proof.get("expires")
        expires_at = None if expires is None else parse_date_time_stamp(expires, "proof.expires")
        signature = _decode_proof_value(proof.get("proofValue"))
        if proof["proofPurpose"] != expected_purpose:
            raise ProofError(f"proof purpose is {proof['proofPurpose'][:60]!r}, expected {expected_purpose!r}",
                             code="vc.wrong_purpose")
        if now is not None:
            if created > now + max_clock_skew:
                raise ProofError(f"proof created {proof['created']} is later than now", code="vc.created_in_future")
            if expires_at is not None and expires_at <= now:
                raise ProofError(f"proof expired at {expires}", code="vc.proof_expired")
        unsecured = {key: value for key, value in secured_document.items() if key != "proof"}
        options = {key: value for key, value in proof.items() if key != "proofValue"}
        if "@context" in options:
            prefix = _context_list(options["@context"])
            if _context_list(unsecured.get("@context"))[:len(prefix)] != prefix:
                raise ProofError("the document's @context does not start with the proof's @context",
                                 code="vc.context_mismatch")
            unsecured["@context"] = options["@context"]
        forms = canonical_forms(unsecured, options, loader=loader)
        key_type, public_key = _resolve_key(key_resolver, proof["verificationMethod"], created)
        if not verify_signature(key_type, public_key, forms.hash_data, signature):
            raise ProofError("the Ed25519 signature does not verify", code="vc.signature_invalid")
    except DataIntegrityError as exc:
        error = exc if isinstance(exc, ProofError) else ProofError(exc.message, code=exc.code)
        return VerificationResult(verified=False, errors=(error,), **found)
    return VerificationResult(verified=True, **found)


def _resolve_key(key_resolver: KeyResolver, vm: str, created: datetime) -> tuple[KeyType, bytes]:
    try:
        resolved = key_resolver(vm, created)
    except Exception as exc:  # noqa: BLE001 - the resolver sees an untrusted URL; any failure means "no key"
        raise ProofError(f"no key for {vm[:200]!r}: {type(exc).__name__}: {str(exc)[:200]}",
                         code="vc.key_not_found") from None
    if resolved is None:
        raise ProofError(f"no key for {vm[:200]!r}", code="vc.key_not_found")
    key_type, public_key = resolved
    if KeyType(key_type) is not KeyType.ED25519:
        raise ProofError(f"the key of {vm[:200]!r} is {KeyType(key_type).name}, not Ed25519", code="vc.wrong_key_type")
    if not isinstance(public_key, bytes) or len(public_key) != 32:
        raise ProofError(f"the key of {vm[:200]!r} is not a 32-byte Ed25519 key", code="vc.key_not_found")
    return KeyType.ED25519, public_key
