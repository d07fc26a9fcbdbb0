"""Errors of the SHAKEN certificate layer: one class, a machine-readable ``code`` from a closed set."""

from __future__ import annotations

from wallet.errors import CodedError

__all__ = ["ShakenError", "BAD_TNAUTHLIST", "NO_TNAUTHLIST", "BAD_CERTIFICATE", "BAD_REQUEST", "CODES"]

BAD_TNAUTHLIST = "shaken.bad_tnauthlist"
NO_TNAUTHLIST = "shaken.no_tnauthlist"
BAD_CERTIFICATE = "shaken.bad_certificate"
BAD_REQUEST = "shaken.bad_request"  # a signing request the authentication service cannot sign (bad TN, attest, iat)
CODES = frozenset({BAD_TNAUTHLIST, NO_TNAUTHLIST, BAD_CERTIFICATE, BAD_REQUEST})


class ShakenError(CodedError):
    """A SHAKEN certificate or TNAuthList problem. ``code`` is one of :data:`CODES` (code first, as raised
    throughout this package)."""

    CODES = CODES

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
