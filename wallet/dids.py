"""DID lifecycle from a wallet: create, rotate a key, add / remove a service, deactivate.

Writes go to the ledger through the node's :class:`~node.ledger.client.Ledger` (preflighted: a refused write
sends nothing), signed by the wallet's ledger account. Order keeps everything recoverable, whoever else writes
the wallet file meanwhile (another ``eidln`` process, another ``Wallet`` object):

1. one wallet transaction (:meth:`~wallet.keystore.Wallet.transaction`) saves the new key **and** its name
   under ``pending`` in the metadata, before the ledger write: a crash (even SIGKILL) at any later point leaves
   the key in the wallet and marked as of unknown outcome (``eidln did show`` lists it);
2. the ledger write, outside any transaction: the wallet's writer lock is never held across network I/O;
3. one wallet transaction records the outcome: on success the DID entry **and** the cleared ``pending`` mark
   together; if the ledger refused (``ContractRefusal``: nothing was written), the unused key is removed and
   the mark cleared together. On any other failure (transport error, timeout, interrupt) nobody knows whether
   the write landed, so the key stays, marked pending.

Each transaction re-reads the file under the lock before it changes anything, so concurrent writers of one
wallet lose nothing (see :mod:`wallet.keystore`).

The wallet's metadata records, per DID, which wallet key holds which fragment:
``{"dids": {"did:eidln:…": {"keys": {"key-1": "k3f2…"}, "active": ["key-1"], "deactivated": false}}}``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contracts.errors import ContractRefusal
from did_method.ident import KeyType, self_certifying_id
from did_method.syntax import format_did, parse_did
from wallet.errors import WalletError
from wallet.keys import Signer
from wallet.keystore import Wallet
from wallet.ledgerport import LedgerPort

__all__ = ["DEFAULT_RELATIONSHIPS", "create_did", "rotate_key", "add_key", "revoke_key", "set_service",
           "remove_service", "deactivate", "signer_for", "wallet_dids"]

AUTHENTICATION, ASSERTION_METHOD = 1, 2
DEFAULT_RELATIONSHIPS = AUTHENTICATION | ASSERTION_METHOD


def wallet_dids(w: Wallet) -> dict[str, dict[str, Any]]:
    dids: dict[str, dict[str, Any]] = w.metadata.setdefault("dids", {})
    return dids


def _entry(w: Wallet, did: str) -> dict[str, Any]:
    parse_did(did)
    entry = wallet_dids(w).get(did)
    if entry is None:
        raise WalletError(f"this wallet does not control {did}", code="wallet.unknown_did")
    return entry


def _settle(w: Wallet, name: str) -> None:
    """Clear a key's ``pending`` mark (inside a transaction)."""
    pending = w.metadata.get("pending", [])
    if name in pending:
        pending.remove(name)
    if not pending:
        w.metadata.pop("pending", None)


@contextmanager
def _new_key(w: Wallet, key_type: KeyType) -> Iterator[tuple[str, Signer]]:
    """A fresh key, saved in the wallet with a ``pending`` mark before the body (the ledger write) runs.

    If the ledger refused the write (``ContractRefusal``: preflight refused, or the transaction reverted, so
    nothing was written), the key and its mark are removed again. On any other failure the outcome is unknown
    and both stay. On success the caller records the outcome and calls :func:`_settle` in one transaction."""
    name = f"k{secrets.token_hex(6)}"
    with w.transaction():
        signer = w.add_key(name, key_type)
        w.metadata.setdefault("pending", []).append(name)
    try:
        yield name, signer
    except ContractRefusal:
        with w.transaction():
            w.remove_key(name)
            _settle(w, name)
        raise


def create_did(w: Wallet, ledger: LedgerPort, *, key_type: KeyType = KeyType.ED25519,
               relationships: int = DEFAULT_RELATIONSHIPS) -> str:
    """Create a DID with a new key ``#key-1``; returns the DID string."""
    with _new_key(w, key_type) as (name, signer):
        ident = self_certifying_id(key_type, signer.public_key)
        did = format_did(ledger.network, ident)
        ledger.transact(w.ledger_account(), "DIDRegistry", "create", ident, "key-1", int(key_type),
                        signer.public_key, relationships)
    with w.transaction():
        wallet_dids(w)[did] = {"keys": {"key-1": name}, "active": ["key-1"], "deactivated": False}
        _settle(w, name)
    return did


