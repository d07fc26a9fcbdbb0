"""Errors of the PASSporT layer: one class, a machine-readable ``code``, a sentence for a person.

Codes are namespaced ``passport.``. The encoder raises them for misuse the caller can fix (an algorithm outside
the allow-list, claims that are not JSON); the decoder and the Identity-header parser raise them for untrusted
input, and never anything else. The rich-call-data codes are also the reasons :func:`wallet.passport.rcd.check_rcd`
reports (in a result, not raised). Messages describe the shape of the input, never key material.
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
    "passport.missing_claim",  # a mandatory claim is absent (SHAKEN: attest, dest, iat, orig, origid)
    "passport.wrong_ppt",  # a PASSporT of another type than the reader expects (e.g. not ppt "eidln")
    "passport.bad_kid",  # a kid that is not a DID URL naming a key, or an info parameter that differs from it
    # RFC 9795 rich call data (wallet.passport.rcd): raised by rcdi_for, reported by check_rcd
    "passport.bad_rcd",  # an rcd claim of the wrong shape (member types, nam missing, an unknown member)
    "passport.no_integrity",  # content rcd references by URL (icn, jcl, a URI in jcd) without an rcdi digest
    "passport.bad_integrity",  # rcdi not an object of JSON pointers to sha256/384/512-<base64> integrity strings
    "passport.dangling_integrity",  # an rcdi pointer that names nothing in rcd (or rcdi without rcd)
    "passport.integrity_mismatch",  # an rcdi digest of a value carried inline (nam, apn, jcd) that does not match
    "passport.bad_crn",  # a crn (call reason) that is not a non-empty string
})


class PassportError(CodedError):
    """Every error this package raises on purpose. ``code`` is one of :data:`CODES`."""

    CODES = CODES
