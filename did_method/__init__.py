"""The did:eidln method: identifiers, syntax, Multikey keys and errors (SPEC.md is the specification).

Documents (:mod:`did_method.document`) and resolution (:mod:`did_method.resolver`, which imports this
package, so import it from there) complete the method.
"""

from did_method.errors import (
    Deactivated,
    DidError,
    InternalError,
    InvalidDid,
    InvalidDidDocument,
    InvalidDidUrl,
    InvalidOptions,
    MethodNotSupported,
    MultikeyError,
    NotFound,
    RepresentationNotSupported,
)
from did_method.ident import MULTICODEC_PREFIX, KeyType, self_certifying_id
from did_method.multikey import decode_public_key, encode_public_key, to_jwk
from did_method.syntax import (
    METHOD,
    Did,
    DidUrl,
    format_did,
    is_valid_fragment,
    is_valid_network,
    parse_did,
    parse_did_url,
)

__all__ = [
    "KeyType",
    "MULTICODEC_PREFIX",
    "self_certifying_id",
    "METHOD",
    "Did",
    "DidUrl",
    "parse_did",
    "format_did",
    "parse_did_url",
    "is_valid_fragment",
    "is_valid_network",
    "encode_public_key",
    "decode_public_key",
    "to_jwk",
    "DidError",
    "InvalidDid",
    "InvalidDidUrl",
    "MethodNotSupported",
    "NotFound",
    "Deactivated",
    "RepresentationNotSupported",
    "InvalidOptions",
    "InvalidDidDocument",
    "InternalError",
    "MultikeyError",
]
