"""The wallet: named keys and a little JSON metadata in one encrypted file (format: :mod:`wallet.envelope`).

A wallet holds the DID keys a member signs with (Ed25519, P-256), its one ``secp256k1`` ledger account (named
``"ledger"``, created with the wallet) and metadata such as the DIDs it controls.

Decisions:

* One file per wallet, all keys inside one authenticated ciphertext: names, types and creation times are
  hidden too, and a key cannot be swapped or rolled back on its own. (The node's per-account Ethereum v3
  keystore has no associated data and holds one key per file.)
* Changes live in memory until :meth:`Wallet.save`, which re-encrypts with a fresh salt and nonce (one Argon2id
  run) and replaces the file atomically. One writer per file. ``create``, ``export`` and ``import_backup``
  never replace an existing file (``wallet.exists``).
* Passphrases are NFC-normalized (the same passphrase typed on two systems gives the same bytes), then UTF-8;
  a new one needs at least 12 characters. An open wallet keeps its passphrase in memory to re-encrypt on save.
  Secrets never appear in a repr, an exception message or a log; this module logs nothing.
* The clock that stamps ``created`` is a parameter (``clock=time.time``), so tests need no patching.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys as eth_keys

from did_method.ident import KeyType
from wallet import envelope
from wallet.errors import WalletError
from wallet.keys import Ed25519Key, Signer, generate_signer, load_signer

__all__ = ["Wallet", "KeyInfo", "LEDGER_KEY", "MIN_PASSPHRASE_LENGTH"]

LEDGER_KEY = "ledger"
MIN_PASSPHRASE_LENGTH = 12

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
_TYPES = {"ed25519": KeyType.ED25519, "p256": KeyType.P256}
_SECP256K1 = "secp256k1"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
Clock = Callable[[], float]


@dataclass(frozen=True)
class KeyInfo:
    """A key's public description. ``type`` is ``"ed25519"``, ``"p256"`` or ``"secp256k1"`` (the ledger key)."""

    name: str
    type: str
    public_key: bytes  # raw: 32 bytes Ed25519; 33 bytes compressed P-256 or secp256k1
    created: int  # unix seconds

    @property
    def key_type(self) -> KeyType | None:
        """The DID key type, or ``None`` for the ledger account."""
        return _TYPES.get(self.type)


@dataclass
class _Entry:
    info: KeyInfo
    secret: bytes = field(repr=False)


def _passphrase(passphrase: str, *, new: bool) -> str:
    if not isinstance(passphrase, str):
        raise TypeError(f"a passphrase is a str, not {type(passphrase).__name__}")
    passphrase = unicodedata.normalize("NFC", passphrase)
    if new and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise WalletError(f"a wallet passphrase needs at least {MIN_PASSPHRASE_LENGTH} characters",
                          code="wallet.weak_passphrase")
    return passphrase


def _name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise WalletError(f"bad key name {name!r} (a letter or digit, then up to 31 letters, digits or '._-')",
                          code="wallet.bad_name")
    return name


def _did_entry(name: str, key_type: KeyType, secret: bytes, created: int) -> _Entry:
    signer = load_signer(key_type, secret)
    type_name = "ed25519" if signer.key_type is KeyType.ED25519 else "p256"
    return _Entry(KeyInfo(name, type_name, signer.public_key, created), secret)


def _ledger_entry(secret: bytes, created: int) -> _Entry:
    if not isinstance(secret, bytes) or len(secret) != 32 or not 1 <= int.from_bytes(secret, "big") < _SECP256K1_N:
        raise WalletError("a secp256k1 ledger key is a 32-byte scalar in [1, n - 1]", code="wallet.bad_key")
    public = eth_keys.PrivateKey(secret).public_key.to_compressed_bytes()
    return _Entry(KeyInfo(LEDGER_KEY, _SECP256K1, public, created), secret)


