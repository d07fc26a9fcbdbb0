"""The did:eidln method: identifiers, documents, resolution (issue 3 completes this package)."""

from did_method.ident import KeyType, self_certifying_id

__all__ = ["KeyType", "self_certifying_id"]
