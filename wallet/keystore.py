"""The wallet: named keys and a little JSON metadata in one encrypted file (format: :mod:`wallet.envelope`).

A wallet holds the DID keys a member signs with (Ed25519, P-256), its one ``secp256k1`` ledger account (named
``"ledger"``, created with the wallet) and metadata such as the DIDs it controls.

Decisions:

* One file per wallet, all keys inside one authenticated ciphertext: names, types and creation times are
  hidden too, and a key cannot be swapped or rolled back on its own. (The node's per-account Ethereum v3
  keystore has no associated data and holds one key per file.)
* Changes live in memory until :meth:`Wallet.save`, which re-encrypts with a fresh salt and nonce (one Argon2id
  run) and replaces the file atomically. ``create``, ``export`` and ``import_backup`` never replace an existing
  file (``wallet.exists``). A wallet opened from an unlock session (:meth:`Wallet.open_with_key`,
  :mod:`wallet.session`) has no passphrase: its saves keep the file's salt and draw a fresh nonce (no Argon2id
  run; :mod:`wallet.envelope` explains why the file stays as strong).
* **Several writers, no lost change.** Every write holds the file's writer lock (:func:`wallet.envelope.locked`:
  ``flock`` on ``<wallet>.lock``, re-entrant within a process, released by the kernel if the holder dies) and,
  under it, re-reads the file first. If another writer saved since this object last read or wrote the file,
  this object's own changes since then are replayed onto the file's contents, as if it had written second:

  - keys merge by name. A key added here and there under one name with different secrets is
    ``wallet.key_exists`` (nothing is written; this object keeps its changes). A key removed here that the
    other writer replaced stays: a key nobody here has seen is never dropped;
  - metadata merges member by member (three-way, against what this object last read): a member changed only
    there keeps its new value, one changed only here takes this object's value; when both changed it, objects
    merge member by member, lists as sets (elements added here are appended, elements removed here are
    removed), and for anything else this object's value wins (it is the later writer).

  ``save`` is therefore safe for blind changes (add a key, set a member). A change computed from what the
  wallet holds (check, then act) belongs in :meth:`Wallet.transaction`, which takes the lock, brings this
  object up to date **before** the body runs and saves when it ends, so the body decides on the file's
  current state; if the body or the save fails, the body's changes are rolled back in memory. The lock is
  held only for that: callers never hold it across network I/O (``wallet.dids`` writes the ledger between two
  short transactions). Reading (``open``) takes no lock. The other process's changes cost one more Argon2id
  run to decrypt, only when the file did change (compared byte for byte). Merging in ``save`` itself, rather
  than only in transactions, means no caller (``eidln pki import-key``, a library user's ``add_key`` then
  ``save``) can lose another writer's change by forgetting the transaction.
* The decrypted contents are read by :func:`wallet.strictjson.loads` (16 MiB, 32 levels, no duplicate
  members); a save refuses (``ValueError``) metadata that this reader would refuse, so a wallet that saved
  always opens again.
* Passphrases are NFC-normalized (the same passphrase typed on two systems gives the same bytes), then UTF-8;
  a new one needs at least 12 characters. An open wallet keeps its passphrase in memory to re-encrypt on save.
  Secrets never appear in a repr, an exception message or a log; this module logs nothing.
* The clock that stamps ``created`` is a parameter (``clock=time.time``), so tests need no patching.
"""

from __future__ import annotations

import copy
import hmac
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from did_method.ident import KeyType
from wallet import envelope, strictjson
from wallet.errors import WalletError
from wallet.keys import Ed25519Key, Signer, generate_signer, load_signer

if TYPE_CHECKING:  # eth_account (and the BLS code eth_keyfile loads) is imported by ledger_account() only
    from eth_account.signers.local import LocalAccount

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
    public = ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256K1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.CompressedPoint)
    return _Entry(KeyInfo(LEDGER_KEY, _SECP256K1, public, created), secret)


def _new_ledger_secret() -> bytes:
    """A fresh secp256k1 scalar from the OS generator (cryptography's key generation: uniform in [1, n - 1])."""
    value = ec.generate_private_key(ec.SECP256K1()).private_numbers().private_value
    return value.to_bytes(32, "big")


def _payload(entries: dict[str, _Entry], metadata: dict[str, Any]) -> bytes:
    """The plaintext of a wallet. ``ValueError`` if :func:`_parse_payload` would refuse it (metadata nested too
    deep, a lone surrogate): a save must never write a file that cannot be opened again."""
    keys = [{"name": e.info.name, "type": e.info.type, "secret": e.secret.hex(), "created": e.info.created}
            for e in entries.values()]
    plaintext = envelope.canonical_json({"keys": keys, "metadata": metadata})
    try:
        strictjson.loads(plaintext, max_bytes=envelope.MAX_FILE)
    except strictjson.JsonError as exc:
        raise ValueError(f"the wallet could not read this metadata back ({exc.code})") from None
    return plaintext


