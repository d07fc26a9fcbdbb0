"""The EIDLN wallet: keys (:mod:`wallet.keys`), the encrypted wallet file (:mod:`wallet.keystore`).

DIDs (:mod:`wallet.dids`), credential shapes (:mod:`wallet.credentials`) and Data Integrity proofs
(:mod:`wallet.dataintegrity`) build on these; PASSporTs follow (issue 5). DID Auth at vetting: :mod:`wallet.didauth`.
Unlock sessions (one Argon2id run per session, not per command): :mod:`wallet.session`.

The names below are resolved on first use (PEP 562): ``import wallet.errors`` or ``from wallet import strictjson``
loads no key, DID Auth or PASSporT code, so the command line starts fast (issue 11).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wallet import didauth
    from wallet.didauth import Challenge, DidAuthError, DidAuthResult
    from wallet.errors import CODES, WalletError
    from wallet.keys import Ed25519Key, P256Key, Signer, algorithm_for, verify
    from wallet.keystore import LEDGER_KEY, MIN_PASSPHRASE_LENGTH, KeyInfo, Wallet

__all__ = [
    "CODES",
    "WalletError",
    "Signer",
    "Ed25519Key",
    "P256Key",
    "verify",
    "algorithm_for",
    "Wallet",
    "KeyInfo",
    "LEDGER_KEY",
    "MIN_PASSPHRASE_LENGTH",
    "didauth",
    "Challenge",
    "DidAuthError",
    "DidAuthResult",
]

_HOME = {
    "CODES": "wallet.errors", "WalletError": "wallet.errors",
    "Signer": "wallet.keys", "Ed25519Key": "wallet.keys", "P256Key": "wallet.keys", "verify": "wallet.keys",
    "algorithm_for": "wallet.keys",
    "Wallet": "wallet.keystore", "KeyInfo": "wallet.keystore", "LEDGER_KEY": "wallet.keystore",
    "MIN_PASSPHRASE_LENGTH": "wallet.keystore",
    "Challenge": "wallet.didauth", "DidAuthError": "wallet.didauth", "DidAuthResult": "wallet.didauth",
}


def __getattr__(name: str) -> Any:
    if name == "didauth":
        return import_module("wallet.didauth")
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'wallet' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # resolved once
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
