"""The encrypted wallet file format (version 1): it owns the file's bytes, its key derivation and its writes.

Canonical JSON (sorted keys, no spaces, ASCII) plus a newline::

    {"ciphertext": "<base64 of XChaCha20-Poly1305 ciphertext || 16-byte tag>",
     "header": {"version": 1, "kdf": "argon2id", "params": {"opslimit": 3, "memlimit": 268435456},
                "salt": "<16 bytes hex>", "aead": "xchacha20poly1305-ietf", "nonce": "<24 bytes hex>",
                "key_check": "<16 bytes hex>"}}

Decisions:

* **Argon2id** (RFC 9106's first recommendation; libsodium's ``crypto_pwhash`` default) turns the passphrase
  into a 32-byte master key. It is memory-hard, so GPU and ASIC guessing costs memory, not just time; the ``id``
  variant keeps Argon2i's side-channel resistance in its first pass. Askar uses Argon2i at the same libsodium
  levels. Default MODERATE (3 passes, 256 MiB); :data:`INTERACTIVE` (2 passes, 64 MiB) for tests and small
  devices. The parameters are in the header, so a file opens whatever level wrote it; values outside
  [INTERACTIVE, SENSITIVE] are refused, so a forged header cannot make ``open`` allocate terabytes.
* **XChaCha20-Poly1305 (IETF)** encrypts the contents. Its 192-bit nonce can be drawn at random on every save
  with no counter to keep, and it is constant-time in software without AES instructions. The canonical header
  is the associated data, so the tag covers every header field as well as the ciphertext.
* Two subkeys come from the master key by keyed BLAKE2b over fixed labels: the encryption key, and a 16-byte
  **key-check value** stored in the header. It tells a wrong passphrase (check differs:
  ``wallet.wrong_passphrase``) from a damaged or edited file (check matches, tag fails: ``wallet.tampered``),
  which the AEAD tag alone cannot. It gives a guesser nothing the tag does not: each guess still costs one
  Argon2id run. Edits to ``salt``, ``params`` or ``key_check`` change what the check compares, so they read as
  ``wallet.wrong_passphrase``: without the right key nothing can be authenticated, in any format.
* Every seal with a passphrase draws a fresh salt and nonce. A seal with a :class:`FileKey` (what a passphrase gave
  for one salt: :func:`derive`, or :func:`open_blob` while reading) keeps that salt and KDF parameters and draws a
  fresh nonce only: no Argon2id run. Unlock sessions (:mod:`wallet.session`) save that way; the file is exactly as
  hard to guess (same salt size, same Argon2id parameters, same header), and with 192-bit random nonces one key
  seals any number of versions safely. :func:`unseal_with` opens only a file of that same salt, parameters and key
  check (``wallet.session_stale`` otherwise: the wallet was re-encrypted since the key was derived).
* Files go to a temporary file in the same directory (mode 0600),
  fsynced, then renamed into place (``replace=True``) or hard-linked (``replace=False``, so an existing file is
  never replaced), and the directory is fsynced. A crash leaves the old file or the new one, never a mix.
  A sealed file over 16 MiB is refused before anything is written: it could not be read back.
* The file is parsed by :func:`wallet.strictjson.loads` (at most 16 MiB, 32 levels, no duplicate members), so a
  file of nested brackets is ``wallet.corrupt`` in microseconds, whatever the interpreter's recursion limit.
* Writers serialize on :func:`locked`: an exclusive ``flock`` on a sibling file ``<wallet>.lock`` (created
  0600, never deleted: deleting a lock file lets two writers lock two different inodes). ``flock`` belongs to
  the open file, so the kernel releases it when the holder dies, even by SIGKILL: a crash never leaves the
  wallet locked. Inside one process the lock is re-entrant per file (one thread at a time, and the same thread
  may take it again), so a process that opens the same wallet twice cannot deadlock itself. Readers take no
  lock: a rename is atomic, so a reader sees the old file or the new one.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions
import nacl.pwhash.argon2id as argon2id
import nacl.utils

from wallet import files, strictjson
from wallet.errors import WalletError

__all__ = ["FORMAT_VERSION", "MODERATE", "INTERACTIVE", "MAX_FILE", "FileKey", "canonical_json", "corrupt", "derive",
           "new_key", "seal", "seal_with", "unseal", "open_blob", "unseal_with", "read_file", "write_atomic",
           "lock_path", "locked"]

FORMAT_VERSION = 1
MODERATE = (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE)
INTERACTIVE = (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
_OPS = (argon2id.OPSLIMIT_INTERACTIVE, argon2id.OPSLIMIT_SENSITIVE)
_MEM = (argon2id.MEMLIMIT_INTERACTIVE, argon2id.MEMLIMIT_SENSITIVE)
_KDF, _AEAD = "argon2id", "xchacha20poly1305-ietf"
_HEADER_FIELDS = {"version", "kdf", "params", "salt", "aead", "nonce", "key_check"}
_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
_TAG_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_ABYTES
MAX_FILE = 16 * 1024 * 1024
_HEX = re.compile(r"[0-9a-f]*")


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, ASCII only: the same object always gives the same bytes."""
    return strictjson.canonical(obj, ascii_only=True)  # the project's one canonical JSON, ASCII form


