"""Errors of the Data Integrity layer: one base class, a machine-readable ``code``, a sentence for a person.

Codes are namespaced ``vc.``. :func:`~wallet.dataintegrity.suites.sign` and the canonicalizers raise these;
:func:`~wallet.dataintegrity.suites.verify` never raises them for untrusted input but returns them inside a
:class:`~wallet.dataintegrity.suites.VerificationResult`. Messages name terms, URLs and proof fields, never
key material.
"""

from __future__ import annotations

from wallet.errors import CodedError

__all__ = ["CODES", "DataIntegrityError", "LoaderError", "ProofError"]

CODES = frozenset({
    # document loader
    "vc.context_not_allowed",  # a context URL outside the offline allow-list (never fetched)
    "vc.context_digest_mismatch",  # a bundled context file whose bytes do not have the pinned SHA-256
    # document and proof shape
    "vc.malformed_document",  # not a JSON object of JSON values, or too deep / too large
    "vc.invalid_jsonld",  # JSON-LD processing failed (syntax errors, protected term redefinition, ...)
    "vc.undefined_term",  # a property or type no context defines: RDFC would silently drop it
    "vc.invalid_iri",  # an id or property that is not an absolute IRI fit for N-Quads: RDFC would drop or garble it
    "vc.canonicalization_too_complex",  # the blank-node structure needs more RDFC work than the budget allows
    "vc.jcs_unsupported_value",  # JCS cannot serialize the value exactly (NaN, huge int, lone surrogate)
    "vc.proof_missing",  # no ``proof``
    "vc.proof_exists",  # sign() was given a document that already has a ``proof``
    "vc.proof_set_unsupported",  # more than one proof (proof sets and chains are not implemented)
    "vc.proof_malformed",  # a proof field is missing or has the wrong type or syntax
    "vc.unsupported_cryptosuite",  # proof type is not DataIntegrityProof or the cryptosuite is not allowed
    "vc.bad_proof_value",  # proofValue is not ``z`` + base58btc of a 64-byte signature
    "vc.context_mismatch",  # proof.@context is not a prefix of the document's @context
    # policy and keys
    "vc.wrong_purpose",  # proofPurpose differs from the expected one
    "vc.created_in_future",  # proof.created is later than the verifier's clock
    "vc.proof_expired",  # proof.expires is not later than the verifier's clock
    "vc.key_not_found",  # the key resolver found no key for the verification method (or failed)
    "vc.wrong_key_type",  # the key (or signer) is not Ed25519
    "vc.signature_invalid",  # the Ed25519 signature does not verify
})


class DataIntegrityError(CodedError):
    """Every error this package raises on purpose. ``code`` is one of :data:`CODES`."""

    CODES = CODES


class LoaderError(DataIntegrityError):
    """The offline document loader refused a URL or found a bundled file altered."""


class ProofError(DataIntegrityError):
    """A document or proof that cannot be signed or does not verify."""
