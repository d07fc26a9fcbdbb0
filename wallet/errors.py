"""The wallet's errors: one class, a machine-readable ``code`` and a sentence a person understands.

Messages name files, key names and key types, never secret material or passphrases. The CLI and the REST layer
translate codes once, at the edge, as they do for the node's errors.
"""

from __future__ import annotations

from contracts.errors import CodedError

__all__ = ["CodedError", "WalletError", "CODES"]  # CodedError: the project's one error root, re-exported

CODES = frozenset({
    "wallet.wrong_passphrase",  # the key-check value does not match the derived key
    "wallet.tampered",  # the passphrase is right but the ciphertext or the header fails authentication
    "wallet.corrupt",  # not a wallet file: unreadable, truncated, malformed
    "wallet.exists",  # create/export/import would replace an existing file
    "wallet.not_found",  # no file at the path
    "wallet.no_such_key",  # no key of that name in the wallet
    "wallet.key_exists",  # a key of that name is in the wallet already
    "wallet.bad_name",  # a key name outside [A-Za-z0-9][A-Za-z0-9._-]{0,31}
    "wallet.weak_passphrase",  # a new passphrase shorter than 12 characters
    "wallet.bad_passphrase",  # a passphrase that is not Unicode text (lone surrogates from non-UTF-8 bytes)
    "wallet.unsupported_version",  # a wallet file of a format version this code does not read
    "wallet.bad_key",  # secret or public key bytes that do not make a key of the stated type
    "wallet.unknown_did",  # a DID this wallet does not control
    "wallet.bad_credential",  # a credential whose content does not fit its kind (missing / malformed fields)
    "wallet.unknown_kind",  # a credential that is not one of the ledger's kinds
    "wallet.session_expired",  # an unlock session past its expiry, or ended by 'eidln wallet lock'
    "wallet.session_invalid",  # a session token that is malformed or does not open its session file (altered?)
    "wallet.session_stale",  # the wallet was re-encrypted under a new salt since the session was unlocked
    "wallet.session_dir_unsafe",  # a session directory that is a symlink, not ours, or open to other users
})


class WalletError(CodedError):
    """Every error the wallet raises on purpose. ``code`` is one of :data:`CODES` (same shape as ``NodeError``)."""

    CODES = CODES
