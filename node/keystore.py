"""Ledger account keys, encrypted at rest: one Ethereum keystore v3 file (scrypt + AES-128-CTR + MAC, via
eth-account) per named account, written atomically with mode 0600.

The ledger account is the secp256k1 key that signs transactions; it is not a DID key (those live in the
wallet). The v3 format is what geth, Besu tooling and web3 read, so operators can move accounts between tools.
Key files are read with :func:`wallet.strictjson.loads` (at most 64 KiB; a v3 file is about 500 bytes), so a
damaged or hostile file is ``keystore.corrupt``, never a crash of the interpreter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from node.errors import NodeError
from wallet import strictjson
from wallet.files import write_atomic

__all__ = ["KeystoreError", "Keystore"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_KEY_FILE = 64 * 1024


def _read_json(path: Path) -> Any:
    """A key file's JSON: ``FileNotFoundError``, another ``OSError``, or ``JsonError`` (a ``ValueError``)."""
    with open(path, "rb") as f:
        data = f.read(_MAX_KEY_FILE + 1)
    return strictjson.loads(data, max_bytes=_MAX_KEY_FILE)


class KeystoreError(NodeError):
    code = "keystore.error"


class Keystore:
    def __init__(self, directory: Path, passphrase: str | None) -> None:
        self.directory = directory
        self._passphrase = passphrase

    def _path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise KeystoreError(f"bad account name {name!r} (letters, digits, '.', '_', '-'; at most 64)",
                                code="keystore.bad_name")
        return self.directory / f"{name}.json"

    def _need_passphrase(self) -> str:
        if not self._passphrase:
            raise KeystoreError("no passphrase: set EIDLN_PASSPHRASE or EIDLN_PASSPHRASE_FILE",
                                code="keystore.no_passphrase")
        return self._passphrase

    def names(self) -> list[str]:
        if not self.directory.exists():
            return []
        return sorted(p.stem for p in self.directory.glob("*.json"))

    def address(self, name: str) -> str:
        path = self._path(name)
        try:
            data = _read_json(path)
            if not isinstance(data, dict) or not isinstance(data.get("address"), str):
                raise KeyError("address")
            return _checksum(data["address"])
        except FileNotFoundError:
            raise KeystoreError(f"no account named {name!r} in {self.directory}", code="keystore.not_found") from None
        except (OSError, ValueError, KeyError) as exc:
            raise KeystoreError(f"the key file {path} is unreadable ({exc})", code="keystore.corrupt") from None

    def create(self, name: str, *, private_key: bytes | None = None) -> LocalAccount:
        path = self._path(name)
        if path.exists():
            raise KeystoreError(f"an account named {name!r} exists already", code="keystore.exists")
        acct = Account.from_key(private_key) if private_key else Account.create()
        blob = Account.encrypt(acct.key, self._need_passphrase(), kdf="scrypt")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            write_atomic(path, json.dumps(blob).encode(), replace=False, mode=0o600)  # never replaces a key
        except FileExistsError:
            raise KeystoreError(f"an account named {name!r} exists already", code="keystore.exists") from None
        return acct

    def load(self, name: str) -> LocalAccount:
        path = self._path(name)
        try:
            blob = _read_json(path)
        except FileNotFoundError:
            raise KeystoreError(f"no account named {name!r} in {self.directory}", code="keystore.not_found") from None
        except (OSError, ValueError) as exc:
            raise KeystoreError(f"the key file {path} is unreadable ({exc})", code="keystore.corrupt") from None
        try:
            key = Account.decrypt(blob, self._need_passphrase())
        except ValueError as exc:
            if "MAC mismatch" in str(exc):
                raise KeystoreError(f"wrong passphrase for account {name!r} (or the file was altered)",
                                    code="keystore.wrong_passphrase") from None
            raise KeystoreError(f"the key file {path} is malformed ({exc})", code="keystore.corrupt") from None
        except (KeyError, TypeError) as exc:
            raise KeystoreError(f"the key file {path} is malformed ({exc})", code="keystore.corrupt") from None
        acct: LocalAccount = Account.from_key(key)
        return acct


def _checksum(raw: str) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(raw if raw.startswith("0x") else "0x" + raw)
