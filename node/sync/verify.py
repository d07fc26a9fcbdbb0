"""Re-verify every anchored credential while syncing: the chain is not trusted for content.

For each ``CredentialAnchored`` event the node checks, from its own index only:

1. the anchored bytes are a JSON credential of one of the ledger's kinds (``vc.malformed``);
2. the record the chain keeps (kind, issuer, subject, parent, flags, validity, TN ranges) is exactly what
   the credential itself says (``vc.anchor_mismatch``);
3. the Data Integrity proof (eddsa-rdfc-2022 / eddsa-jcs-2022) verifies with the issuer's key **as it was at
   the proof's creation time** (the DID history replayed from the index; ``vc.issuer_mismatch`` if the
   proof's key is not the issuer's), with the offline, SHA-256-pinned context loader.

A credential that fails is kept aside in ``rejected_credentials`` with its code and message: never used,
never silently dropped. The contracts enforce who may anchor what; this module makes sure that what was
anchored is what the issuer signed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from did_method.document import Change
from did_method.errors import DidError
from did_method.resolver import Resolver
from wallet.credentials import CredentialError, anchor_of

__all__ = ["Rejection", "CredentialChecker", "ConnectionHistory"]


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str


class ConnectionHistory:
    """DID history read through the sync transaction's own connection (sees this batch's DIDs too)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def changes(self, ident: bytes) -> list[Change]:
        rows = self.db.execute("SELECT block, log_index, timestamp, name, args FROM did_changes WHERE did = ? "
                               "ORDER BY block, log_index", (ident,)).fetchall()
        return [Change(b, i, t, n, json.loads(a)) for b, i, t, n, a in rows]


def _hex(v: str) -> bytes:
    return bytes.fromhex(v[2:])


class CredentialChecker:
    """Callable ``(db, event_args) -> Rejection | None``; one per follower (network name and chain id)."""

    def __init__(self, *, network: str, chain_id: int) -> None:
        self.network = network
        self.chain_id = chain_id

    def __call__(self, db: sqlite3.Connection, args: Mapping[str, Any]) -> Rejection | None:
        from wallet.dataintegrity.loader import document_loader
        from wallet.dataintegrity.suites import verify

        try:
            vc = json.loads(_hex(args["credential"]))
        except (ValueError, UnicodeDecodeError):
            return Rejection(code="vc.malformed", message="the anchored bytes are not JSON")
        if not isinstance(vc, dict):
            return Rejection(code="vc.malformed", message="the anchored credential is not a JSON object")
        try:
            anchor = anchor_of(vc)
        except (CredentialError, DidError) as exc:
            return Rejection(code="vc.malformed", message=exc.message)
        recorded = {"id": _hex(args["id"]), "kind": args["kind"], "issuer": _hex(args["issuer"]),
                    "subject": _hex(args["subject"]), "parent": _hex(args["parent"]), "flags": args["flags"],
                    "valid_from": args["valid_from"], "valid_until": args["valid_until"],
                    "tns": [(r["start"], r["count"]) for r in args["tns"]]}
        derived = {"id": anchor.id, "kind": int(anchor.kind), "issuer": anchor.issuer, "subject": anchor.subject,
                   "parent": anchor.parent, "flags": int(anchor.flags), "valid_from": anchor.valid_from,
                   "valid_until": anchor.valid_until, "tns": [(r.start, r.count) for r in anchor.tns]}
        diff = sorted(k for k in recorded if recorded[k] != derived[k])
        if diff:
            return Rejection(code="vc.anchor_mismatch",
                             message=f"the ledger record differs from the credential in {diff}")
        resolver = Resolver(ConnectionHistory(db), network=self.network, chain_id=self.chain_id)
        issuer = vc["issuer"]

        def key_for(vm: str, created: datetime) -> tuple[Any, bytes]:
            if not vm.startswith(issuer + "#"):
                raise DidError(f"the proof's key {vm} is not a key of the issuer {issuer}")
            key = resolver.key_at(vm, int(created.timestamp()))
            return key.key_type, key.public_key

        result = verify(vc, key_resolver=key_for, loader=document_loader, expected_purpose="assertionMethod")
        if not result.verified:
            first = result.errors[0]
            return Rejection(first.code, first.message)
        return None
