"""The node's Bitstring Status List credentials: the on-ledger status of every anchored credential, for
verifiers off the ledger (W3C Bitstring Status List v1.0).

* **Index**: a credential's ``statusListIndex`` is its position among all ``CredentialAnchored`` events in
  chain order (0, 1, 2, ...), the same on every node of the network and stable forever.
* **Bits**: in the ``revocation`` list a bit is set for a revoked credential and for one the node refused at
  sync (it is never valid); in the ``suspension`` list, for a suspended one.
* **Signature**: the list credential is signed (eddsa-rdfc-2022) by the DID the node operator configures
  (``EIDLN_STATUS_DID``, a DID of the node's wallet); without one the endpoint answers 404
  ``status.not_configured`` rather than publish an unsigned list.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.vocab import Status
from did_method.timefmt import xml_datetime
from node import statuslist
from node.statuslist import status_indexes
from node.sync.indexdb import IndexReader
from wallet.credentials import VC_CONTEXT
from wallet.dataintegrity import document_loader, sign
from wallet.keys import Signer

__all__ = ["StatusIssuer", "status_indexes", "status_list_credential"]


@dataclass(frozen=True)
class StatusIssuer:
    did: str
    verification_method: str
    signer: Signer
    base_url: str  # e.g. https://node.example (the lists live at <base>/v1/status/<purpose>)


def status_list_credential(db: IndexReader | sqlite3.Connection, issuer: StatusIssuer, purpose: str, *,
                           clock: Callable[[], float]) -> dict[str, Any]:
    reader = db if isinstance(db, IndexReader) else IndexReader(db)
    entries = status_indexes(reader)
    bits = statuslist.new(max(len(entries), statuslist.MIN_ENTRIES))
    flagged = int(Status.REVOKED) if purpose == "revocation" else int(Status.SUSPENDED)
    for i, (_, status) in enumerate(entries):
        if status == flagged:
            statuslist.set(bits, i)
    url = f"{issuer.base_url}/v1/status/{purpose}"
    # never before the newest indexed block: a chain's clock may run a little ahead of the wall clock, and the
    # signing key must already be on the ledger at the proof's `created`
    head = reader.newest_block_time()
    now = datetime.fromtimestamp(max(int(clock()), head), UTC)
    unsigned = {"@context": [VC_CONTEXT], "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": issuer.did, "validFrom": xml_datetime(now),
                "credentialSubject": statuslist.status_list_subject(id=f"{url}#list", purpose=purpose, bits=bits)}
    return sign(unsigned, issuer.signer, verification_method=issuer.verification_method, created=now,
                loader=document_loader)
