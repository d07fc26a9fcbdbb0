"""The EIDLN wallet: keys (:mod:`wallet.keys`), the encrypted wallet file (:mod:`wallet.keystore`).

Issues 4-5 add DIDs, credentials and PASSporTs on top of these.
"""

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
]
