"""SHAKEN: the RFC 8226 TNAuthList, a test PKI with chain and CRL checks, the OSP's authentication service
(``sign``) and the verification service (``verify``, with the ``x5u`` certificate fetcher)."""

from .errors import BAD_CERTIFICATE, BAD_REQUEST, BAD_TNAUTHLIST, NO_TNAUTHLIST, ShakenError
from .pki import TestPKI, check_crl, generate_test_pki, issue_crl, verify_chain
from .sign import ShakenSigner, canonical_tn
from .tnauthlist import OID_TNAUTHLIST, SPC, TNAuthList, TNEntry, TNOne, TNRangeEntry
from .verify import VERSTAT_FAILED, VERSTAT_NONE, VERSTAT_PASSED, StiVerifier, Verification
from .x5u import CertFetcher

__all__ = [
    "BAD_CERTIFICATE", "BAD_REQUEST", "BAD_TNAUTHLIST", "NO_TNAUTHLIST", "OID_TNAUTHLIST", "SPC", "VERSTAT_FAILED",
    "VERSTAT_NONE", "VERSTAT_PASSED", "CertFetcher", "ShakenError", "ShakenSigner", "StiVerifier", "TNAuthList",
    "TNEntry", "TNOne", "TNRangeEntry", "TestPKI", "Verification", "canonical_tn", "check_crl", "generate_test_pki",
    "issue_crl", "verify_chain",
]
