"""PASSporTs (RFC 8225, RFC 8588) and the SIP Identity header (RFC 8224): the careful layer.

Nothing here reads the clock, fetches certificates or judges claims. :func:`encode` signs canonical bytes with a
:class:`wallet.keys.Signer`; :func:`decode` and :func:`parse_identity` take untrusted text and raise only
:class:`PassportError`; :func:`verify_signature` returns a bool. The two PASSporT types each have one module that owns
their header, claims and bytes: the enterprise PASSporT (:mod:`wallet.passport.enterprise`) and the SHAKEN PASSporT
(:mod:`wallet.passport.shaken`). Rich call data (RFC 9795 ``rcd``, ``rcdi``,
``crn``) has its shapes and integrity strings in :mod:`wallet.passport.rcd`.
"""

from wallet.passport.certcall import CertCall, Token, cert_passport, parse_cert_call, parse_token, sign_cert_call
from wallet.passport.enterprise import PPT, EnterpriseCall, enterprise_passport, parse_call, sign_call
from wallet.passport.errors import CODES, PassportError
from wallet.passport.identity_header import MAX_HEADER_LENGTH, IdentityHeader, format_identity, parse_identity
from wallet.passport.rcd import (
    INTEGRITY_ALGORITHMS,
    RCD_MEMBERS,
    RcdCheck,
    RcdProblem,
    check_integrity,
    check_rcd,
    check_rcd_shape,
    integrity,
    rcdi_for,
    url_references,
    verify_content,
)
from wallet.passport.shaken import ShakenPassport, decode_shaken, shaken_header, shaken_identity, shaken_passport
from wallet.passport.tn import canonical_tn
from wallet.passport.token import (
    ALLOWED_ALGORITHMS,
    MAX_TOKEN_LENGTH,
    Parsed,
    b64url_decode,
    b64url_encode,
    canonical_json,
    decode,
    decode_header,
    encode,
    encode_payload,
    verify_signature,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "CODES",
    "PPT",
    "EnterpriseCall",
    "canonical_tn",
    "enterprise_passport",
    "parse_call",
    "CertCall",
    "Token",
    "cert_passport",
    "parse_cert_call",
    "parse_token",
    "sign_cert_call",
    "sign_call",
    "MAX_HEADER_LENGTH",
    "MAX_TOKEN_LENGTH",
    "IdentityHeader",
    "Parsed",
    "PassportError",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "decode",
    "decode_header",
    "encode",
    "encode_payload",
    "format_identity",
    "parse_identity",
    "verify_signature",
    "INTEGRITY_ALGORITHMS",
    "RCD_MEMBERS",
    "RcdCheck",
    "RcdProblem",
    "check_integrity",
    "check_rcd",
    "check_rcd_shape",
    "integrity",
    "rcdi_for",
    "url_references",
    "verify_content",
    "ShakenPassport",
    "decode_shaken",
    "shaken_header",
    "shaken_identity",
    "shaken_passport",
]