def corrupt(where: object, why: str) -> WalletError:
    return WalletError(f"{where} is not a readable wallet file ({why})", code="wallet.corrupt")


def _subkeys(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> tuple[bytes, bytes]:
    """(encryption key, key-check value) of a passphrase: Argon2id, then keyed BLAKE2b over fixed labels."""
    try:
        secret = passphrase.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not UTF-8 in the environment or a file
        raise WalletError("the passphrase is not Unicode text (it holds bytes that are not UTF-8)",
                          code="wallet.bad_passphrase") from None
    master = argon2id.kdf(32, secret, salt, opslimit=opslimit, memlimit=memlimit)
    key = hashlib.blake2b(b"eidln-wallet v1 encryption key", key=master, digest_size=32).digest()
    check = hashlib.blake2b(b"eidln-wallet v1 key-check", key=master, digest_size=16).digest()
    return key, check


@dataclass(frozen=True, slots=True)
class FileKey:
    """What a passphrase gives for one salt and KDF parameters: the encryption key and the key-check value.

    It opens and seals the versions of a wallet file that carry this salt, these parameters and this check. It is
    never written in the clear (:mod:`wallet.session` keeps it encrypted) and never shown in a repr."""

    salt: bytes
    limits: tuple[int, int]
    key: bytes = field(repr=False)
    check: bytes = field(repr=False)


def derive(passphrase: str, salt: bytes, limits: tuple[int, int]) -> FileKey:
    """One Argon2id run: the :class:`FileKey` of ``passphrase`` for ``salt`` and ``limits``."""
    key, check = _subkeys(passphrase, salt, *limits)
    return FileKey(salt, limits, key, check)


def new_key(passphrase: str, limits: tuple[int, int]) -> FileKey:
    """One Argon2id run: the :class:`FileKey` of ``passphrase`` for a fresh random salt."""
    return derive(passphrase, nacl.utils.random(argon2id.SALTBYTES), limits)


def seal(plaintext: bytes, passphrase: str, limits: tuple[int, int]) -> bytes:
    """The file bytes of ``plaintext`` under ``passphrase``, with a fresh salt and nonce."""
    return seal_with(plaintext, new_key(passphrase, limits))


def seal_with(plaintext: bytes, key: FileKey) -> bytes:
    """The file bytes of ``plaintext`` under ``key``: its salt and parameters, a fresh nonce, no Argon2id run."""
    nonce = nacl.utils.random(_NONCE_BYTES)
    limits = key.limits
    header = {"version": FORMAT_VERSION, "kdf": _KDF, "params": {"opslimit": limits[0], "memlimit": limits[1]},
              "salt": key.salt.hex(), "aead": _AEAD, "nonce": nonce.hex(), "key_check": key.check.hex()}
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, canonical_json(header), nonce,
                                                                    key.key)
    blob = canonical_json({"header": header, "ciphertext": base64.b64encode(ciphertext).decode()}) + b"\n"
    if len(blob) > MAX_FILE:
        raise ValueError(f"the wallet file would be {len(blob)} bytes, over the {MAX_FILE} it may have")
    return blob


