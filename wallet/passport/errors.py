"""Errors of the PASSporT layer: one class, a machine-readable ``code``, a sentence for a person.

Codes are namespaced ``passport.``. The encoder raises them for misuse the caller can fix (an algorithm outside
the allow-list, claims that are not JSON); the decoder and the Identity-header parser raise them for untrusted
input, and never anything else. Messages describe the shape of the input, never key material.
"""

from __future__ import annotations

from wallet.errors import CodedError

__all__ = ["CODES", "PassportError"]

CODES = frozenset({
    "passport.malformed",  # not three dot-separated segments, or a segment that is not UTF-8 JSON
    "passport.bad_base64",  # a segment with padding or characters outside the base64url alphabet
    "passport.duplicate_key",  # a JSON object with the same member name twice
    "passport.alg_not_allowed",  # ``alg`` missing or outside {ES256, EdDSA}, or not the signer's algorithm
    "passport.bad_header",  # a SIP Identity header value that does not parse
    "passport.too_large",  # a token or header value longer than the configured limit
    "passport.bad_claims",  # claims or header members of the wrong shape (or that the encoder cannot serialize)
    "passport.wrong_ppt",  # a PASSporT of another type than the reader expects (e.g. not ppt "eidln")
    "passport.bad_kid",  # a kid that is not a DID URL naming a key, or an info parameter that differs from it
})


class PassportError(CodedError):
    """Every error this package raises on purpose. ``code`` is one of :data:`CODES`."""

    CODES = CODES
