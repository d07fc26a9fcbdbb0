"""The did:eidln error tree: DID Resolution keywords, RFC 9457 types and HTTP statuses, each code once."""

from __future__ import annotations

import pytest

import did_method
from did_method import errors
from did_method.errors import DidError

EXPECTED = {
    # class: (code, problem name, HTTP status)
    "InvalidDid": ("invalidDid", "INVALID_DID", 400),
    "InvalidDidUrl": ("invalidDidUrl", "INVALID_DID_URL", 400),
    "InvalidOptions": ("invalidOptions", "INVALID_OPTIONS", 400),
    "NotFound": ("notFound", "NOT_FOUND", 404),
    "RepresentationNotSupported": ("representationNotSupported", "REPRESENTATION_NOT_SUPPORTED", 406),
    "Deactivated": ("deactivated", "DEACTIVATED", 410),
    "InvalidDidDocument": ("invalidDidDocument", "INVALID_DID_DOCUMENT", 500),
    "InternalError": ("internalError", "INTERNAL_ERROR", 500),
    "MethodNotSupported": ("methodNotSupported", "METHOD_NOT_SUPPORTED", 501),
}


def error_classes() -> list[type[DidError]]:
    found = [getattr(errors, name) for name in errors.__all__]
    return [c for c in found if isinstance(c, type) and issubclass(c, DidError) and c is not DidError]


def test_every_class_is_listed() -> None:
    assert {c.__name__ for c in error_classes()} == set(EXPECTED) | {"MultikeyError"}


def test_codes_are_unique() -> None:
    codes = [c.code for c in error_classes()]
    assert len(codes) == len(set(codes)), codes


def test_problem_types_are_unique() -> None:
    types = [c("x").problem_type for c in error_classes()]
    assert len(types) == len(set(types)), types


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_resolution_error(name: str) -> None:
    code, problem, status = EXPECTED[name]
    cls = getattr(errors, name)
    err = cls("something precise")
    assert isinstance(err, DidError) and isinstance(err, Exception)
    assert err.code == code
    assert err.message == "something precise"
    assert err.http_status == status
    assert err.problem_type == "https://www.w3.org/ns/did#" + problem
    assert str(err) == f"{code}: something precise"
    assert getattr(did_method, name) is cls


def test_multikey_error() -> None:
    err = errors.MultikeyError("bad key")
    assert err.code == "invalidPublicKey"
    assert err.http_status == 400
    assert err.problem_type == "https://w3id.org/security#INVALID_VERIFICATION_METHOD"


def test_problem_body() -> None:
    err = errors.NotFound("did:eidln:local:1111111111111111 is not on the ledger")
    assert err.to_problem() == {"type": "https://www.w3.org/ns/did#NOT_FOUND", "title": err.title,
                                "status": 404, "detail": err.message}
    assert err.to_problem("/1.0/identifiers/x")["instance"] == "/1.0/identifiers/x"


def test_base_class_is_an_internal_error() -> None:
    err = DidError("unexpected")
    assert (err.code, err.http_status) == ("internalError", 500)
    with pytest.raises(DidError):
        raise errors.Deactivated("gone")
