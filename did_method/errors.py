"""The did:eidln error tree: one class per W3C DID Resolution error, translated to HTTP once, at the edge.

Decisions:

* ``code`` is the DID Core / DID Resolution keyword (``notFound``), the form DID Core 1.0 resolution metadata
  and the legacy Universal Resolver use. ``problem_type`` is the RFC 9457 ``type`` URL the current DID
  Resolution draft and Universal Resolver use (``https://www.w3.org/ns/did#NOT_FOUND``). Both are class
  attributes, so an HTTP layer maps an error without ``isinstance`` chains.
* ``http_status`` follows the DID Resolution HTTP(S) binding: 400 for bad input, 404 not found, 406 an
  unsupported representation, 410 deactivated, 500 an invalid document or an internal failure, 501 an
  unsupported method.
* :class:`MultikeyError` is not a DID Resolution error: a ``publicKeyMultibase`` value that does not decode.
  Its RFC 9457 type is the CID 1.0 ``INVALID_VERIFICATION_METHOD`` (a bad key makes its verification method
  invalid) and its status is 400, because the only way one reaches the HTTP edge is as client input (a
  resolver omits a ledger key it cannot encode; see SPEC.md §5.3).
"""

from __future__ import annotations

from typing import ClassVar

from contracts.errors import CodedError

__all__ = [
    "DID_PROBLEM_BASE",
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

DID_PROBLEM_BASE = "https://www.w3.org/ns/did#"


class DidError(CodedError):
    """Base of every did:eidln error. ``code`` is machine-readable, ``message`` is one sentence for a person.

    The base class itself stands for an unexpected failure (``internalError``); raise a subclass. Part of the
    project's one error tree (:class:`contracts.errors.CodedError`); its codes are the DID Resolution keywords.
    """

    CODES: ClassVar[frozenset[str] | None] = None
    code = "internalError"
    problem_name: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "An unexpected error occurred during DID resolution or dereferencing."
    http_status: ClassVar[int] = 500

    def __init__(self, message: str) -> None:
        super().__init__(message, code=type(self).code)

    @property
    def problem_type(self) -> str:
        """The RFC 9457 ``type`` URL of this error."""
        return DID_PROBLEM_BASE + self.problem_name

    def to_problem(self, instance: str | None = None) -> dict[str, object]:
        """An RFC 9457 problem details object (``application/problem+json``) for this error."""
        body: dict[str, object] = {"type": self.problem_type, "title": self.title,
                                   "status": self.http_status, "detail": self.message}
        if instance is not None:
            body["instance"] = instance
        return body


class InvalidDid(DidError):
    """The text is not a DID, or not a valid did:eidln DID."""

    code = "invalidDid"
    problem_name = "INVALID_DID"
    title = "Invalid DID."
    http_status = 400


class InvalidDidUrl(DidError):
    """The text is not a DID URL, or uses DID parameters or a fragment this method does not allow."""

    code = "invalidDidUrl"
    problem_name = "INVALID_DID_URL"
    title = "Invalid DID URL."
    http_status = 400


class MethodNotSupported(DidError):
    """A syntactically valid DID of another method than ``eidln``."""

    code = "methodNotSupported"
    problem_name = "METHOD_NOT_SUPPORTED"
    title = "The DID method is not supported."
    http_status = 501


class NotFound(DidError):
    """The DID (or the resource a DID URL names) does not exist on the ledger this resolver follows."""

    code = "notFound"
    problem_name = "NOT_FOUND"
    title = "The DID or DID document was not found."
    http_status = 404


class Deactivated(DidError):
    """The DID was deactivated; resolution returns no document and ``deactivated: true`` metadata."""

    code = "deactivated"
    problem_name = "DEACTIVATED"
    title = "The DID has been deactivated."
    http_status = 410


class RepresentationNotSupported(DidError):
    """The requested media type (``accept``) is not one this resolver produces."""

    code = "representationNotSupported"
    problem_name = "REPRESENTATION_NOT_SUPPORTED"
    title = "The requested DID document representation is not supported."
    http_status = 406


class InvalidOptions(DidError):
    """Resolution options are malformed or contradict each other."""

    code = "invalidOptions"
    problem_name = "INVALID_OPTIONS"
    title = "Invalid resolution options."
    http_status = 400


class InvalidDidDocument(DidError):
    """The document the ledger history produces is not a conforming DID document."""

    code = "invalidDidDocument"
    problem_name = "INVALID_DID_DOCUMENT"
    title = "The DID document is invalid."
    http_status = 500


class InternalError(DidError):
    """Any other failure of the resolver itself (for example the local index cannot be read)."""


class MultikeyError(DidError):
    """A Multikey ``publicKeyMultibase`` value (or a raw key to encode) that is not a valid Ed25519 / P-256 key."""

    code = "invalidPublicKey"
    problem_name = "INVALID_VERIFICATION_METHOD"
    title = "The public key is not a valid Multikey value."
    http_status = 400

    @property
    def problem_type(self) -> str:
        """CID 1.0 §3.3 error type: ``https://w3id.org/security#INVALID_VERIFICATION_METHOD``."""
        return "https://w3id.org/security#" + self.problem_name