def _hex(value: object, size: int, what: str, where: object) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX.fullmatch(value):
        raise corrupt(where, f"{what} is not {size} bytes of lowercase hex")
    return bytes.fromhex(value)


def _header(doc: object, where: object) -> tuple[dict[str, Any], int, int]:
    """The header of a parsed file and its KDF limits, checked field by field."""
    if not isinstance(doc, dict) or set(doc) != {"header", "ciphertext"} or not isinstance(doc["header"], dict):
        raise corrupt(where, "expected exactly the members 'header' and 'ciphertext'")
    header: dict[str, Any] = doc["header"]
    if type(header.get("version")) is not int:
        raise corrupt(where, "the header has no integer 'version'")
    if header["version"] != FORMAT_VERSION:
        raise WalletError(f"{where} is a version {header['version']} wallet; this code reads version "
                          f"{FORMAT_VERSION}", code="wallet.unsupported_version")
    if set(header) != _HEADER_FIELDS or header["kdf"] != _KDF or header["aead"] != _AEAD:
        raise corrupt(where, "unexpected header fields or algorithms")
    params = header["params"]
    if not (isinstance(params, dict) and set(params) == {"opslimit", "memlimit"}
            and all(type(v) is int for v in params.values())):
        raise corrupt(where, "bad KDF parameters")
    ops, mem = params["opslimit"], params["memlimit"]
    if not (_OPS[0] <= ops <= _OPS[1] and _MEM[0] <= mem <= _MEM[1]):
        raise corrupt(where, "KDF parameters outside [INTERACTIVE, SENSITIVE]")
    return header, ops, mem


def unseal(blob: bytes, passphrase: str, where: object) -> tuple[bytes, tuple[int, int]]:
    """The plaintext and KDF limits of a file's bytes. Every failure is a :class:`WalletError` naming ``where``."""
    plaintext, key = open_blob(blob, passphrase, where)
    return plaintext, key.limits


def open_blob(blob: bytes, passphrase: str, where: object) -> tuple[bytes, FileKey]:
    """:func:`unseal`, returning the file's :class:`FileKey` (for :func:`seal_with`) instead of its limits."""
    header, limits, salt, nonce, check, ciphertext = _parse(blob, where)
    key = derive(passphrase, salt, limits)
    if not hmac.compare_digest(key.check, check):
        raise WalletError(f"wrong passphrase for {where} (or its salt, KDF parameters or key check were altered)",
                          code="wallet.wrong_passphrase")
    return _decrypt(header, nonce, ciphertext, key, where), key


def unseal_with(blob: bytes, key: FileKey, where: object) -> bytes:
    """The plaintext of a file sealed under ``key`` (no Argon2id run). ``wallet.session_stale`` if the file carries
    another salt, other KDF parameters or another key check: it was re-encrypted since ``key`` was derived."""
    header, limits, salt, nonce, check, ciphertext = _parse(blob, where)
    if not (hmac.compare_digest(salt, key.salt) and limits == key.limits and hmac.compare_digest(check, key.check)):
        raise WalletError(f"{where} was re-encrypted under a new salt since this session was unlocked (a command "
                          "saved it with the passphrase)", code="wallet.session_stale")
    return _decrypt(header, nonce, ciphertext, key, where)


