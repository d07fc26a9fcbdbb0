"""The embedded chain against a real Vyper contract (compiled here for Cancun): no mocks."""

from __future__ import annotations

import os
import pathlib
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
import vyper  # type: ignore[import-untyped]
from eth_abi import decode, encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from vyper.compiler.settings import Settings  # type: ignore[import-untyped]

from node.chain.base import BlockRef, Call, ChainBackend
from node.chain.embedded import EmbeddedChain
from node.errors import ChainError, ChainIdMismatch, ChainRevert, ChainUnavailable, TransactionFailed

ROOT = pathlib.Path(__file__).resolve().parents[3]
GAS = 200_000
KEY = "0x" + "11" * 32  # a fixed test key, so a child process can sign as the same account

DEMO = """
# pragma version 0.4.3

event Stored:
    who: indexed(address)
    value: uint256
    count: uint256

counter: public(uint256)
value: public(uint256)

@external
def store(v: uint256):
    self.value = v
    self.counter += 1
    log Stored(who=msg.sender, value=v, count=self.counter)

@external
def store_if(v: uint256, ok: bool):
    self.value = v
    self.counter += 1
    log Stored(who=msg.sender, value=v, count=self.counter)
    assert ok, "demo: nope"

@external
@view
def check(ok: bool) -> uint256:
    assert ok, "demo: nope"
    return 1

@external
@view
def silent(ok: bool) -> uint256:
    assert ok
    return 1

@external
@nonreentrant
def guarded(v: uint256):
    self.value = v
"""
STORED = keccak(text="Stored(address,uint256,uint256)")


def sel(signature: str, types: list[str] | None = None, args: list[Any] | None = None) -> bytes:
    return function_signature_to_4byte_selector(signature) + (encode(types, args or []) if types else b"")


def store(v: int) -> bytes:
    return sel("store(uint256)", ["uint256"], [v])


@pytest.fixture(scope="module")
def compiled() -> dict[str, Any]:
    out: dict[str, Any] = vyper.compile_code(
        DEMO, output_formats=["abi", "bytecode", "opcodes"], settings=Settings(evm_version="cancun"))
    return out


@pytest.fixture(scope="module")
def code(compiled: dict[str, Any]) -> bytes:
    return bytes.fromhex(compiled["bytecode"].removeprefix("0x"))


@pytest.fixture
def account() -> LocalAccount:
    return Account.from_key(KEY)


@pytest.fixture
def chain() -> Any:
    with EmbeddedChain(None) as c:
        yield c


def deploy(chain: EmbeddedChain, account: LocalAccount, code: bytes, gas: int = 1_000_000) -> str:
    (receipt,) = chain.send(account, [Call(None, code, gas)])
    assert receipt.status == 1 and receipt.contract_address is not None
    return receipt.contract_address


def read_uint(chain: EmbeddedChain, who: str, to: str, name: str, block: int | None = None) -> int:
    return int(decode(["uint256"], chain.call(who, to, sel(f"{name}()"), block=block))[0])


def test_bytecode_needs_cancun(compiled: dict[str, Any]) -> None:
    ops = compiled["opcodes"].split()
    assert "PUSH0" in ops and "TSTORE" in ops and "TLOAD" in ops


def test_is_a_chain_backend(chain: EmbeddedChain) -> None:
    assert isinstance(chain, ChainBackend)
    assert chain.kind == "embedded" and chain.chain_id() == 1337 and chain.head() == 0
    genesis = chain.block(0)
    assert isinstance(genesis, BlockRef) and genesis.number == 0 and genesis.parent_hash == b"\0" * 32