def rotate_key(w: Wallet, ledger: LedgerPort, did: str, *, old_fragment: str | None = None,
               key_type: KeyType = KeyType.ED25519, relationships: int = DEFAULT_RELATIONSHIPS) -> str:
    """Add a new key and revoke ``old_fragment`` (default: the oldest active key) in one transaction."""
    entry = _entry(w, did)
    old = old_fragment or entry["active"][0]
    if old not in entry["active"]:
        raise WalletError(f"{did}#{old} is not an active key of this wallet", code="wallet.no_such_key")
    fragment = f"key-{len(entry['keys']) + 1}"
    with _new_key(w, key_type) as (name, signer):
        ledger.transact(w.ledger_account(), "DIDRegistry", "rotate_key", parse_did(did).ident, old, fragment,
                        int(key_type), signer.public_key, relationships)
    with w.transaction():
        entry = _entry(w, did)
        entry["keys"][fragment] = name
        entry["active"] = [f for f in entry["active"] if f != old] + [fragment]
        _settle(w, name)
    return fragment


def add_key(w: Wallet, ledger: LedgerPort, did: str, *, key_type: KeyType = KeyType.ED25519,
            relationships: int = DEFAULT_RELATIONSHIPS) -> str:
    """Add a new key next to the active ones (no revocation): the first half of an overlapping rotation. From now on
    :func:`signer_for` signs with it (the newest active key); calls signed with the older keys stay valid until
    :func:`revoke_key` (``docs/security.md`` §9.1). Returns the new key's fragment."""
    entry = _entry(w, did)
    if entry.get("deactivated"):
        raise WalletError(f"{did} is deactivated", code="wallet.no_such_key")
    fragment = f"key-{len(entry['keys']) + 1}"
    with _new_key(w, key_type) as (name, signer):
        ledger.transact(w.ledger_account(), "DIDRegistry", "add_key", parse_did(did).ident, fragment, int(key_type),
                        signer.public_key, relationships)
    with w.transaction():
        entry = _entry(w, did)
        entry["keys"][fragment] = name
        entry["active"] = [*entry["active"], fragment]
        _settle(w, name)
    return fragment


def revoke_key(w: Wallet, ledger: LedgerPort, did: str, fragment: str) -> None:
    """Revoke one active key (the ledger refuses the last one: ``did.last_key``). Its signatures made from now on
    are invalid, and an OSP gives no A to a call signed with it, even one signed before (the call-time rule)."""
    entry = _entry(w, did)
    if fragment not in entry["active"]:
        raise WalletError(f"{did}#{fragment} is not an active key of this wallet", code="wallet.no_such_key")
    ledger.transact(w.ledger_account(), "DIDRegistry", "revoke_key", parse_did(did).ident, fragment)
    with w.transaction():
        entry = _entry(w, did)
        entry["active"] = [f for f in entry["active"] if f != fragment]


def set_service(w: Wallet, ledger: LedgerPort, did: str, fragment: str, service_type: str, endpoint: str) -> None:
    _entry(w, did)
    ledger.transact(w.ledger_account(), "DIDRegistry", "set_service", parse_did(did).ident, fragment,
                    service_type, endpoint)


def remove_service(w: Wallet, ledger: LedgerPort, did: str, fragment: str) -> None:
    _entry(w, did)
    ledger.transact(w.ledger_account(), "DIDRegistry", "remove_service", parse_did(did).ident, fragment)


def deactivate(w: Wallet, ledger: LedgerPort, did: str) -> None:
    _entry(w, did)
    ledger.transact(w.ledger_account(), "DIDRegistry", "deactivate", parse_did(did).ident)
    with w.transaction():
        _entry(w, did)["deactivated"] = True


def signer_for(w: Wallet, did: str, fragment: str | None = None) -> tuple[Signer, str]:
    """The signer of a DID's key and its DID URL (``did#fragment``); default: the newest active key."""
    entry = _entry(w, did)
    if entry.get("deactivated"):
        raise WalletError(f"{did} is deactivated", code="wallet.no_such_key")
    frag = fragment or entry["active"][-1]
    if frag not in entry["active"]:
        raise WalletError(f"{did}#{frag} is not an active key of this wallet", code="wallet.no_such_key")
    return w.signer(entry["keys"][frag]), f"{did}#{frag}"