def _parse(blob: bytes, where: object) -> tuple[dict[str, Any], tuple[int, int], bytes, bytes, bytes, bytes]:
    """A file's checked header, KDF limits, salt, nonce, key check and ciphertext."""
    try:
        doc = strictjson.loads(blob, max_bytes=MAX_FILE)
    except strictjson.JsonError as exc:
        raise corrupt(where, f"not strict JSON: {exc.code}") from None
    header, ops, mem = _header(doc, where)
    salt = _hex(header["salt"], argon2id.SALTBYTES, "salt", where)
    nonce = _hex(header["nonce"], _NONCE_BYTES, "nonce", where)
    check = _hex(header["key_check"], 16, "key_check", where)
    text = doc["ciphertext"]
    try:
        ciphertext = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
    except ValueError:
        raise corrupt(where, "the ciphertext is not base64") from None
    if len(ciphertext) < _TAG_BYTES:
        raise corrupt(where, "the ciphertext is truncated")
    return header, (ops, mem), salt, nonce, check, ciphertext


def _decrypt(header: dict[str, Any], nonce: bytes, ciphertext: bytes, key: FileKey, where: object) -> bytes:
    try:
        return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, canonical_json(header), nonce, key.key)
    except nacl.exceptions.CryptoError:
        raise WalletError(f"{where} was altered: the passphrase is right but the contents fail authentication",
                          code="wallet.tampered") from None


def read_file(path: Path) -> bytes:
    """A wallet file's bytes: ``wallet.not_found`` if there is none, ``wallet.corrupt`` if unreadable or huge."""
    try:
        with open(path, "rb") as f:
            blob = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        raise WalletError(f"no wallet at {path}", code="wallet.not_found") from None
    except OSError as exc:
        raise corrupt(path, f"unreadable: {exc.strerror}") from None
    if len(blob) > MAX_FILE:
        raise corrupt(path, "larger than 16 MiB")
    return blob


def write_atomic(path: Path, data: bytes, *, replace: bool) -> None:
    """Write ``data`` to ``path``, mode 0600, atomically (:func:`wallet.files.write_atomic`, the project's one atomic
    writer; the directory is created 0700). ``replace=False``: ``wallet.exists`` if ``path`` exists.

    I/O failures (disk full, read-only directory) propagate as ``OSError``; the previous file is untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        files.write_atomic(path, data, replace=replace, mode=0o600)
    except FileExistsError:
        raise WalletError(f"{path} exists already; not replacing it", code="wallet.exists") from None


# ------------------------------------------------------------------------------------------------ the writer lock


class _Held:
    """This process's hold on one lock file: a re-entrant mutex, the locked descriptor and the nesting depth."""

    __slots__ = ("mutex", "fd", "depth")

    def __init__(self) -> None:
        self.mutex = threading.RLock()
        self.fd = -1
        self.depth = 0


_HELD: dict[str, _Held] = {}
_HELD_GUARD = threading.Lock()


def _forget_after_fork() -> None:
    """A forked child holds no wallet lock (its parent does): drop the inherited state and descriptors."""
    global _HELD, _HELD_GUARD
    for held in _HELD.values():
        if held.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(held.fd)  # closing a copy does not release the parent's flock
    _HELD, _HELD_GUARD = {}, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def lock_path(path: Path) -> Path:
    """The lock file of the wallet file ``path``: ``<path>.lock`` beside it."""
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the writer lock of the wallet file ``path`` (blocking until it is free); see the module notice.

    Re-entrant within a process: the thread that holds it may take it again (for this or another ``Wallet``
    object on the same file); other threads of the process wait, as other processes do."""
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = os.path.join(os.path.realpath(directory), lock_path(path).name)
    with _HELD_GUARD:
        held = _HELD.setdefault(key, _Held())
    with held.mutex:
        if held.depth == 0:
            fd = os.open(key, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                os.close(fd)
                raise
            held.fd = fd
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0:
                fd, held.fd = held.fd, -1
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)  # explicit: a forked child may share this open file
                finally:
                    os.close(fd)
