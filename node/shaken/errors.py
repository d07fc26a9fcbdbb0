"""Errors of the SHAKEN certificate layer: one class, a machine-readable ``code`` from a closed set."""

from __future__ import annotations

from wallet.errors import CodedError

__all__ = [
    "ShakenError",
    "BAD_TNAUTHLIST",
    "NO_TNAUTHLIST",
    "BAD_CERTIFICATE",
    "BAD_REQUEST",
    "REVOKED",
    "BAD_CRL",
    "X5U_REFUSED",
    "X5U_FETCH_FAILED",
    "CODES",
]

BAD_TNAUTHLIST = "shaken.bad_tnauthlist"
NO_TNAUTHLIST = "shaken.no_tnauthlist"
BAD_CERTIFICATE = "shaken.bad_certificate"
BAD_REQUEST = "shaken.bad_request"  # a signing request the authentication service cannot sign (bad TN, attest, iat)
REVOKED = "shaken.revoked"  # the issuer's CRL lists the certificate's serial number
BAD_CRL = "shaken.bad_crl"  # a CRL of the issuer that is not signed by it, or outside its thisUpdate/nextUpdate window
X5U_REFUSED = "shaken.x5u_refused"  # an x5u/info URL the fetch policy refuses (scheme, port, userinfo, address: SSRF)
X5U_FETCH_FAILED = "shaken.x5u_fetch_failed"  # timeout, HTTP error, redirect, body too large or not PEM certificates
CODES = frozenset({BAD_TNAUTHLIST, NO_TNAUTHLIST, BAD_CERTIFICATE, BAD_REQUEST, REVOKED, BAD_CRL, X5U_REFUSED,
                   X5U_FETCH_FAILED})


class ShakenError(CodedError):
    """A SHAKEN certificate or TNAuthList problem. ``code`` is one of :data:`CODES` (code first, as raised
    throughout this package)."""

    CODES = CODES

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
