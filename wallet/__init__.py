"""The EIDLN wallet: keys (:mod:`wallet.keys`), the encrypted wallet file (:mod:`wallet.keystore`).

DIDs (:mod:`wallet.dids`), credential shapes (:mod:`wallet.credentials`) and Data Integrity proofs
(:mod:`wallet.dataintegrity`) build on these; PASSporTs follow (issue 5). DID Auth at vetting: :mod:`wallet.didauth`.
"""

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