def _payload(entries: dict[str, _Entry], metadata: dict[str, Any]) -> bytes:
    keys = [{"name": e.info.name, "type": e.info.type, "secret": e.secret.hex(), "created": e.info.created}
            for e in entries.values()]
    return envelope.canonical_json({"keys": keys, "metadata": metadata})


def _parse_payload(plaintext: bytes, where: object) -> tuple[dict[str, _Entry], dict[str, Any]]:
    """Entries and metadata of authenticated contents; anything unexpected is ``wallet.corrupt``."""
    try:
        doc = json.loads(plaintext)
        if not isinstance(doc, dict) or set(doc) != {"keys", "metadata"} or not isinstance(doc["metadata"], dict):
            raise ValueError("members")
        entries: dict[str, _Entry] = {}
        for item in doc["keys"]:
            if set(item) != {"name", "type", "secret", "created"} or type(item["created"]) is not int:
                raise ValueError("key record")
            name, secret, created = _name(item["name"]), bytes.fromhex(item["secret"]), item["created"]
            if name in entries:
                raise ValueError("duplicate key name")
            if item["type"] == _SECP256K1 and name == LEDGER_KEY:
                entries[name] = _ledger_entry(secret, created)
            else:
                entries[name] = _did_entry(name, _TYPES[item["type"]], secret, created)
        if LEDGER_KEY not in entries or entries[LEDGER_KEY].info.type != _SECP256K1:
            raise ValueError("no ledger key")
    except (ValueError, TypeError, KeyError, WalletError):
        raise envelope.corrupt(where, "the decrypted contents are malformed") from None
    return entries, doc["metadata"]


