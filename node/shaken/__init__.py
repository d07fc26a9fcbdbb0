"""SHAKEN: the RFC 8226 TNAuthList, a test PKI with chain and CRL checks, the OSP's authentication service
(``sign``) and the verification service (``verify``, with the ``x5u`` certificate fetcher). The SHAKEN PASSporT
itself (header, claims, canonical bytes, the decoder) is :mod:`wallet.passport.shaken`'s."""

from .errors import BAD_CERTIFICATE, BAD_REQUEST, BAD_TNAUTHLIST, NO_TNAUTHLIST, ShakenError
from .pki import TestPKI, check_crl, generate_test_pki, issue_crl, verify_chain
from .sign import ShakenSigner
from .tnauthlist import OID_TNAUTHLIST, SPC, TNAuthList, TNEntry, TNOne, TNRangeEntry
from .verify import VERSTAT_FAILED, VERSTAT_NONE, VERSTAT_PASSED, StiVerifier, Verification
from .x5u import CertFetcher

__all__ = [
    "BAD_CERTIFICATE", "BAD_REQUEST", "BAD_TNAUTHLIST", "NO_TNAUTHLIST", "OID_TNAUTHLIST", "SPC", "VERSTAT_FAILED",
    "VERSTAT_NONE", "VERSTAT_PASSED", "CertFetcher", "ShakenError", "ShakenSigner", "StiVerifier", "TNAuthList",
    "TNEntry", "TNOne", "TNRangeEntry", "TestPKI", "Verification", "check_crl", "generate_test_pki",
    "issue_crl", "verify_chain",
]
