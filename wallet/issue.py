"""Issue a credential: sign it with the issuer DID's key (eddsa-rdfc-2022) and anchor it on the ledger.

The safe recipe on top of :mod:`wallet.credentials` (shapes) and :mod:`wallet.dataintegrity` (proofs): no
cryptographic choice is made by the caller. The issued credential is kept in the issuer's wallet under
``metadata["issued"]`` (after the ledger accepted it), so an issuer can hand it to the holder again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from contracts.vocab import credential_key
from wallet.credentials import anchor_of
from wallet.dataintegrity import document_loader, sign
from wallet.dids import signer_for
from wallet.keystore import Wallet
from wallet.ledgerport import LedgerPort

__all__ = ["issue", "set_status"]


def issue(w: Wallet, ledger: LedgerPort, issuer_did: str, unsigned: Mapping[str, Any], *,
          created: datetime | None = None) -> dict[str, Any]:
    """Sign ``unsigned`` as ``issuer_did`` and anchor it; returns the signed credential.

    ``created`` defaults to the chain's newest block time (the key the proof names must be valid then, which
    the node checks against the DID's history)."""
    signer, vm = signer_for(w, issuer_did)
    if created is None:
        created = datetime.fromtimestamp(ledger.head_time(), UTC)
    signed = sign(unsigned, signer, verification_method=vm, created=created, loader=document_loader)
    ledger.anchor(w.ledger_account(), [anchor_of(signed).to_abi()])
    with w.transaction():
        w.metadata.setdefault("issued", {})[signed["id"]] = signed
    return signed


def set_status(w: Wallet, ledger: LedgerPort, credential_id: str, action: str) -> None:
    """``action`` is revoke, suspend or reinstate (the contract checks the issuer's control)."""
    if action not in ("revoke", "suspend", "reinstate"):
        raise ValueError(f"unknown status action {action!r}")
    ledger.transact(w.ledger_account(), "CredentialRegistry", action, credential_key(credential_id))
