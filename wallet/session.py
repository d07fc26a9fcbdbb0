"""Unlock sessions: one Argon2id run per session of work instead of one (or three) per command.

``eidln wallet unlock`` opens the wallet with its passphrase once and prints ``export EIDLN_WALLET_SESSION=<token>``;
the commands that follow open the wallet with the token, without Argon2id, until the session expires or ``eidln
wallet lock`` ends it. The wallet file is not touched: same format, same Argon2id parameters (:mod:`wallet.envelope`).

Decisions:

* **Split knowledge.** What a session keeps is the wallet file's :class:`~wallet.envelope.FileKey` (Argon2id's output
  for the file's salt: not the passphrase, useless for any other file or salt). It is written only encrypted, with
  XChaCha20-Poly1305 under a random 256-bit session key that exists nowhere but in the token. The session file alone
  is ciphertext; the token alone is 32 random bytes and the name of a file. A passphrase in ``EIDLN_PASSPHRASE`` is
  worse on every count: it never expires, opens every backup and every future version of the wallet, and is the
  secret a person reuses.
* **Where.** ``EIDLN_SESSION_DIR`` if set, else ``$XDG_RUNTIME_DIR/eidln`` (per user, tmpfs: never on disk, emptied
  at logout), else ``<EIDLN_HOME>/sessions``. The directory is created 0700 and must be a real directory (not a
  symlink) owned by this user and closed to others, or nothing is read or written there
  (``wallet.session_dir_unsafe``). Session files are 0600, written atomically, one per unlock
  (``<id>.session``), so sessions in two shells do not disturb each other.
* **Bound and authenticated.** The session file's header (format version, the wallet file's real path, created,
  expires, the wallet's salt, KDF parameters and key check) is the AEAD's associated data: a changed expiry, a
  session moved to another wallet or a different token is ``wallet.session_invalid``, decided before anything in
  the file is believed.
* **Expiry.** ``expires`` is checked against the clock passed in (``clock=time.time``; tests inject one, nothing
  sleeps). An expired session is ``wallet.session_expired`` and its file is deleted where it is found; so is a
  missing one (locked, expired and swept, or a reboot emptied the runtime directory). Lifetimes are 1 s to 24 h
  (default 15 min). ``unlock`` and ``lock`` sweep the expired files of the directory.
* **Lock** deletes every session file of the wallet (and the token's), so every token of it stops working. The
  files hold ciphertext only, so deleting them (with the token gone from the shell) is the wipe: overwriting a file
  in place promises nothing on journaling file systems and SSDs.
* **Saves within a session keep the wallet's salt** (:meth:`~wallet.keystore.Wallet.open_with_key`: a fresh nonce,
  no Argon2id run). A save with the passphrase draws a fresh salt as it always did; the sessions of the old salt are
  then ``wallet.session_stale``: unlock again. That is also how to retire a session key suspected to have leaked.
* Nothing here logs. The token and keys are in no repr and no message; the CLI prints the token once, for ``eval``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions

from wallet import envelope, strictjson
from wallet.errors import WalletError
from wallet.files import write_atomic
from wallet.keystore import Wallet

__all__ = ["DEFAULT_TTL", "MAX_TTL", "CODES", "Unlocked", "unlock", "open_wallet", "lock"]

DEFAULT_TTL = 900
MAX_TTL = 86_400
CODES = frozenset({"wallet.session_expired", "wallet.session_invalid", "wallet.session_stale",
                   "wallet.session_dir_unsafe"})
FORMAT_VERSION = 1
_TOKEN = re.compile(r"eidln-ws1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")
_SUFFIX = ".session"
_MAX_FILE = 4096
_HEADER_FIELDS = {"version", "wallet", "created", "expires", "salt", "params", "key_check", "nonce"}
_NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Unlocked:
    """A new session: the token to hand to later commands (``EIDLN_WALLET_SESSION``), its file and its expiry."""

    token: str = field(repr=False)
    path: Path
    expires: int  # unix seconds


def _wallet_id(wallet_path: str | Path) -> str:
    return os.path.realpath(wallet_path)


def _directory(directory: Path, *, create: bool) -> bool:
    """Whether ``directory`` exists (created 0700 if ``create``); ``wallet.session_dir_unsafe`` unless it is a real
    directory of this user that no one else may enter."""
    if create:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        st = os.lstat(directory)
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise WalletError(f"the session directory {directory} must be a directory of this user with mode 0700 (not a "
                          "symlink, not open to others); nothing was read or written there",
                          code="wallet.session_dir_unsafe")
    return True


def _aad(header: dict[str, Any]) -> bytes:
    return envelope.canonical_json(header)


def _read(path: Path) -> dict[str, Any] | None:
    """The parsed session file at ``path``, ``None`` if there is none; ``wallet.session_invalid`` if malformed."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WalletError(f"cannot read the session file {path}: {exc.strerror}", code="wallet.session_invalid") \
            from None
    with os.fdopen(fd, "rb") as f:
        raw = f.read(_MAX_FILE + 1)
    try:
        doc = strictjson.loads(raw, max_bytes=_MAX_FILE)
        if not isinstance(doc, dict) or set(doc) != {"header", "ciphertext"} or not isinstance(doc["header"], dict):
            raise ValueError("members")
        header, params = doc["header"], doc["header"].get("params")
        if (set(header) != _HEADER_FIELDS or not isinstance(header["wallet"], str)
                or any(type(header[k]) is not int for k in ("version", "created", "expires"))
                or header["version"] != FORMAT_VERSION
                or not isinstance(params, dict) or set(params) != {"opslimit", "memlimit"}
                or any(type(v) is not int for v in params.values())):
            raise ValueError("header")
        for name in ("salt", "key_check", "nonce"):
            bytes.fromhex(header[name])
        base64.b64decode(doc["ciphertext"], validate=True)
    except (ValueError, TypeError, KeyError):  # JsonError is a ValueError
        raise WalletError(f"{path} is not a session file of this version", code="wallet.session_invalid") from None
    return dict(doc)


