"""Errors of the SHAKEN certificate layer: one class, a machine-readable ``code`` from a closed set."""

from __future__ import annotations

__all__ = ["ShakenError", "BAD_TNAUTHLIST", "NO_TNAUTHLIST", "BAD_CERTIFICATE", "CODES"]

BAD_TNAUTHLIST = "shaken.bad_tnauthlist"
NO_TNAUTHLIST = "shaken.no_tnauthlist"
BAD_CERTIFICATE = "shaken.bad_certificate"
CODES = frozenset({BAD_TNAUTHLIST, NO_TNAUTHLIST, BAD_CERTIFICATE})


class ShakenError(Exception):
    """A SHAKEN certificate or TNAuthList problem. ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown shaken error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
