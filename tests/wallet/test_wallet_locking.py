"""wallet.keystore / wallet.envelope: several writers of one wallet file (issue 9, item 12).

Every write takes the file's writer lock (``flock`` on ``<wallet>.lock``) and re-reads the file under it, so
changes made by other writers since a ``Wallet`` object was opened are merged, never overwritten; a key name
added by two writers with different secrets is ``wallet.key_exists``. The lock is re-entrant in a process and
the kernel drops it when its holder dies.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from did_method.ident import KeyType
from wallet import envelope
from wallet.errors import WalletError
from wallet.keystore import LEDGER_KEY, Wallet

PASS = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "member.wallet"


@pytest.fixture
def wallet(path: Path) -> Wallet:
    return Wallet.create(path, PASS, fast=True)


def _code(fn: Callable[[], object]) -> str:
    with pytest.raises(WalletError) as err:
        fn()
    return err.value.code


def _names(path: Path) -> list[str]:
    return [k.name for k in Wallet.open(path, PASS).keys()]


# ------------------------------------------------------------------------------------------------ merging saves


def test_two_stale_objects_both_keep_their_keys(path: Path, wallet: Wallet) -> None:
    """The lost update of issue 9: b was opened before a saved; b's save must not drop a's key."""
    a, b = Wallet.open(path, PASS), Wallet.open(path, PASS)
    a.add_key("from-a", KeyType.ED25519)
    b.add_key("from-b", KeyType.P256)
    a.save()
    b.save()
    assert _names(path) == [LEDGER_KEY, "from-a", "from-b"]
    assert [k.name for k in b.keys()] == [LEDGER_KEY, "from-a", "from-b"]  # b caught up too
    b.signer("from-a")


def test_same_name_from_two_writers_is_key_exists(path: Path, wallet: Wallet) -> None:
    a, b = Wallet.open(path, PASS), Wallet.open(path, PASS)
    first = a.add_key("sti", KeyType.P256)
    a.save()
    b.add_key("sti", KeyType.P256)  # b's view is stale: it does not know a's key
    before = path.read_bytes()
    assert _code(b.save) == "wallet.key_exists"
    assert path.read_bytes() == before  # nothing written
    assert Wallet.open(path, PASS).signer("sti").public_key == first.public_key


def test_a_removed_key_stays_removed(path: Path, wallet: Wallet) -> None:
    wallet.add_key("old", KeyType.ED25519)
    wallet.save()
    a, b = Wallet.open(path, PASS), Wallet.open(path, PASS)
    a.remove_key("old")
    a.save()
    b.add_key("new", KeyType.ED25519)
    b.save()  # b still holds "old" in memory, unchanged: the file decides
    assert _names(path) == [LEDGER_KEY, "new"]


def test_a_key_replaced_elsewhere_is_never_dropped(path: Path, wallet: Wallet) -> None:
    wallet.add_key("k", KeyType.ED25519)
    wallet.save()
    a, b = Wallet.open(path, PASS), Wallet.open(path, PASS)
    b.remove_key("k")
    replacement = b.add_key("k", KeyType.P256)
    b.save()
    a.remove_key("k")  # a meant the old key; the new one is b's to keep
    a.save()
    assert Wallet.open(path, PASS).signer("k").public_key == replacement.public_key


def test_metadata_merges_member_by_member(path: Path, wallet: Wallet) -> None:
    wallet.metadata = {"dids": {"did:x:1": {"active": ["key-1"]}}, "pending": ["k1"], "note": "base"}
    wallet.save()
    a, b = Wallet.open(path, PASS), Wallet.open(path, PASS)
    entry = a.metadata["dids"]["did:x:1"]
    a.metadata["dids"]["did:x:2"] = {"active": ["key-1"]}
    a.metadata["pending"].remove("k1")
    a.metadata["pending"].append("k2")
    a.metadata["note"] = "from a"
    a.save()
    b.metadata["held"] = {"urn:1": {"id": "urn:1"}}
    b.metadata["dids"]["did:x:1"]["active"] = ["key-2"]
    b.metadata["pending"].append("k3")
    b.metadata["note"] = "from b"
    b.save()
    a.save()  # a catches up with b's changes
    expected = {"dids": {"did:x:1": {"active": ["key-2"]}, "did:x:2": {"active": ["key-1"]}},
                "pending": ["k2", "k3"], "note": "from b", "held": {"urn:1": {"id": "urn:1"}}}
    assert Wallet.open(path, PASS).metadata == expected
    assert a.metadata == expected
    assert entry is a.metadata["dids"]["did:x:1"]  # references into the metadata stay live


def test_unchanged_file_is_not_decrypted_again(path: Path, wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save whose file nobody else wrote costs one Argon2id run (the seal), as before."""
    wallet.add_key("k", KeyType.ED25519)

    def no_unseal(*_: object) -> None:
        raise AssertionError("the file did not change: no need to decrypt it")

    monkeypatch.setattr(envelope, "unseal", no_unseal)
    wallet.save()
    with wallet.transaction():
        wallet.metadata["x"] = 1


def test_metadata_the_reader_would_refuse_is_not_written(path: Path, wallet: Wallet) -> None:
    deep: dict[str, object] = {}
    for _ in range(40):
        deep = {"d": deep}
    wallet.metadata["deep"] = deep
    before = path.read_bytes()
    with pytest.raises(ValueError, match="json.too_deep"):
        wallet.save()
    assert path.read_bytes() == before
    with pytest.raises(TypeError):
        wallet.metadata = {"deep": deep}