def _expired(doc: dict[str, Any], now: int) -> bool:
    return bool(now >= doc["header"]["expires"])


def _sweep(directory: Path, now: int, wallet: str | None = None) -> int:
    """Delete the expired session files of ``directory``, and every one of ``wallet`` if given; how many of
    ``wallet``'s went. The headers read here are not authenticated: deleting is the only thing they can cause."""
    removed = 0
    for path in directory.glob("*" + _SUFFIX):
        try:
            doc = _read(path)
        except WalletError:
            continue  # not ours to judge: leave it
        if doc is None:
            continue
        mine = wallet is not None and doc["header"]["wallet"] == wallet
        if mine or _expired(doc, now):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            removed += mine
    return removed


def unlock(wallet_path: str | Path, passphrase: str, *, directory: Path, ttl: int = DEFAULT_TTL,
           clock: Clock = time.time) -> Unlocked:
    """Open the wallet with ``passphrase`` (one Argon2id run: ``wallet.wrong_passphrase`` and every other error of
    :meth:`Wallet.open` as usual) and start a session of ``ttl`` seconds (1 to :data:`MAX_TTL`)."""
    if type(ttl) is not int or not 1 <= ttl <= MAX_TTL:
        raise ValueError(f"a session lasts 1 to {MAX_TTL} seconds, not {ttl!r}")
    key = Wallet.open(wallet_path, passphrase, clock=clock).file_key()
    now = int(clock())
    _directory(directory, create=True)
    _sweep(directory, now)
    sid, session_key, nonce = secrets.token_hex(16), secrets.token_bytes(32), secrets.token_bytes(_NONCE_BYTES)
    header = {"version": FORMAT_VERSION, "wallet": _wallet_id(wallet_path), "created": now, "expires": now + ttl,
              "salt": key.salt.hex(), "params": {"opslimit": key.limits[0], "memlimit": key.limits[1]},
              "key_check": key.check.hex(), "nonce": nonce.hex()}
    sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(key.key, _aad(header), nonce, session_key)
    path = directory / f"{sid}{_SUFFIX}"
    blob = envelope.canonical_json({"header": header, "ciphertext": base64.b64encode(sealed).decode()}) + b"\n"
    write_atomic(path, blob, replace=False, mode=0o600)  # a fresh random name: never replaces a file
    token = f"eidln-ws1.{sid}.{base64.urlsafe_b64encode(session_key).decode().rstrip('=')}"
    return Unlocked(token, path, now + ttl)


