"""Telephone numbers as PASSporTs carry them (RFC 8225 §5.2.1, ATIS-1000074 §5.2.3).

Separators and the leading ``+`` are dropped by :func:`contracts.vocab.strip_tn`, the project's one canonicalizer of
numbers as people and SIP write them; this module adds the PASSporT form's rule (digits, ``*`` and ``#``, at most 20)
and its error. The ledger's form (an E.164 integer) is :func:`contracts.vocab.parse_tn`.
"""

from __future__ import annotations

import re

from contracts.vocab import strip_tn
from wallet.passport.errors import PassportError

__all__ = ["canonical_tn"]

_TN = re.compile(r"[0-9*#]{1,20}")


def canonical_tn(value: object, what: str = "tn") -> str:
    """Digits, ``*`` and ``#`` only: a leading ``+`` and visual separators (spaces, ``-``, ``.``, parentheses) are
    dropped; anything else is ``passport.bad_claims`` naming ``what``."""
    if not isinstance(value, str):
        raise PassportError(f"{what} must be a string of digits", code="passport.bad_claims")
    if _TN.fullmatch(value):  # already canonical: the usual case
        return value
    tn = strip_tn(value)
    if not _TN.fullmatch(tn):
        raise PassportError(f"{what} {value[:40]!r} is not a telephone number (digits, * or #)",
                            code="passport.bad_claims")
    return tn