def _parse_payload(plaintext: bytes, where: object) -> tuple[dict[str, _Entry], dict[str, Any]]:
    """Entries and metadata of authenticated contents; anything unexpected is ``wallet.corrupt``."""
    try:
        doc = strictjson.loads(plaintext, max_bytes=envelope.MAX_FILE)  # JsonError is a ValueError
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


# ------------------------------------------------------------------------------------------------ merging

_MISSING: Any = object()  # a member or key that is not there


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (``1`` is not ``true``, member order does not matter)."""
    if a is _MISSING or b is _MISSING:
        return a is b
    return a is b or envelope.canonical_json(a) == envelope.canonical_json(b)


def _has(items: list[Any], x: Any) -> bool:
    return any(_same(y, x) for y in items)


def _merge_json(base: Any, ours: Any, theirs: Any) -> Any:
    """Three-way merge of metadata (see the module notice); ``_MISSING`` stands for an absent member."""
    if _same(ours, base):
        return theirs
    if _same(theirs, base) or _same(theirs, ours):
        return ours
    if isinstance(ours, dict) and isinstance(theirs, dict):
        b = base if isinstance(base, dict) else {}
        out = {}
        for k in [*theirs, *(k for k in ours if k not in theirs)]:
            v = _merge_json(b.get(k, _MISSING), ours.get(k, _MISSING), theirs.get(k, _MISSING))
            if v is not _MISSING:
                out[k] = v
        return out
    if isinstance(ours, list) and isinstance(theirs, list):
        before = base if isinstance(base, list) else []
        added = [x for x in ours if not _has(before, x)]
        removed = [x for x in before if not _has(ours, x)]
        kept = [x for x in theirs if not _has(removed, x)]
        return kept + [x for x in added if not _has(kept, x)]
    return ours


def _same_key(a: _Entry, b: _Entry) -> bool:
    return a.info.type == b.info.type and hmac.compare_digest(a.secret, b.secret)


def _merge_keys(base: dict[str, _Entry], ours: dict[str, _Entry], theirs: dict[str, _Entry],
                where: object) -> dict[str, _Entry]:
    """Replay this object's key changes (against ``base``) onto the file's keys (``theirs``)."""
    out: dict[str, _Entry] = {}
    for name, entry in theirs.items():
        if name in base and name not in ours and _same_key(base[name], entry):
            continue  # removed here, and nobody replaced it meanwhile
        out[name] = entry
    for name, entry in ours.items():
        if name in base and _same_key(base[name], entry):
            continue  # not changed here: the file decides (another writer may have removed it)
        if name not in out:
            out[name] = entry
        elif not _same_key(out[name], entry):
            raise WalletError(f"another writer added a different key named {name!r} to {where} meanwhile; "
                              "nothing was written", code="wallet.key_exists")
    return out


def _replace_in_place(target: dict[str, Any], source: dict[str, Any]) -> None:
    """Make ``target`` equal to ``source`` keeping ``target``'s nested dicts, so callers' references into the
    metadata (``entry = w.metadata["dids"][did]``) stay live across a merge."""
    if target is source:
        return
    for k in [k for k in target if k not in source]:
        del target[k]
    for k, v in source.items():
        old = target.get(k, _MISSING)
        if isinstance(old, dict) and isinstance(v, dict):
            _replace_in_place(old, v)
        else:
            target[k] = v


class Wallet:
    """An open wallet. Build one with :meth:`create`, :meth:`open` or :meth:`import_backup`."""

    def __init__(self, path: Path, passphrase: str | None, key: envelope.FileKey, entries: dict[str, _Entry],
                 metadata: dict[str, Any], clock: Clock, blob: bytes) -> None:
        self._path = path
        self._passphrase = passphrase  # None: opened with a FileKey (an unlock session), saves keep its salt
        self._key = key  # the key of the file as this object last read or wrote it
        self._entries = entries
        self._metadata = metadata
        self._clock = clock
        # What the file held when this object last read or wrote it: the base its own changes are measured from.
        self._blob = blob
        self._base_entries = dict(entries)
        self._base_metadata = copy.deepcopy(metadata)
        self._in_transaction = 0

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
        secret = ledger_key if ledger_key is not None else _new_ledger_secret()
        entries = {LEDGER_KEY: _ledger_entry(secret, int(clock()))}
        key = envelope.new_key(passphrase, envelope.INTERACTIVE if fast else envelope.MODERATE)
        blob = envelope.seal_with(_payload(entries, {}), key)
        envelope.write_atomic(path, blob, replace=False)
        return cls(path, passphrase, key, entries, {}, clock, blob)

    @classmethod
    def open(cls, path: str | Path, passphrase: str, *, clock: Clock = time.time) -> Wallet:
        """The wallet at ``path``. Raises ``wallet.not_found``, ``wallet.wrong_passphrase``, ``wallet.tampered``,
        ``wallet.corrupt`` or ``wallet.unsupported_version``."""
        path = Path(path)
        passphrase = _passphrase(passphrase, new=False)
        blob = envelope.read_file(path)
        plaintext, key = envelope.open_blob(blob, passphrase, path)
        entries, metadata = _parse_payload(plaintext, path)
        return cls(path, passphrase, key, entries, metadata, clock, blob)

    @classmethod
    def open_with_key(cls, path: str | Path, key: envelope.FileKey, *, clock: Clock = time.time) -> Wallet:
        """The wallet at ``path`` opened with a :class:`~wallet.envelope.FileKey` (no Argon2id run): what an unlock
        session (:mod:`wallet.session`) does. Its saves keep the file's salt. Raises what :meth:`open` raises,
        except ``wallet.wrong_passphrase``, and ``wallet.session_stale`` if the file was re-encrypted since."""
        path = Path(path)
        blob = envelope.read_file(path)
        entries, metadata = _parse_payload(envelope.unseal_with(blob, key, path), path)
        return cls(path, None, key, entries, metadata, clock, blob)

    @classmethod
    def import_backup(cls, backup_path: str | Path, backup_passphrase: str, new_path: str | Path,
                      new_passphrase: str, *, clock: Clock = time.time) -> Wallet:
        """Restore a backup made by :meth:`export` as a new wallet file under a new passphrase."""
        new_path, new_passphrase = Path(new_path), _passphrase(new_passphrase, new=True)
        if new_path.exists():
            raise WalletError(f"{new_path} exists already; not replacing it", code="wallet.exists")
        backup = cls.open(backup_path, backup_passphrase, clock=clock)
        key = envelope.new_key(new_passphrase, backup._key.limits)
        blob = envelope.seal_with(_payload(backup._entries, backup._metadata), key)
        envelope.write_atomic(new_path, blob, replace=False)
        return cls(new_path, new_passphrase, key, backup._entries, backup._metadata, clock, blob)

    # ---------------------------------------------------------------------------------------- persistence

    @property
    def path(self) -> Path:
        return self._path

    def file_key(self) -> envelope.FileKey:
        """The key of the wallet file as this object last read or wrote it (Argon2id's output for its salt): what
        :func:`wallet.session.unlock` keeps, encrypted, for the session. Never log or store it in the clear."""
        return self._key

    def _unseal(self, blob: bytes) -> tuple[bytes, envelope.FileKey]:
        """Another writer's version of the file and its key: this object's key if the file kept its salt (a
        session's save), else the passphrase's (one Argon2id run); with no passphrase, ``wallet.session_stale``."""
        try:
            return envelope.unseal_with(blob, self._key, self._path), self._key
        except WalletError as exc:
            if exc.code != "wallet.session_stale" or self._passphrase is None:
                raise
        return envelope.open_blob(blob, self._passphrase, self._path)

    def _catch_up(self) -> None:
        """If the file changed since this object last read or wrote it, replay this object's changes onto it
        (module notice). On ``wallet.key_exists`` nothing changes."""
        try:
            blob = envelope.read_file(self._path)
        except WalletError as exc:
            if exc.code != "wallet.not_found":
                raise
            return  # removed meanwhile: the save writes this object's state, as it always did
        if blob == self._blob:
            return
        plaintext, key = self._unseal(blob)
        theirs, their_metadata = _parse_payload(plaintext, self._path)
        entries = _merge_keys(self._base_entries, self._entries, theirs, self._path)
        metadata = _merge_json(self._base_metadata, self._metadata, their_metadata)
        base_metadata = copy.deepcopy(their_metadata)
        self._entries = entries
        _replace_in_place(self._metadata, metadata)
        self._key, self._blob, self._base_entries, self._base_metadata = key, blob, dict(theirs), base_metadata

    def _commit(self) -> None:
        """Catch up, seal and replace the file. The caller holds the lock. With the passphrase the seal draws a fresh
        salt (one Argon2id run); opened with a key (a session), it keeps the file's salt (a fresh nonce only)."""
        self._catch_up()  # the lock is re-entrant: another object of this process may have saved meanwhile
        key = self._key if self._passphrase is None else envelope.new_key(self._passphrase, self._key.limits)
        blob = envelope.seal_with(_payload(self._entries, self._metadata), key)
        envelope.write_atomic(self._path, blob, replace=True)
        self._key, self._blob = key, blob
        self._base_entries, self._base_metadata = dict(self._entries), copy.deepcopy(self._metadata)

    def _changed(self) -> bool:
        return (self._entries != self._base_entries
                or not _same(self._metadata, self._base_metadata))

    def save(self) -> None:
        """Under the writer lock: bring in what other writers saved (merged under this object's changes, module
        notice), re-encrypt (fresh salt and nonce; a session keeps the salt) and atomically replace the wallet
        file. Raises ``wallet.key_exists`` if another writer added a different key under a name this object added."""
        with envelope.locked(self._path):
            self._commit()

    @contextmanager
    def transaction(self) -> Iterator[Wallet]:
        """Read-modify-write under the writer lock: bring this object up to date, run the body, save if it
        changed anything. If the body or the save raises, the body's changes are undone in memory.

        Keep the body short and local (no network): other writers of the file wait for it. Re-entrant: a
        nested ``transaction`` (or ``save``) of the same wallet joins the outer one."""
        with envelope.locked(self._path):
            if self._in_transaction:
                self._in_transaction += 1
                try:
                    yield self
                finally:
                    self._in_transaction -= 1
                return
            self._catch_up()
            before = (dict(self._entries), copy.deepcopy(self._metadata), self._key, self._blob,
                      self._base_entries, self._base_metadata)
            self._in_transaction = 1
            try:
                yield self
                if self._changed():
                    self._commit()
            except BaseException:
                entries, metadata, self._key, self._blob, self._base_entries, self._base_metadata = before
                self._entries = entries
                _replace_in_place(self._metadata, metadata)
                raise
            finally:
                self._in_transaction = 0

    def export(self, path: str | Path, export_passphrase: str) -> None:
        """An encrypted backup in the same format, under its own passphrase; never replaces a file."""
        path, export_passphrase = Path(path), _passphrase(export_passphrase, new=True)
        if path.exists():
            raise WalletError(f"{path} exists already; not replacing it", code="wallet.exists")
        blob = envelope.seal(_payload(self._entries, self._metadata), export_passphrase, self._key.limits)
        envelope.write_atomic(path, blob, replace=False)

    # ---------------------------------------------------------------------------------------- keys

    def add_key(self, name: str, key_type: KeyType) -> Signer:
        """Generate a DID key named ``name``. In memory until saved."""
        signer = generate_signer(key_type)
        secret = signer.seed if isinstance(signer, Ed25519Key) else signer.private_bytes
        return self.import_key(name, key_type, secret)

    def import_key(self, name: str, key_type: KeyType, secret: bytes) -> Signer:
        """Add an existing DID key: a 32-byte Ed25519 seed or P-256 scalar. In memory until saved."""
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
        """Forget the DID key ``name`` (the ledger account stays). In memory until saved."""
        self._did_key(name)
        del self._entries[name]

    def ledger_address(self) -> str:
        """The ledger account's address, EIP-55 checksummed (``0x…``), without loading the signing stack
        (:meth:`ledger_account` imports eth_account, half a second): keccak-256 of the public key, last 20 bytes."""
        from eth_hash.auto import keccak

        secret = int.from_bytes(self._entries[LEDGER_KEY].secret, "big")
        point = ec.derive_private_key(secret, ec.SECP256K1()).public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint)
        hexed = keccak(point[1:])[-20:].hex()
        nibbles = keccak(hexed.encode()).hex()  # EIP-55: upper-case a letter where the hash's nibble is 8 or more
        return "0x" + "".join(c.upper() if int(n, 16) >= 8 else c for c, n in zip(hexed, nibbles, strict=False))

    def ledger_account(self) -> LocalAccount:
        """The secp256k1 account that signs ledger transactions."""
        limit = sys.getrecursionlimit()
        from eth_account import Account  # first use: loads py_ecc, which raises the recursion limit to 100,000

        sys.setrecursionlimit(limit)  # ... put back: this import leaves the process as it found it
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
            self._metadata = strictjson.loads(envelope.canonical_json(value), max_bytes=envelope.MAX_FILE)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"wallet metadata must be JSON the wallet can read back ({exc})") from None

    def __repr__(self) -> str:
        return f"Wallet(path={str(self._path)!r}, keys={[e.info.name for e in self._entries.values()]})"
