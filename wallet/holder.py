"""The holder's side: keep the credentials issued to this wallet's DIDs, verified before they are kept.

A holder fetches a credential (from its issuer, or from any node's ``/v1/credentials/{id}``), checks that
it names one of the wallet's DIDs as subject and that its proof verifies with the issuer's key valid at the
proof time (``key_resolver`` injected: a node resolver in practice), and keeps it under ``metadata["held"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wallet.dataintegrity import document_loader, verify
from wallet.dids import wallet_dids
from wallet.errors import WalletError
from wallet.keystore import Wallet

__all__ = ["keep", "held"]


def keep(w: Wallet, credential: Mapping[str, Any], *, key_resolver: Callable[..., Any]) -> str:
    """Verify and keep a credential issued to one of this wallet's DIDs; returns its id."""
    subject = credential.get("credentialSubject", {})
    if not isinstance(subject, Mapping) or subject.get("id") not in wallet_dids(w):
        raise WalletError("the credential is not about a DID of this wallet", code="wallet.bad_credential")
    result = verify(dict(credential), key_resolver=key_resolver, loader=document_loader)
    if not result.verified:
        first = result.errors[0]
        raise WalletError(f"the credential does not verify: {first.code}: {first.message}",
                          code="wallet.bad_credential")
    with w.transaction():
        w.metadata.setdefault("held", {})[str(credential["id"])] = dict(credential)
    return str(credential["id"])


def held(w: Wallet) -> dict[str, dict[str, Any]]:
    """The credentials this wallet holds, by id."""
    return dict(w.metadata.get("held", {}))
