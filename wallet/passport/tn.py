"""Telephone numbers as PASSporTs carry them (RFC 8225 §5.2.1, ATIS-1000074 §5.2.3): the one canonicalizer."""

from __future__ import annotations

import re

from wallet.passport.errors import PassportError

__all__ = ["canonical_tn"]

_TN = re.compile(r"[0-9*#]{1,20}")
_SEPARATORS = re.compile(r"[\s().-]")


def canonical_tn(value: object, what: str = "tn") -> str:
    """Digits, ``*`` and ``#`` only: a leading ``+`` and visual separators (spaces, ``-``, ``.``, parentheses) are
    dropped; anything else is ``passport.bad_claims`` naming ``what``."""
    if not isinstance(value, str):
        raise PassportError(f"{what} must be a string of digits", code="passport.bad_claims")
    if _TN.fullmatch(value):  # already canonical: the usual case
        return value
    tn = _SEPARATORS.sub("", value)
    tn = tn[1:] if tn.startswith("+") else tn
    if not _TN.fullmatch(tn):
        raise PassportError(f"{what} {value[:40]!r} is not a telephone number (digits, * or #)",
                            code="passport.bad_claims")
    return tn
