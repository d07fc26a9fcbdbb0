"""SHAKEN certificates: the RFC 8226 TNAuthList, a test PKI and a chain check."""

from .errors import BAD_CERTIFICATE, BAD_TNAUTHLIST, NO_TNAUTHLIST, ShakenError
from .pki import TestPKI, generate_test_pki, verify_chain
from .tnauthlist import OID_TNAUTHLIST, SPC, TNAuthList, TNEntry, TNOne, TNRangeEntry

__all__ = [
    "BAD_CERTIFICATE",
    "BAD_TNAUTHLIST",
    "NO_TNAUTHLIST",
    "OID_TNAUTHLIST",
    "SPC",
    "ShakenError",
    "TNAuthList",
    "TNEntry",
    "TNOne",
    "TNRangeEntry",
    "TestPKI",
    "generate_test_pki",
    "verify_chain",
]