def test_deploy_send_receipts_logs(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    (r,) = chain.send(account, [Call(addr, store(42), GAS)])
    assert r.status == 1 and r.block_number == 2 and r.contract_address is None and 0 < r.gas_used < GAS
    assert r.block_hash == chain.block(2).hash and len(r.tx_hash) == 32
    (log,) = r.logs
    assert log.address == addr and log.topics == (STORED, b"\0" * 12 + bytes.fromhex(account.address[2:]))
    assert decode(["uint256", "uint256"], log.data) == (42, 1)
    assert (log.block_number, log.tx_index, log.log_index, log.tx_hash) == (2, 0, 0, r.tx_hash)
    assert read_uint(chain, account.address, addr, "value") == 42
    assert chain.get_logs(0, chain.head(), [addr]) == [log]
    assert chain.get_logs(0, chain.head(), [addr.lower()]) == [log]
    assert chain.get_logs(0, 1, [addr]) == [] and chain.get_logs(0, 2, []) == []
    # the @nonreentrant (TSTORE/TLOAD) function runs
    (g,) = chain.send(account, [Call(addr, sel("guarded(uint256)", ["uint256"], [7]), GAS)])
    assert g.status == 1 and read_uint(chain, account.address, addr, "value") == 7
    # eth_call at an older block sees the older state
    assert read_uint(chain, account.address, addr, "value", block=2) == 42
    assert read_uint(chain, account.address, addr, "value", block=1) == 0


def test_call_revert_reason(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    assert chain.call(account.address, addr, sel("check(bool)", ["bool"], [True]))[-1] == 1
    with pytest.raises(ChainRevert) as info:
        chain.call(account.address, addr, sel("check(bool)", ["bool"], [False]))
    assert info.value.reason == "demo: nope" and info.value.code == "demo.nope"
    with pytest.raises(ChainRevert) as info:
        chain.call(account.address, addr, sel("silent(bool)", ["bool"], [False]))
    assert info.value.reason == "" and info.value.code == "ledger.reverted"
    with pytest.raises(ChainRevert):  # no such function: vyper reverts without data
        chain.call(account.address, addr, b"\x12\x34\x56\x78")


def test_reverted_send_writes_nothing(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    chain.send(account, [Call(addr, store(1), GAS)])
    bad = sel("store_if(uint256,bool)", ["uint256", "bool"], [99, False])
    (r,) = chain.send(account, [Call(addr, bad, GAS)])
    assert r.status == 0 and r.logs == () and r.block_number == chain.head() == 3
    assert read_uint(chain, account.address, addr, "value") == 1
    assert read_uint(chain, account.address, addr, "counter") == 1
    assert len(chain.get_logs(0, chain.head(), [addr])) == 1
    good = sel("store_if(uint256,bool)", ["uint256", "bool"], [5, True])
    (ok,) = chain.send(account, [Call(addr, good, GAS)])
    assert ok.status == 1 and read_uint(chain, account.address, addr, "counter") == 2


def test_multi_call_send_is_one_block(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    bad = sel("store_if(uint256,bool)", ["uint256", "bool"], [0, False])
    receipts = chain.send(account, [Call(addr, store(10)), Call(addr, bad), Call(addr, store(11)),
                                    Call(None, code, 1_000_000), Call(addr, store(12))])
    assert chain.head() == 2 and {r.block_number for r in receipts} == {2}
    assert [r.status for r in receipts] == [1, 0, 1, 1, 1]
    assert len({r.tx_hash for r in receipts}) == 5 and receipts[3].contract_address not in (None, addr)
    logs = chain.get_logs(2, 2, [addr])
    assert [(lg.tx_index, lg.log_index) for lg in logs] == [(0, 0), (2, 1), (4, 2)]
    assert [lg for r in receipts for lg in r.logs] == logs
    assert read_uint(chain, account.address, addr, "counter") == 3


def test_timestamps_strictly_increase_with_a_stopped_clock(account: LocalAccount, code: bytes) -> None:
    with EmbeddedChain(None, clock=lambda: 1_800_000_000.7) as chain:
        addr = deploy(chain, account, code)
        for i in range(3):
            chain.send(account, [Call(addr, store(i), GAS)])
        stamps = [chain.block(n).timestamp for n in range(chain.head() + 1)]
        assert stamps[0] == 1_800_000_000 and stamps == list(range(stamps[0], stamps[0] + len(stamps)))
    with EmbeddedChain(None) as chain:
        before = int(time.time())
        deploy(chain, account, code)
        assert chain.block(1).timestamp >= before and chain.block(1).timestamp > chain.block(0).timestamp


def test_bad_requests_raise_node_errors(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    for bad in (-1, 2, 10**6):
        with pytest.raises(ChainError, match="block"):
            chain.block(bad)
        with pytest.raises(ChainError, match="block"):
            chain.call(account.address, addr, sel("counter()"), block=bad)
    with pytest.raises(ChainError, match="block") as info:
        chain.get_logs(0, 5, [addr])
    assert info.value.code == "chain.block_not_found"
    with pytest.raises(ChainError, match="block"):
        chain.get_logs(-1, 0, [addr])
    assert chain.get_logs(2, 1, [addr]) == []  # an empty range (e.g. a follower already at the head)
    with pytest.raises(ChainError, match="address"):
        chain.call(account.address, "0xnot-an-address", b"")
    with pytest.raises(TransactionFailed, match="cap"):
        chain.send(account, [Call(addr, store(1), 60_000_000)])
    with pytest.raises(TransactionFailed, match="not mined"):  # below the intrinsic gas: nothing is mined
        chain.send(account, [Call(addr, store(1), GAS), Call(addr, store(2), 1_000)])
    assert chain.head() == 1 and read_uint(chain, account.address, addr, "counter") == 0
    (r,) = chain.send(account, [Call(addr, store(3), GAS)])  # nonces were not consumed
    assert r.status == 1 and chain.head() == 2
    assert chain.send(account, []) == []


def test_batch_above_the_gas_target_is_split_and_fees_stay_zero(account: LocalAccount, code: bytes) -> None:
    with EmbeddedChain(None, gas_limit=1_000_000) as chain:
        addr = deploy(chain, account, code, gas=400_000)
        receipts = chain.send(account, [Call(addr, store(i + 1), 100_000) for i in range(30)])
        assert all(r.status == 1 for r in receipts) and chain.head() > 2
        assert sum(r.gas_used for r in receipts if r.block_number == 2) <= 500_000
        assert read_uint(chain, account.address, addr, "counter") == 30
        assert [r.logs[0] for r in receipts] == chain.get_logs(0, chain.head(), [addr])
        (r,) = chain.send(account, [Call(addr, store(1), 100_000)])  # zero fee still accepted
        assert r.status == 1


def test_reader_and_writer_threads(chain: EmbeddedChain, account: LocalAccount, code: bytes) -> None:
    addr = deploy(chain, account, code)
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        try:
            while not done.is_set():
                head = chain.head()
                assert read_uint(chain, account.address, addr, "counter", block=head) == len(
                    chain.get_logs(0, head, [addr]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    sizes = [1 + i % 3 for i in range(40)]
    for i, size in enumerate(sizes):
        chain.send(account, [Call(addr, store(i), GAS)] * size)
    done.set()
    t.join()
    assert not errors and read_uint(chain, account.address, addr, "counter") == sum(sizes)


def test_restart_durability(tmp_path: pathlib.Path, account: LocalAccount, code: bytes) -> None:
    path = tmp_path / "chain.db"
    with EmbeddedChain(path) as chain:
        addr = deploy(chain, account, code)
        for i in range(5):
            chain.send(account, [Call(addr, store(i), GAS), Call(addr, store(100 + i), GAS)])
        head, blocks = chain.head(), [chain.block(n) for n in range(chain.head() + 1)]
        logs = chain.get_logs(0, head, [addr])
    with EmbeddedChain(path) as chain:
        assert chain.head() == head == 6 and [chain.block(n) for n in range(head + 1)] == blocks
        assert chain.get_logs(0, head, [addr]) == logs and len(logs) == 10
        assert read_uint(chain, account.address, addr, "counter") == 10
        assert read_uint(chain, account.address, addr, "value") == 104
        (r,) = chain.send(account, [Call(addr, store(7), GAS)])
        assert r.status == 1 and r.block_number == 7 and chain.block(7).parent_hash == blocks[-1].hash
    with EmbeddedChain(path) as chain:
        assert chain.head() == 7 and read_uint(chain, account.address, addr, "counter") == 11


def test_second_handle_on_the_same_file_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "chain.db"
    with EmbeddedChain(path):
        with pytest.raises(ChainUnavailable):
            EmbeddedChain(path)
    with EmbeddedChain(path) as chain:  # released on close
        assert chain.head() == 0
    chain.close()  # idempotent
    with pytest.raises(ChainUnavailable, match="closed"):
        chain.head()


def test_chain_id_mismatch_on_reopen(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "chain.db"
    with EmbeddedChain(path, chain_id=4242) as chain:
        genesis = chain.block(0)
    with pytest.raises(ChainIdMismatch) as info:
        EmbeddedChain(path, chain_id=1337)
    assert info.value.code == "chain.id_mismatch"
    with EmbeddedChain(path, chain_id=4242) as chain:
        assert chain.chain_id() == 4242 and chain.block(0) == genesis


CHILD = """
import sys
from eth_account import Account
from eth_utils import function_signature_to_4byte_selector
from node.chain.base import Call
from node.chain.embedded import EmbeddedChain
path, key, addr = sys.argv[1:4]
account = Account.from_key(key)
sel = function_signature_to_4byte_selector("store(uint256)")
with EmbeddedChain(__import__("pathlib").Path(path)) as chain:
    print("ready", chain.head(), flush=True)
    i = 0
    while True:
        i += 1
        chain.send(account, [Call(addr, sel + i.to_bytes(32, "big"), 200_000)] * (1 + i % 4))
        print(chain.head(), flush=True)
"""


def check_consistent(chain: EmbeddedChain, account: LocalAccount, addr: str) -> int:
    """Every block links to its parent and its logs agree with the storage counter at that block."""
    head = chain.head()
    logs = chain.get_logs(0, head, [addr])
    counts = [decode(["uint256", "uint256"], lg.data)[1] for lg in logs]
    assert counts == list(range(1, len(logs) + 1))
    last_count: dict[int, int] = {}
    for lg, count in zip(logs, counts, strict=True):
        last_count[lg.block_number] = count
    count = 0
    for n in range(1, head + 1):
        assert chain.block(n).parent_hash == chain.block(n - 1).hash
        count = last_count.get(n, count)
        assert read_uint(chain, account.address, addr, "counter", block=n) == count
    return len(logs)


@pytest.mark.slow
def test_crash_durability_sigkill(tmp_path: pathlib.Path, account: LocalAccount, code: bytes) -> None:
    path = tmp_path / "chain.db"
    with EmbeddedChain(path) as chain:
        addr = deploy(chain, account, code)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = random.Random()
    seen = 1
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), KEY, addr], env=env,
                                 stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            ready = child.stdout.readline().split()
            assert ready[0] == "ready" and int(ready[1]) >= seen
            child.stdout.readline()  # it is writing blocks now
            time.sleep(rng.uniform(0.0, 0.6))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            assert child.stdout is not None
            reported = [int(line) for line in child.stdout.read().split()]
            child.stdout.close()
        with EmbeddedChain(path) as chain:
            head = chain.head()
            assert head >= max(reported, default=seen)  # every block the child reported is on disk
            check_consistent(chain, account, addr)
            seen = head
    with EmbeddedChain(path) as chain:
        before = chain.head()
        (r,) = chain.send(account, [Call(addr, store(1), GAS)])
        assert r.status == 1 and chain.head() == before + 1
        total = check_consistent(chain, account, addr)
        assert total == read_uint(chain, account.address, addr, "counter") and total > 3


@pytest.mark.slow
def test_get_logs_over_2000_blocks(tmp_path: pathlib.Path, account: LocalAccount, code: bytes) -> None:
    with EmbeddedChain(tmp_path / "chain.db") as chain:
        addr = deploy(chain, account, code)
        other = deploy(chain, account, code)
        for i in range(2_000):
            chain.send(account, [Call(addr if i % 10 else other, store(i), GAS)])
        head = chain.head()
        assert head == 2_002
        logs = chain.get_logs(0, head, [addr])
        assert len(logs) == 1_800 and all(lg.address == addr for lg in logs)
        assert [lg.block_number for lg in logs] == [n for n in range(3, head + 1) if (n - 3) % 10]
        values = [decode(["uint256", "uint256"], lg.data)[0] for lg in logs]
        assert values == [i for i in range(2_000) if i % 10]
        both = chain.get_logs(0, head, [addr, to_checksum_address(other)])
        assert len(both) == 2_000 and [lg.block_number for lg in both] == list(range(3, head + 1))
        window = [lg for lg in logs if 1_000 <= lg.block_number <= 1_009]
        assert chain.get_logs(1_000, 1_009, [addr]) == window and len(window) == 9
