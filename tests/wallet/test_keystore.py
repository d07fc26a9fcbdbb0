"""wallet.keystore / wallet.envelope: round trips, passphrase vs tampering vs corruption, atomic writes, backups."""

from __future__ import annotations

import base64
import json
import os
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions
import pytest
from eth_account import Account
from eth_keys import keys as eth_keys

from did_method.ident import KeyType
from wallet import envelope
from wallet.errors import CODES, WalletError
from wallet.keys import Signer, verify
from wallet.keystore import LEDGER_KEY, Wallet

PASS = "correct horse battery"
OTHER = "staple paper clip 42"
T0 = 1_700_000_000
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")  # RFC 8032 TEST 1


def clock() -> float:
    return T0


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "member.wallet"


@pytest.fixture
def wallet(path: Path) -> Wallet:
    return Wallet.create(path, PASS, fast=True, clock=clock)


def _code(fn: Callable[[], object]) -> str:
    with pytest.raises(WalletError) as err:
        fn()
    assert err.value.code in CODES
    assert PASS not in str(err.value) and OTHER not in str(err.value)
    return err.value.code


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_bytes(envelope.canonical_json(doc) + b"\n")


def _flip_hex(text: str) -> str:
    return ("1" if text[0] == "0" else "0") + text[1:]


# ------------------------------------------------------------------------------------------------ round trips


def test_create_open_round_trip(path: Path, wallet: Wallet) -> None:
    ed = wallet.add_key("did-key-1", KeyType.ED25519)
    p = wallet.add_key("shaken.sp-1", KeyType.P256)
    imported = wallet.import_key("rfc8032", KeyType.ED25519, SEED)
    wallet.metadata["dids"] = {"did:eidln:test:abc": {"keys": {"key-1": "did-key-1"}}}
    wallet.save()

    again = Wallet.open(path, PASS)
    assert again.keys() == wallet.keys()
    assert [k.name for k in again.keys()] == [LEDGER_KEY, "did-key-1", "shaken.sp-1", "rfc8032"]
    assert [k.type for k in again.keys()] == ["secp256k1", "ed25519", "p256", "ed25519"]
    assert all(k.created == T0 for k in again.keys())
    assert again.metadata == {"dids": {"did:eidln:test:abc": {"keys": {"key-1": "did-key-1"}}}}
    assert again.ledger_account().address == wallet.ledger_account().address
    for name, original in [("did-key-1", ed), ("shaken.sp-1", p), ("rfc8032", imported)]:
        signer = again.signer(name)
        assert isinstance(signer, Signer)
        assert signer.public_key == original.public_key
        assert verify(signer.key_type, original.public_key, b"payload", signer.sign(b"payload"))
    assert again.signer("rfc8032").public_key.hex().startswith("d75a9801")


def test_ledger_account_made_on_create(path: Path, wallet: Wallet) -> None:
    (info,) = Wallet.open(path, PASS).keys()
    account = wallet.ledger_account()
    assert info.name == LEDGER_KEY and info.type == "secp256k1" and info.key_type is None
    assert info.public_key == eth_keys.PrivateKey(bytes(account.key)).public_key.to_compressed_bytes()


def test_create_with_existing_ledger_key(tmp_path: Path) -> None:
    key = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
    w = Wallet.create(tmp_path / "w", PASS, fast=True, ledger_key=key)
    assert w.ledger_account().address == Account.from_key(key).address
    assert _code(lambda: Wallet.create(tmp_path / "x", PASS, fast=True, ledger_key=b"\x00" * 32)) == "wallet.bad_key"
    assert not (tmp_path / "x").exists()


def test_default_parameters_are_moderate(path: Path) -> None:
    Wallet.create(path, PASS)
    header = json.loads(path.read_bytes())["header"]
    assert header["params"] == {"opslimit": 3, "memlimit": 256 * 1024 * 1024}
    assert Wallet.open(path, PASS).keys()[0].name == LEDGER_KEY