class Wallet:
    """An open wallet. Build one with :meth:`create`, :meth:`open` or :meth:`import_backup`."""

    def __init__(self, path: Path, passphrase: str, limits: tuple[int, int], entries: dict[str, _Entry],
                 metadata: dict[str, Any], clock: Clock) -> None:
        self._path = path
        self._passphrase = passphrase
        self._limits = limits
        self._entries = entries
        self._metadata = metadata
        self._clock = clock

    # ---------------------------------------------------------------------------------------- construction

    @classmethod
    def create(cls, path: str | Path, passphrase: str, *, fast: bool = False, ledger_key: bytes | None = None,
               clock: Clock = time.time) -> Wallet:
        """A new wallet file at ``path`` with a ledger account (fresh, or ``ledger_key``: a 32-byte secret).

        ``fast=True`` uses Argon2id INTERACTIVE limits instead of MODERATE (for tests; recorded in the header).
        """
        path = Path(path)
        passphrase = _passphrase(passphrase, new=True)
        if path.exists():
            raise WalletError(f"{path} exists already; not replacing it", code="wallet.exists")
        secret = ledger_key if ledger_key is not None else bytes(Account.create().key)
        entries = {LEDGER_KEY: _ledger_entry(secret, int(clock()))}
        wallet = cls(path, passphrase, envelope.INTERACTIVE if fast else envelope.MODERATE, entries, {}, clock)
        wallet._write(path, passphrase, replace=False)
        return wallet

    @classmethod
    def open(cls, path: str | Path, passphrase: str, *, clock: Clock = time.time) -> Wallet:
        """The wallet at ``path``. Raises ``wallet.not_found``, ``wallet.wrong_passphrase``, ``wallet.tampered``,
        ``wallet.corrupt`` or ``wallet.unsupported_version``."""
        path = Path(path)
        passphrase = _passphrase(passphrase, new=False)
        plaintext, limits = envelope.unseal(envelope.read_file(path), passphrase, path)
        entries, metadata = _parse_payload(plaintext, path)
        return cls(path, passphrase, limits, entries, metadata, clock)

    @classmethod
    def import_backup(cls, backup_path: str | Path, backup_passphrase: str, new_path: str | Path,
                      new_passphrase: str, *, clock: Clock = time.time) -> Wallet:
        """Restore a backup made by :meth:`export` as a new wallet file under a new passphrase."""
        new_path, new_passphrase = Path(new_path), _passphrase(new_passphrase, new=True)
        if new_path.exists():
            raise WalletError(f"{new_path} exists already; not replacing it", code="wallet.exists")
        backup = cls.open(backup_path, backup_passphrase, clock=clock)
        wallet = cls(new_path, new_passphrase, backup._limits, backup._entries, backup._metadata, clock)
        wallet._write(new_path, new_passphrase, replace=False)
        return wallet

    # ---------------------------------------------------------------------------------------- persistence

    @property
    def path(self) -> Path:
        return self._path

    def _write(self, path: Path, passphrase: str, *, replace: bool) -> None:
        blob = envelope.seal(_payload(self._entries, self._metadata), passphrase, self._limits)
        envelope.write_atomic(path, blob, replace=replace)

    def save(self) -> None:
        """Re-encrypt (fresh salt and nonce) and atomically replace the wallet file."""
        self._write(self._path, self._passphrase, replace=True)

    def export(self, path: str | Path, export_passphrase: str) -> None:
        """An encrypted backup in the same format, under its own passphrase; never replaces a file."""
        path, export_passphrase = Path(path), _passphrase(export_passphrase, new=True)
        if path.exists():
            raise WalletError(f"{path} exists already; not replacing it", code="wallet.exists")
        self._write(path, export_passphrase, replace=False)

    # ---------------------------------------------------------------------------------------- keys

    def add_key(self, name: str, key_type: KeyType) -> Signer:
        """Generate a DID key named ``name``. In memory until :meth:`save`."""
        signer = generate_signer(key_type)
        secret = signer.seed if isinstance(signer, Ed25519Key) else signer.private_bytes
        return self.import_key(name, key_type, secret)

    def import_key(self, name: str, key_type: KeyType, secret: bytes) -> Signer:
        """Add an existing DID key: a 32-byte Ed25519 seed or P-256 scalar. In memory until :meth:`save`."""
        if _name(name) in self._entries:
            raise WalletError(f"a key named {name!r} is in the wallet already", code="wallet.key_exists")
        entry = _did_entry(name, KeyType(key_type), secret, int(self._clock()))
        self._entries[name] = entry
        return load_signer(KeyType(key_type), entry.secret)

    def _did_key(self, name: str) -> tuple[KeyType, _Entry]:
        entry = self._entries.get(_name(name))
        if entry is None or entry.info.key_type is None:
            hint = " (that is the ledger account)" if name == LEDGER_KEY else ""
            raise WalletError(f"no DID key named {name!r}{hint}", code="wallet.no_such_key")
        return entry.info.key_type, entry

    def signer(self, name: str) -> Signer:
        """The DID key named ``name`` as a :class:`~wallet.keys.Signer`."""
        key_type, entry = self._did_key(name)
        return load_signer(key_type, entry.secret)

    def remove_key(self, name: str) -> None:
        """Forget the DID key ``name`` (the ledger account stays). In memory until :meth:`save`."""
        self._did_key(name)
        del self._entries[name]

    def ledger_account(self) -> LocalAccount:
        """The secp256k1 account that signs ledger transactions."""
        account: LocalAccount = Account.from_key(self._entries[LEDGER_KEY].secret)
        return account

    def keys(self) -> list[KeyInfo]:
        """Every key, the ledger account first, then DID keys in the order they were added."""
        return [e.info for e in self._entries.values()]

    # ---------------------------------------------------------------------------------------- metadata

    @property
    def metadata(self) -> dict[str, Any]:
        """Small JSON metadata (e.g. ``{"dids": [...]}``); edit in place or assign. Saved by :meth:`save`."""
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise TypeError(f"wallet metadata is a dict, not {type(value).__name__}")
        try:
            self._metadata = json.loads(envelope.canonical_json(value))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"wallet metadata must be JSON ({exc})") from None

    def __repr__(self) -> str:
        return f"Wallet(path={str(self._path)!r}, keys={[e.info.name for e in self._entries.values()]})"
