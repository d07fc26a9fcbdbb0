"""wallet.session: unlock once, open without the passphrase until expiry; refused when expired, altered, stale, locked.

Real Argon2id (INTERACTIVE wallets, one MODERATE) and real XChaCha20-Poly1305; the clock is passed in, nothing sleeps.
"""

from __future__ import annotations

import base64
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from did_method.ident import KeyType
from wallet import envelope, session
from wallet.errors import CODES, WalletError
from wallet.keystore import Wallet

PASS = "correct horse battery"
T0 = 1_700_000_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "member.wallet"


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


@pytest.fixture
def wallet(path: Path) -> Wallet:
    w = Wallet.create(path, PASS, fast=True)
    w.add_key("k1", KeyType.ED25519)
    w.metadata["note"] = "before"
    w.save()
    return w


def _code(fn: Callable[[], object]) -> str:
    with pytest.raises(WalletError) as err:
        fn()
    assert err.value.code in CODES
    assert PASS not in str(err.value)
    return err.value.code


def _opener(path: Path, token: str, sessions: Path, clock: Clock) -> Callable[[], Wallet]:
    return lambda: session.open_wallet(path, token, directory=sessions, clock=clock)


def _header(path: Path) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(path.read_bytes())["header"]
    return header


def _edit(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_bytes(envelope.canonical_json(doc) + b"\n")


def test_a_session_opens_the_wallet_without_the_passphrase(wallet: Wallet, path: Path, sessions: Path,
                                                           clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, ttl=600, clock=clock)
    assert unlocked.expires == T0 + 600 and unlocked.path.parent == sessions
    clock.now += 599
    w = session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    assert [k.name for k in w.keys()] == ["ledger", "k1"] and w.metadata["note"] == "before"
    assert w.signer("k1").public_key == wallet.signer("k1").public_key
    assert w.ledger_address() == wallet.ledger_account().address


def test_saves_in_a_session_keep_the_file_as_strong(tmp_path: Path, sessions: Path, clock: Clock) -> None:
    """Default (MODERATE) Argon2id: a session's save keeps the header's KDF, parameters and salt, draws a fresh
    nonce, and the passphrase still opens the file; nothing in the session file is the key or the token."""
    path = tmp_path / "moderate.wallet"
    Wallet.create(path, PASS)
    before = _header(path)
    assert before["params"] == {"opslimit": envelope.MODERATE[0], "memlimit": envelope.MODERATE[1]}
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    w = session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    with w.transaction():
        w.add_key("k2", KeyType.P256)
        w.metadata["note"] = "in a session"
    after = _header(path)
    assert {k: v for k, v in after.items() if k != "nonce"} == {k: v for k, v in before.items() if k != "nonce"}
    assert after["nonce"] != before["nonce"]
    again = Wallet.open(path, PASS)
    assert again.metadata["note"] == "in a session" and "k2" in [k.name for k in again.keys()]
    raw = unlocked.path.read_bytes()
    key = w.file_key().key
    secret = base64.urlsafe_b64decode(unlocked.token.rsplit(".", 1)[1] + "=")
    assert key not in raw and key.hex().encode() not in raw and base64.b64encode(key) not in raw
    assert secret not in raw and unlocked.token.encode() not in raw
    assert unlocked.token not in repr(unlocked) and key.hex() not in repr(w.file_key()) + repr(w)


def test_files_and_directory_are_private(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    assert stat.S_IMODE(os.stat(sessions).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(unlocked.path).st_mode) == 0o600


def test_a_session_expires(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, ttl=60, clock=clock)
    clock.now += 59
    session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    clock.now += 1
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_expired"
    assert not unlocked.path.exists()  # deleted where it was found
    clock.now -= 30  # even with the clock set back, the session is gone
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_expired"


def test_lifetime_bounds(wallet: Wallet, path: Path, sessions: Path) -> None:
    for ttl in (0, -1, session.MAX_TTL + 1):
        with pytest.raises(ValueError):
            session.unlock(path, PASS, directory=sessions, ttl=ttl)
    assert not sessions.exists()


def test_wrong_passphrase_is_still_refused(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    assert _code(lambda: session.unlock(path, "not the passphrase", directory=sessions, clock=clock)) \
        == "wallet.wrong_passphrase"
    assert not sessions.exists() or not list(sessions.iterdir())


@pytest.mark.parametrize("change", [
    lambda d: d["header"].update(expires=d["header"]["expires"] + 86_400),  # a longer life
    lambda d: d["header"].update(created=d["header"]["created"] - 1),
    lambda d: d["header"].update(wallet="/elsewhere/member.wallet"),
    lambda d: d["header"].update(salt="00" * 16),
    lambda d: d.update(ciphertext=base64.b64encode(bytes(48)).decode()),
], ids=["expires", "created", "wallet", "salt", "ciphertext"])
def test_an_altered_session_file_is_refused(wallet: Wallet, path: Path, sessions: Path, clock: Clock,
                                            change: Callable[[dict[str, Any]], None]) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    _edit(unlocked.path, change)
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_invalid"


@pytest.mark.parametrize("raw", [b"", b"{}", b"[" * 5000, b'{"header": 1, "ciphertext": "x"}', b"\xff" * 10])
def test_a_malformed_session_file_is_refused(wallet: Wallet, path: Path, sessions: Path, clock: Clock,
                                             raw: bytes) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    unlocked.path.write_bytes(raw)
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_invalid"


def test_wrong_or_malformed_tokens_are_refused(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    prefix, sid, key = unlocked.token.split(".")
    other_key = base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=")
    for token in (f"{prefix}.{sid}.{other_key}", unlocked.token[:-1], "", "x" * 80, f"{prefix}.{sid}.{key}.x"):
        assert _code(_opener(path, token, sessions, clock)) == "wallet.session_invalid"


def test_a_session_of_another_wallet_is_refused(wallet: Wallet, path: Path, tmp_path: Path, sessions: Path,
                                                clock: Clock) -> None:
    other = tmp_path / "other.wallet"
    Wallet.create(other, PASS, fast=True)
    unlocked = session.unlock(other, PASS, directory=sessions, clock=clock)
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_invalid"


def test_lock_wipes_every_session_of_the_wallet(wallet: Wallet, path: Path, tmp_path: Path, sessions: Path,
                                                clock: Clock) -> None:
    first = session.unlock(path, PASS, directory=sessions, clock=clock)
    second = session.unlock(path, PASS, directory=sessions, clock=clock)
    other = tmp_path / "other.wallet"
    Wallet.create(other, PASS, fast=True)
    theirs = session.unlock(other, PASS, directory=sessions, clock=clock)
    assert session.lock(path, directory=sessions, clock=clock) == 2
    assert not first.path.exists() and not second.path.exists()
    for token in (first.token, second.token):
        assert _code(_opener(path, token, sessions, clock)) == "wallet.session_expired"
    session.open_wallet(other, theirs.token, directory=sessions, clock=clock)  # another wallet's session stays
    assert session.lock(path, directory=sessions, token=theirs.token, clock=clock) == 1  # ... unless it is named
    assert list(sessions.iterdir()) == []
    assert session.lock(path, directory=tmp_path / "never-made", clock=clock) == 0


def test_unlock_sweeps_expired_sessions(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    old = session.unlock(path, PASS, directory=sessions, ttl=10, clock=clock)
    clock.now += 10
    new = session.unlock(path, PASS, directory=sessions, clock=clock)
    assert not old.path.exists() and new.path.exists()


def test_a_passphrase_save_makes_sessions_stale(wallet: Wallet, path: Path, sessions: Path, clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    in_session = session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    wallet.metadata["note"] = "saved with the passphrase"
    wallet.save()  # a fresh salt: the session's key no longer fits
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)) \
        == "wallet.session_stale"
    in_session.metadata["mine"] = True
    assert _code(in_session.save) == "wallet.session_stale"  # nothing written
    assert "mine" not in Wallet.open(path, PASS).metadata


def test_two_session_writers_merge_without_argon2id(wallet: Wallet, path: Path, sessions: Path,
                                                    clock: Clock) -> None:
    unlocked = session.unlock(path, PASS, directory=sessions, clock=clock)
    a = session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    b = session.open_wallet(path, unlocked.token, directory=sessions, clock=clock)
    a.add_key("from-a", KeyType.ED25519)
    a.save()
    b.add_key("from-b", KeyType.P256)
    b.save()  # catches up with a's save using the session key (same salt), then merges
    names = [k.name for k in Wallet.open(path, PASS).keys()]
    assert "from-a" in names and "from-b" in names
    wallet.metadata["later"] = 1
    wallet.save()  # the passphrase writer reads the session's saves too
    assert Wallet.open(path, PASS).metadata["later"] == 1


def test_an_unsafe_session_directory_is_refused(wallet: Wallet, path: Path, tmp_path: Path, clock: Clock) -> None:
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o755)
    os.chmod(open_dir, 0o755)
    assert _code(lambda: session.unlock(path, PASS, directory=open_dir, clock=clock)) == "wallet.session_dir_unsafe"
    assert list(open_dir.iterdir()) == []
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert _code(lambda: session.unlock(path, PASS, directory=link, clock=clock)) == "wallet.session_dir_unsafe"
    unlocked = session.unlock(path, PASS, directory=real, clock=clock)
    assert _code(lambda: session.open_wallet(path, unlocked.token, directory=link, clock=clock)) \
        == "wallet.session_dir_unsafe"