def test_file_layout(path: Path, wallet: Wallet) -> None:
    blob = path.read_bytes()
    doc = json.loads(blob)
    assert blob == envelope.canonical_json(doc) + b"\n"
    header = doc["header"]
    assert set(header) == {"version", "kdf", "params", "salt", "aead", "nonce", "key_check"}
    assert (header["version"], header["kdf"], header["aead"]) == (1, "argon2id", "xchacha20poly1305-ietf")
    assert header["params"] == {"opslimit": 2, "memlimit": 64 * 1024 * 1024}
    assert (len(header["salt"]), len(header["nonce"]), len(header["key_check"])) == (32, 48, 32)
    assert bytes(wallet.ledger_account().key).hex().encode() not in blob


def test_every_save_draws_fresh_salt_and_nonce(path: Path, wallet: Wallet) -> None:
    first = json.loads(path.read_bytes())["header"]
    wallet.save()
    second = json.loads(path.read_bytes())["header"]
    assert first["salt"] != second["salt"] and first["nonce"] != second["nonce"]


def test_passphrase_is_nfc_normalized(path: Path) -> None:
    composed = "clé de chiffrement"
    Wallet.create(path, unicodedata.normalize("NFD", composed), fast=True)
    Wallet.open(path, composed)


# ------------------------------------------------------------------------------------------------ tampering


def test_wrong_passphrase(path: Path, wallet: Wallet) -> None:
    assert _code(lambda: Wallet.open(path, OTHER)) == "wallet.wrong_passphrase"


def test_tampered_ciphertext(path: Path, wallet: Wallet) -> None:
    def flip(doc: dict[str, Any]) -> None:
        raw = bytearray(base64.b64decode(doc["ciphertext"]))
        raw[len(raw) // 2] ^= 0x01
        doc["ciphertext"] = base64.b64encode(bytes(raw)).decode()

    _edit(path, flip)
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.tampered"


def test_truncated_ciphertext_is_tampered(path: Path, wallet: Wallet) -> None:
    _edit(path, lambda doc: doc.update(ciphertext=base64.b64encode(base64.b64decode(doc["ciphertext"])[:-4]).decode()))
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.tampered"


def test_tampered_header_nonce(path: Path, wallet: Wallet) -> None:
    _edit(path, lambda doc: doc["header"].update(nonce=_flip_hex(doc["header"]["nonce"])))
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.tampered"


@pytest.mark.parametrize("field", ["salt", "key_check", "params"])
def test_tampered_key_inputs_read_as_wrong_passphrase(path: Path, wallet: Wallet, field: str) -> None:
    """Salt, KDF parameters and key check decide which key the passphrase gives; with them changed the right
    passphrase yields a key that no longer matches, which no file format can tell from a wrong passphrase."""
    if field == "params":
        _edit(path, lambda doc: doc["header"]["params"].update(opslimit=3))
    else:
        _edit(path, lambda doc: doc["header"].update({field: _flip_hex(doc["header"][field])}))
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.wrong_passphrase"


def test_header_is_associated_data(path: Path, wallet: Wallet) -> None:
    """With the right key and nonce, a header that differs in any field (here key_check) fails authentication."""
    doc = json.loads(path.read_bytes())
    header = doc["header"]
    key, _check = envelope._subkeys(PASS, bytes.fromhex(header["salt"]), **header["params"])
    ciphertext, nonce = base64.b64decode(doc["ciphertext"]), bytes.fromhex(header["nonce"])
    assert sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, envelope.canonical_json(header), nonce, key)
    altered = dict(header, key_check=_flip_hex(header["key_check"]))
    with pytest.raises(nacl.exceptions.CryptoError):
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(ciphertext, envelope.canonical_json(altered), nonce, key)