def _parse_token(token: str) -> tuple[str, bytes]:
    m = _TOKEN.fullmatch(token.strip()) if isinstance(token, str) else None
    if m is None:
        raise WalletError("EIDLN_WALLET_SESSION is not a session token (the value 'eidln wallet unlock' printed)",
                          code="wallet.session_invalid")
    return m.group(1), base64.urlsafe_b64decode(m.group(2) + "=")


def open_wallet(wallet_path: str | Path, token: str, *, directory: Path, clock: Clock = time.time) -> Wallet:
    """The wallet at ``wallet_path``, opened with a session ``token`` from :func:`unlock` (no Argon2id run).

    Raises ``wallet.session_invalid`` (not a token; the token does not open its session file, or the file was
    altered; a session of another wallet), ``wallet.session_expired`` (past its expiry, or no such session: locked or
    swept), ``wallet.session_stale`` (the wallet was re-encrypted under a new salt since), ``wallet.session_dir_unsafe``
    and what :meth:`Wallet.open_with_key` raises."""
    sid, session_key = _parse_token(token)
    path = directory / f"{sid}{_SUFFIX}"
    doc = _read(path) if _directory(directory, create=False) else None
    if doc is None:
        raise WalletError("no such unlock session (it expired, or 'eidln wallet lock' ended it): run "
                          "'eidln wallet unlock' again", code="wallet.session_expired")
    header = doc["header"]
    try:
        secret = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
            base64.b64decode(doc["ciphertext"]), _aad(header), bytes.fromhex(header["nonce"]), session_key)
    except nacl.exceptions.CryptoError:
        raise WalletError("the session token does not open its session file (a wrong token, or the file was "
                          "altered)", code="wallet.session_invalid") from None
    if header["wallet"] != _wallet_id(wallet_path):
        raise WalletError(f"this session unlocks {header['wallet']}, not {wallet_path}", code="wallet.session_invalid")
    if _expired(doc, int(clock())):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise WalletError("the unlock session has expired: run 'eidln wallet unlock' again",
                          code="wallet.session_expired")
    params = header["params"]
    key = envelope.FileKey(bytes.fromhex(header["salt"]), (params["opslimit"], params["memlimit"]), secret,
                           bytes.fromhex(header["key_check"]))
    return Wallet.open_with_key(wallet_path, key, clock=clock)


def lock(wallet_path: str | Path, *, directory: Path, token: str | None = None, clock: Clock = time.time) -> int:
    """End every session of the wallet (delete their files), and the session of ``token`` whatever wallet it is
    for; sweep the expired ones. Returns how many sessions ended. Needs no passphrase and no token."""
    if not _directory(directory, create=False):
        return 0
    ended = 0
    if token is not None:
        with contextlib.suppress(WalletError, FileNotFoundError):
            sid, _ = _parse_token(token)
            path = directory / f"{sid}{_SUFFIX}"
            doc = _read(path)
            if doc is not None and doc["header"]["wallet"] != _wallet_id(wallet_path):
                path.unlink()
                ended += 1
    return ended + _sweep(directory, int(clock()), _wallet_id(wallet_path))