# ------------------------------------------------------------------------------------------------ transactions


def test_transaction_body_sees_the_current_file(path: Path, wallet: Wallet) -> None:
    other = Wallet.open(path, PASS)
    other.add_key("sti", KeyType.P256)
    other.save()
    with wallet.transaction():
        assert "sti" in [k.name for k in wallet.keys()]  # check-then-act decides on the file as it is
        assert _code(lambda: wallet.add_key("sti", KeyType.P256)) == "wallet.key_exists"
        wallet.metadata["seen"] = True
    assert Wallet.open(path, PASS).metadata == {"seen": True}


def test_failed_transaction_rolls_back_in_memory_and_writes_nothing(path: Path, wallet: Wallet) -> None:
    wallet.metadata["kept"] = 1
    wallet.save()
    before = path.read_bytes()
    with pytest.raises(RuntimeError), wallet.transaction():
        wallet.add_key("doomed", KeyType.ED25519)
        wallet.metadata["kept"] = 2
        raise RuntimeError("boom")
    assert [k.name for k in wallet.keys()] == [LEDGER_KEY] and wallet.metadata == {"kept": 1}
    assert path.read_bytes() == before


def test_transaction_without_changes_does_not_write(path: Path, wallet: Wallet) -> None:
    before = path.read_bytes()
    with wallet.transaction():
        wallet.keys()
    assert path.read_bytes() == before


def test_one_thread_two_objects_does_not_deadlock(path: Path, wallet: Wallet) -> None:
    """The lock is re-entrant per file in a process: a second object on the same file, same thread, proceeds."""
    other = Wallet.open(path, PASS)
    with wallet.transaction():
        wallet.add_key("outer", KeyType.ED25519)
        other.add_key("inner", KeyType.ED25519)
        other.save()
        with other.transaction(), wallet.transaction():
            other.metadata["nested"] = True
    assert _names(path) == [LEDGER_KEY, "inner", "outer"]
    assert Wallet.open(path, PASS).metadata == {"nested": True}


def test_threads_of_one_process_take_turns(path: Path, wallet: Wallet) -> None:
    other = Wallet.open(path, PASS)
    done = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            other.add_key("from-thread", KeyType.ED25519)
            other.save()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        done.set()

    with wallet.transaction():
        wallet.add_key("from-main", KeyType.ED25519)
        thread = threading.Thread(target=writer)
        thread.start()
        wallet.save()
        assert not done.is_set()  # the thread waits for the lock this thread holds
    thread.join()
    assert not errors
    assert sorted(_names(path)) == sorted([LEDGER_KEY, "from-main", "from-thread"])


def test_lock_file_is_private(path: Path, wallet: Wallet) -> None:
    wallet.save()
    lock = envelope.lock_path(path)
    assert lock.name == "member.wallet.lock"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600


# ------------------------------------------------------------------------------------------------ processes


def _add_keys(path: str, prefix: str, count: int, barrier: Barrier, in_transaction: bool) -> None:
    """A writer process: open first (so its view goes stale), wait for the others, then add keys one by one."""
    w = Wallet.open(path, PASS)
    barrier.wait()
    for i in range(count):
        if in_transaction:
            with w.transaction():
                w.add_key(f"{prefix}-{i}", KeyType.ED25519)
        else:
            w.add_key(f"{prefix}-{i}", KeyType.ED25519)
            w.save()


@pytest.mark.slow
@pytest.mark.parametrize("in_transaction", [False, True], ids=["save", "transaction"])
def test_concurrent_processes_lose_no_key(path: Path, wallet: Wallet, in_transaction: bool) -> None:
    """Issue 9 item 12: two processes adding keys at once lost 5 of 10. Three processes, five keys each."""
    ctx = multiprocessing.get_context("spawn")
    writers, count = 3, 5
    barrier = ctx.Barrier(writers)
    procs = [ctx.Process(target=_add_keys, args=(str(path), f"p{n}", count, barrier, in_transaction))
             for n in range(writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * writers
    names = _names(path)
    assert sorted(names) == sorted([LEDGER_KEY] + [f"p{n}-{i}" for n in range(writers) for i in range(count)])


_HOLD_LOCK = """
import sys
from wallet.keystore import Wallet
w = Wallet.open(sys.argv[1], sys.argv[2])
with w.transaction():
    w.metadata["holder"] = "killed before it saved"
    print("locked", flush=True)
    sys.stdin.read()  # until killed
"""


@pytest.mark.slow
def test_a_killed_holder_does_not_leave_the_wallet_locked(path: Path, wallet: Wallet) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path), PASS], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"locked\n"
        fd = os.open(envelope.lock_path(path), os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):  # it holds the lock
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            proc.send_signal(signal.SIGKILL)
            assert proc.wait() == -signal.SIGKILL
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kernel released it
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        assert proc.stdin is not None
        proc.stdin.close()
    wallet.add_key("after", KeyType.ED25519)
    wallet.save()  # the next writer proceeds
    reopened = Wallet.open(path, PASS)
    assert [k.name for k in reopened.keys()] == [LEDGER_KEY, "after"] and reopened.metadata == {}
