"""Data Integrity proofs for credentials: the careful layer (offline contexts, canonical bytes, EdDSA suites).

Higher layers (credential issuance, the node's verifier) call :func:`sign` and :func:`verify` with a document
loader (:data:`document_loader`, offline and pinned) and, for verification, a key resolver and a clock. Nothing
here fetches anything or reads the time.
"""

from wallet.dataintegrity.canon import canonize_jcs, canonize_rdfc, check_all_terms_defined, check_json
from wallet.dataintegrity.errors import CODES, DataIntegrityError, LoaderError, ProofError
from wallet.dataintegrity.loader import (
    CONTEXTS,
    CREDENTIALS_V2_URL,
    DATA_INTEGRITY_V2_URL,
    TN_CONTEXT_URL,
    TN_CONTEXT_V1_URL,
    DocumentLoader,
    PinnedContext,
    document_loader,
)
from wallet.dataintegrity.suites import (
    CRYPTOSUITES,
    PROOF_TYPE,
    CanonicalForms,
    KeyResolver,
    VerificationResult,
    canonical_forms,
    sign,
    verify,
)

__all__ = [
    "CODES",
    "DataIntegrityError",
    "LoaderError",
    "ProofError",
    "CONTEXTS",
    "CREDENTIALS_V2_URL",
    "DATA_INTEGRITY_V2_URL",
    "TN_CONTEXT_URL",
    "TN_CONTEXT_V1_URL",
    "DocumentLoader",
    "PinnedContext",
    "document_loader",
    "canonize_jcs",
    "canonize_rdfc",
    "check_all_terms_defined",
    "check_json",
    "CRYPTOSUITES",
    "PROOF_TYPE",
    "CanonicalForms",
    "KeyResolver",
    "VerificationResult",
    "canonical_forms",
    "sign",
    "verify",
]