@pytest.mark.parametrize("change, code", [
    (lambda d: d["header"].update(version=2), "wallet.unsupported_version"),
    (lambda d: d["header"].update(version="1"), "wallet.corrupt"),
    (lambda d: d["header"].update(version=True), "wallet.corrupt"),
    (lambda d: d["header"].update(extra=1), "wallet.corrupt"),
    (lambda d: d["header"].update(kdf="scrypt"), "wallet.corrupt"),
    (lambda d: d["header"].update(aead="aes-256-gcm"), "wallet.corrupt"),
    (lambda d: d["header"]["params"].update(memlimit=4 * 1024**4), "wallet.corrupt"),  # refused before allocating
    (lambda d: d["header"]["params"].update(opslimit=1), "wallet.corrupt"),
    (lambda d: d["header"].update(salt=d["header"]["salt"].upper()), "wallet.corrupt"),
    (lambda d: d["header"].update(nonce=d["header"]["nonce"][:-2]), "wallet.corrupt"),
    (lambda d: d.update(ciphertext="not base64!"), "wallet.corrupt"),
    (lambda d: d.update(ciphertext=""), "wallet.corrupt"),
    (lambda d: d.update(extra=1), "wallet.corrupt"),
    (lambda d: d.pop("header"), "wallet.corrupt"),
])
def test_header_edits(path: Path, wallet: Wallet, change: Callable[[dict[str, Any]], None], code: str) -> None:
    _edit(path, change)
    assert _code(lambda: Wallet.open(path, PASS)) == code


@pytest.mark.parametrize("content", [
    b"", b"\x00\xff garbage", b"[]", b"null", b"{}", b'{"header": {}, "ciphertext": ""}',
    b'{"header": {"version": 1}, "header": {"version": 1}, "ciphertext": ""}',  # duplicate member
])
def test_garbage_is_corrupt(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.corrupt"


def test_truncated_file_is_corrupt(path: Path, wallet: Wallet) -> None:
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.corrupt"


def test_authenticated_but_malformed_contents_are_corrupt(path: Path) -> None:
    path.write_bytes(envelope.seal(b'{"keys": [], "metadata": {}}', PASS, envelope.INTERACTIVE))  # no ledger key
    assert _code(lambda: Wallet.open(path, PASS)) == "wallet.corrupt"


def test_not_found(tmp_path: Path) -> None:
    assert _code(lambda: Wallet.open(tmp_path / "nope", PASS)) == "wallet.not_found"


# ------------------------------------------------------------------------------------------------ files


def test_mode_0600(tmp_path: Path, path: Path, wallet: Wallet) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wallet.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wallet.export(tmp_path / "backup", OTHER)
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o600


def test_create_refuses_to_overwrite(path: Path, wallet: Wallet) -> None:
    before = path.read_bytes()
    assert _code(lambda: Wallet.create(path, PASS, fast=True)) == "wallet.exists"
    assert path.read_bytes() == before


def test_link_refuses_a_file_that_appears_meanwhile(path: Path) -> None:
    path.write_bytes(b"someone else's file")
    assert _code(lambda: envelope.write_atomic(path, b"new", replace=False)) == "wallet.exists"
    assert path.read_bytes() == b"someone else's file"
    assert os.listdir(path.parent) == [path.name]


def test_crash_during_save_keeps_previous_file(path: Path, wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    wallet.add_key("before", KeyType.ED25519)
    wallet.save()
    wallet.add_key("after", KeyType.P256)

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        wallet.save()
    monkeypatch.undo()
    assert [k.name for k in Wallet.open(path, PASS).keys()] == [LEDGER_KEY, "before"]
    assert sorted(os.listdir(path.parent)) == [path.name, path.name + ".lock"]  # no temporary file left behind
    wallet.save()
    assert [k.name for k in Wallet.open(path, PASS).keys()] == [LEDGER_KEY, "before", "after"]


# ------------------------------------------------------------------------------------------------ backups


def test_export_import_round_trip(tmp_path: Path, path: Path, wallet: Wallet) -> None:
    signer = wallet.add_key("did-key-1", KeyType.P256)
    wallet.metadata = {"dids": ["did:eidln:test:abc"]}
    wallet.save()
    backup, restored = tmp_path / "backup.wallet", tmp_path / "restored" / "member.wallet"
    wallet.export(backup, OTHER)
    assert _code(lambda: Wallet.open(backup, PASS)) == "wallet.wrong_passphrase"
    third = "a third passphrase"
    w2 = Wallet.import_backup(backup, OTHER, restored, third)
    for w in (w2, Wallet.open(restored, third)):
        assert w.keys() == wallet.keys()
        assert w.metadata == {"dids": ["did:eidln:test:abc"]}
        assert w.signer("did-key-1").public_key == signer.public_key
        assert w.ledger_account().address == wallet.ledger_account().address
    assert _code(lambda: wallet.export(backup, OTHER)) == "wallet.exists"
    assert _code(lambda: Wallet.import_backup(backup, OTHER, restored, third)) == "wallet.exists"
    assert _code(lambda: Wallet.import_backup(backup, PASS, tmp_path / "new", third)) == "wallet.wrong_passphrase"


# ------------------------------------------------------------------------------------------------ API rules


@pytest.mark.parametrize("passphrase", ["", "short", "elevenchars"])
def test_weak_passphrases(tmp_path: Path, wallet: Wallet, passphrase: str) -> None:
    assert _code(lambda: Wallet.create(tmp_path / "n", passphrase, fast=True)) == "wallet.weak_passphrase"
    assert _code(lambda: wallet.export(tmp_path / "b", passphrase)) == "wallet.weak_passphrase"
    assert not (tmp_path / "n").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("name", ["", "-a", ".a", "_a", "a b", "a/b", "ä", "a\n", "a" * 33, 7])
def test_bad_names(wallet: Wallet, name: Any) -> None:
    assert _code(lambda: wallet.add_key(name, KeyType.ED25519)) == "wallet.bad_name"


def test_names_and_key_rules(wallet: Wallet) -> None:
    wallet.add_key("A" + "b.c_d-9" * 4 + "xyz", KeyType.ED25519)  # 32 characters
    wallet.add_key("k1", KeyType.P256)
    assert _code(lambda: wallet.add_key("k1", KeyType.ED25519)) == "wallet.key_exists"
    assert _code(lambda: wallet.add_key(LEDGER_KEY, KeyType.ED25519)) == "wallet.key_exists"
    assert _code(lambda: wallet.signer("missing")) == "wallet.no_such_key"
    assert _code(lambda: wallet.signer(LEDGER_KEY)) == "wallet.no_such_key"
    assert _code(lambda: wallet.import_key("k2", KeyType.P256, b"\x00" * 32)) == "wallet.bad_key"
    wallet.remove_key("k1")
    assert _code(lambda: wallet.signer("k1")) == "wallet.no_such_key"
    assert _code(lambda: wallet.remove_key(LEDGER_KEY)) == "wallet.no_such_key"
    assert [k.name for k in wallet.keys()][0] == LEDGER_KEY


def test_metadata_must_be_json(wallet: Wallet) -> None:
    with pytest.raises(TypeError):
        wallet.metadata = {"when": object()}
    with pytest.raises(TypeError):
        wallet.metadata = ["not", "a", "dict"]  # type: ignore[assignment]


def test_no_secret_in_reprs(wallet: Wallet) -> None:
    key = wallet.import_key("rfc8032", KeyType.ED25519, SEED)
    ledger = bytes(wallet.ledger_account().key).hex()
    text = repr(wallet) + repr(wallet.keys()) + repr(key) + repr(wallet._entries)
    assert SEED.hex() not in text and ledger not in text and PASS not in text


def test_error_codes_are_the_documented_set() -> None:
    assert CODES == {"wallet.wrong_passphrase", "wallet.tampered", "wallet.corrupt", "wallet.exists",
                     "wallet.not_found", "wallet.no_such_key", "wallet.key_exists", "wallet.bad_name",
                     "wallet.weak_passphrase", "wallet.bad_passphrase", "wallet.unsupported_version", "wallet.bad_key",
                     "wallet.unknown_did",
                     "wallet.bad_credential", "wallet.unknown_kind",
                     "wallet.session_expired", "wallet.session_invalid", "wallet.session_stale",
                     "wallet.session_dir_unsafe"}
    with pytest.raises(ValueError):
        WalletError("x", code="wallet.nonsense")
    err = WalletError("no wallet at /tmp/x", code="wallet.not_found")
    assert (err.code, err.message, str(err)) == ("wallet.not_found", "no wallet at /tmp/x",
                                                 "wallet.not_found: no wallet at /tmp/x")
