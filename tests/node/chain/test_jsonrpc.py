"""JsonRpcChain and AnvilProcess against a real anvil, plus the error paths that need no chain at all.

Every test that runs anvil is marked ``slow``. Most share the session ``anvil`` (tests/conftest.py) and one
contract deployed per module; tests that stop or restart a chain start their own AnvilProcess.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import vyper  # type: ignore[import-untyped]
from eth_abi.abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak
from vyper.compiler.settings import Settings  # type: ignore[import-untyped]

from node.chain.anvil import INSTALL_HINT, AnvilProcess, find_anvil
from node.chain.base import Call, ChainBackend
from node.chain.jsonrpc import JsonRpcChain, revert_reason, revert_reason_from_rpc_error
from node.errors import (
    ChainError,
    ChainIdMismatch,
    ChainRevert,
    ChainUnavailable,
    ConfigError,
    TransactionFailed,
)

DEMO_SRC = """
# pragma version 0.4.3
event Stored:
    key: indexed(uint256)
    value: uint256

stored: public(HashMap[uint256, uint256])

@external
def store(k: uint256, v: uint256):
    self.stored[k] = v
    log Stored(key=k, value=v)

@external
@view
def check(x: bool) -> uint256:
    assert x, "demo: nope"
    return 7

@external
@view
def bare(x: bool) -> uint256:
    assert x
    return 7
"""

STORED_TOPIC = keccak(text="Stored(uint256,uint256)")


def _fn(sig: str, *args: object) -> bytes:
    types = sig[sig.index("(") + 1 : -1].split(",") if "()" not in sig else []
    return function_signature_to_4byte_selector(sig) + encode(types, list(args))


def store(k: int, v: int) -> bytes:
    return _fn("store(uint256,uint256)", k, v)


def word(n: int) -> bytes:
    return n.to_bytes(32, "big")


@pytest.fixture(scope="module")
def bytecode() -> bytes:
    settings = Settings(evm_version="cancun")
    out = vyper.compile_code(DEMO_SRC, output_formats=["abi", "bytecode"], settings=settings)
    return bytes.fromhex(out["bytecode"][2:])


@pytest.fixture(scope="module")
def chain(anvil: AnvilProcess) -> Iterator[JsonRpcChain]:
    with JsonRpcChain(anvil.url, expected_chain_id=1337) as c:
        yield c


@pytest.fixture
def account() -> LocalAccount:
    fresh: LocalAccount = Account.create()  # unfunded: zero fees must be enough
    return fresh


@pytest.fixture(scope="module")
def demo(chain: JsonRpcChain, bytecode: bytes) -> str:
    (receipt,) = chain.send(Account.create(), [Call(to=None, data=bytecode)])
    assert receipt.status == 1 and receipt.contract_address
    return receipt.contract_address


def _require_anvil() -> str:
    path = find_anvil()
    if path is None:
        pytest.fail(f"anvil not found; {INSTALL_HINT}", pytrace=False)
    return path


# -- pure functions (no chain) ----------------------------------------------------------------------------

ERROR_DATA = "0x" + (bytes.fromhex("08c379a0") + encode(["string"], ["members: not governor"])).hex()


@pytest.mark.parametrize(
    ("message", "data", "reason"),
    [
        ("execution reverted: members: not governor", ERROR_DATA, "members: not governor"),  # anvil / geth
        ("execution reverted: members: not governor", None, "members: not governor"),  # web3 message
        ("Execution reverted", ERROR_DATA, "members: not governor"),  # Besu
        ("execution reverted: " + ERROR_DATA, None, "members: not governor"),  # hex in the message
        (
            "VM Exception while processing transaction: revert",
            "Reverted " + ERROR_DATA,
            "members: not governor",
        ),  # noqa: E501
        ("execution reverted", {"message": "x", "data": ERROR_DATA}, "members: not governor"),
        ("execution reverted", "0x", ""),
        ("execution reverted", None, ""),
        (None, None, ""),
        ("execution reverted", "0x4e487b71" + "00" * 31 + "11", ""),  # panic: unexplained, as on embedded
        ("execution reverted", "0xdeadbeef", ""),  # custom error: unexplained
    ],
)
def test_revert_reason_from_rpc_error(message: str | None, data: object, reason: str) -> None:
    assert revert_reason_from_rpc_error(message, data) == reason


def test_revert_reason_undecodable_is_unexplained() -> None:
    bad = bytes.fromhex("08c379a0") + encode(["bytes"], [b"\xff\xfe"])
    assert revert_reason(bad) == ""
    assert revert_reason(b"") == ""


def test_ws_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        JsonRpcChain("ws://127.0.0.1:8546")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_closed_port_is_unavailable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ChainUnavailable) as info:
        JsonRpcChain(url, timeout=2)
    assert info.value.message == f"cannot reach the chain at {url} (eth_chainId): connection refused"
    assert info.value.code == "chain.unavailable"
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_url_password_is_not_shown() -> None:
    with pytest.raises(ChainUnavailable) as info:
        JsonRpcChain(f"http://user:secret@127.0.0.1:{_closed_port()}/rpc?key=abc", timeout=2)
    assert "secret" not in str(info.value) and "abc" not in str(info.value)
    assert "user:***@127.0.0.1" in str(info.value)


class _GetOnlyHandler(http.server.BaseHTTPRequestHandler):
    """A web page; POST is not implemented, so http.server answers 501."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        body = b"<!doctype html><html><body>Welcome to nginx!</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass


class _HtmlHandler(_GetOnlyHandler):
    """Answers every POST with 200 and an HTML page."""

    def do_POST(self) -> None:  # noqa: N802
        self.do_GET()


@pytest.fixture(params=[_HtmlHandler, _GetOnlyHandler], ids=["html-200", "get-only-501"])
def web_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_non_jsonrpc_server_is_unavailable(web_server: str) -> None:
    with pytest.raises(ChainUnavailable) as info:
        JsonRpcChain(web_server, timeout=2)
    message = info.value.message
    assert message.startswith(f"cannot reach the chain at {web_server} (eth_chainId): ")
    assert "not JSON" in message
    assert "Traceback" not in message and "requests" not in message


def test_silent_server_times_out() -> None:
    with socket.socket() as s:  # listens but never answers
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
        with pytest.raises(ChainUnavailable, match=r"no answer within 0\.2 s"):
            JsonRpcChain(url, timeout=0.2)


# -- against anvil ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_backend_protocol_and_chain_id(chain: JsonRpcChain) -> None:
    assert isinstance(chain, ChainBackend)
    assert chain.kind == "jsonrpc"
    assert chain.chain_id() == 1337
    assert "extradata_to_poa" in [name for _, name in chain.w3.middleware_onion.middleware]
    assert chain.w3.eth.get_block("latest")["number"] == chain.head()


@pytest.mark.slow
def test_chain_id_mismatch(anvil: AnvilProcess) -> None:
    with pytest.raises(ChainIdMismatch) as info:
        JsonRpcChain(anvil.url, expected_chain_id=31337)
    assert "1337" in info.value.message and "31337" in info.value.message
    assert info.value.code == "chain.id_mismatch"


@pytest.mark.slow
def test_unfunded_fresh_account_can_send(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    assert chain.w3.eth.get_balance(account.address) == 0
    (receipt,) = chain.send(account, [Call(to=demo, data=store(1, 2), gas=100_000)])
    assert receipt.status == 1
    assert chain.w3.eth.get_balance(account.address) == 0


@pytest.mark.slow
def test_deploy_send_receipt_logs_and_storage(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    (receipt,) = chain.send(account, [Call(to=demo, data=store(42, 4242))])
    assert receipt.status == 1 and receipt.contract_address is None and receipt.gas_used > 21_000
    (log,) = receipt.logs
    assert log.address == demo
    assert log.topics == (STORED_TOPIC, word(42))
    assert log.data == word(4242)
    assert (log.block_number, log.block_hash, log.tx_hash) == (
        receipt.block_number,
        receipt.block_hash,
        receipt.tx_hash,
    )
    block = chain.block(receipt.block_number)
    assert block.hash == receipt.block_hash
    assert chain.block(receipt.block_number - 1).hash == block.parent_hash
    assert chain.head() >= receipt.block_number
    assert chain.call(account.address, demo, _fn("stored(uint256)", 42)) == word(4242)
    assert chain.get_logs(receipt.block_number, receipt.block_number, [demo]) == [log]


@pytest.mark.slow
def test_multi_call_send(chain: JsonRpcChain, account: LocalAccount, bytecode: bytes) -> None:
    receipts = chain.send(account, [Call(to=None, data=bytecode)])
    address = receipts[0].contract_address
    assert address is not None
    receipts = chain.send(account, [Call(to=address, data=store(k, k * 10)) for k in range(5)])
    assert [r.status for r in receipts] == [1] * 5
    blocks = [r.block_number for r in receipts]
    assert blocks == sorted(blocks)
    assert len({r.tx_hash for r in receipts}) == 5
    assert chain.w3.eth.get_transaction_count(account.address) == 6
    logs = chain.get_logs(blocks[0], blocks[-1], [address])
    assert [log.topics[1] for log in logs] == [word(k) for k in range(5)]
    assert logs == [r.logs[0] for r in receipts]
    assert chain.send(account, []) == []


@pytest.mark.slow
def test_revert_reason_via_call(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    assert chain.call(account.address, demo, _fn("check(bool)", True)) == word(7)
    with pytest.raises(ChainRevert) as info:
        chain.call(account.address, demo, _fn("check(bool)", False))
    assert info.value.reason == "demo: nope"
    assert info.value.code == "demo.nope"
    with pytest.raises(ChainRevert) as bare:
        chain.call(account.address, demo, _fn("bare(bool)", False))
    assert bare.value.reason == "" and bare.value.code == "ledger.reverted"


@pytest.mark.slow
def test_call_at_a_past_block(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    (first,) = chain.send(account, [Call(to=demo, data=store(77, 1))])
    chain.send(account, [Call(to=demo, data=store(77, 2))])
    assert chain.call(account.address, demo, _fn("stored(uint256)", 77), block=first.block_number) == word(1)
    assert chain.call(account.address, demo, _fn("stored(uint256)", 77)) == word(2)


@pytest.mark.slow
def test_reverted_transaction_comes_back_with_status_0(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    (receipt,) = chain.send(account, [Call(to=demo, data=_fn("check(bool)", False), gas=100_000)])
    assert receipt.status == 0 and receipt.logs == ()


@pytest.mark.slow
def test_rejected_transaction_is_transaction_failed(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    with pytest.raises(TransactionFailed) as info:
        chain.send(account, [Call(to=demo, data=store(1, 1)), Call(to=demo, data=store(1, 1), gas=10)])
    assert info.value.message == (
        f"the chain at {chain.url} rejected transaction 2 of 2 (nonce 1): intrinsic gas too low; "
        "the 1 before it were submitted"
    )


@pytest.mark.slow
def test_dropped_transaction_fails_fast(chain: JsonRpcChain, account: LocalAccount, demo: str) -> None:
    """anvil accepts gas between 21,000 and the intrinsic cost, then silently drops the transaction."""
    started = time.monotonic()
    with pytest.raises(TransactionFailed, match=r"dropped transaction 2 of 2 \(0x[0-9a-f]{64}\) without mining"):
        chain.send(account, [Call(to=demo, data=store(1, 1)), Call(to=demo, data=store(1, 1), gas=21_000)])
    assert time.monotonic() - started < 2


@pytest.mark.slow
def test_a_full_block_keeps_gas_free(chain: JsonRpcChain, account: LocalAccount) -> None:
    """EIP-1559 would raise a zero base fee to 1 after a block above the gas target; anvil must not."""
    burn = bytes.fromhex("5b600056")  # JUMPDEST PUSH1 0 JUMP: loops until the gas is gone
    (r,) = chain.send(account, [Call(None, burn, gas=60_000_000)])
    assert r.status == 0 and r.gas_used == 60_000_000
    assert chain.w3.eth.get_block("latest")["baseFeePerGas"] == 0
    (after,) = chain.send(Account.create(), [Call(None, b"\x60\x00", gas=100_000)])
    assert after.status == 1


@pytest.mark.slow
def test_missing_block(chain: JsonRpcChain) -> None:
    with pytest.raises(ChainError) as info:
        chain.block(10**9)
    assert info.value.code == "chain.block_not_found"


@pytest.mark.slow
def test_get_logs_chunks_filters_and_orders(chain: JsonRpcChain, account: LocalAccount, bytecode: bytes) -> None:
    a, b = (r.contract_address for r in chain.send(account, [Call(None, bytecode), Call(None, bytecode)]))
    assert a and b
    receipts = chain.send(account, [Call(to=(a, b)[k % 2], data=store(k, k)) for k in range(7)])
    first, last = receipts[0].block_number, receipts[-1].block_number
    whole = chain.get_logs(first, last, [a, b])
    assert [log.topics[1] for log in whole] == [word(k) for k in range(7)]
    assert [log.address for log in chain.get_logs(first, last, [b.lower()])] == [b] * 3
    small = JsonRpcChain(chain.url)
    small.LOG_CHUNK = 2
    try:
        assert small.get_logs(first, last, [a, b]) == whole
    finally:
        small.close()
    assert chain.get_logs(first, last, []) == []  # eth_getLogs would return every log
    assert chain.get_logs(last, first, [a]) == []
    with pytest.raises(ValueError):
        chain.get_logs(-1, last, [a])


@pytest.mark.slow
def test_chain_that_goes_away_is_unavailable(bytecode: bytes) -> None:
    proc = AnvilProcess(_require_anvil()).start()
    try:
        chain = JsonRpcChain(proc.url)
        url = proc.url
    finally:
        proc.stop()
    with (
        chain,
        pytest.raises(ChainUnavailable, match=f"cannot reach the chain at {url} .*connection refused"),
    ):
        chain.head()
    with pytest.raises(ChainUnavailable):
        chain.send(Account.create(), [Call(None, bytecode)])
    with pytest.raises(ChainUnavailable):
        chain.call(Account.create().address, Account.create().address, b"")


@pytest.mark.slow
def test_interval_mining_and_receipt_timeout(bytecode: bytes) -> None:
    with (
        AnvilProcess(_require_anvil(), block_time=1) as proc,
        JsonRpcChain(proc.url, receipt_timeout=5) as chain,
    ):
        started = time.monotonic()
        receipts = chain.send(Account.create(), [Call(None, bytecode), Call(None, bytecode)])
        assert time.monotonic() - started < 2.5
        assert receipts[0].block_number == receipts[1].block_number  # one interval block holds both
    with (
        AnvilProcess(_require_anvil(), block_time=60) as proc,
        JsonRpcChain(proc.url, receipt_timeout=0.3) as c2,
    ):
        with pytest.raises(TransactionFailed, match=r"not all mined within 0\.3 s"):
            c2.send(Account.create(), [Call(None, bytecode)])


# -- AnvilProcess -----------------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_state_path_survives_restart(tmp_path: Path, bytecode: bytes) -> None:
    state = tmp_path / "anvil-state.json"
    account = Account.create()
    with AnvilProcess(_require_anvil(), state_path=state) as proc, JsonRpcChain(proc.url) as chain:
        (deploy,) = chain.send(account, [Call(None, bytecode)])
        demo = deploy.contract_address
        assert demo
        chain.send(account, [Call(to=demo, data=store(k, k + 100)) for k in range(3)])
        head, head_hash = chain.head(), chain.block(chain.head()).hash
        logs = chain.get_logs(0, head, [demo])
        port = proc.port
        proc.restart()  # same port: the JsonRpcChain object keeps working
        assert proc.port == port
        assert chain.head() == head and chain.block(head).hash == head_hash
    assert state.is_file() and state.stat().st_size > 0
    with AnvilProcess(_require_anvil(), state_path=state) as proc, JsonRpcChain(proc.url) as chain:
        assert chain.head() == head
        assert chain.block(head).hash == head_hash
        assert chain.call(account.address, demo, _fn("stored(uint256)", 2)) == word(102)
        assert chain.get_logs(0, head, [demo]) == logs
        (receipt,) = chain.send(account, [Call(to=demo, data=store(9, 9))])  # nonces continue
        assert receipt.block_number == head + 1


@pytest.mark.slow
def test_stop_leaves_no_process_and_frees_the_port() -> None:
    proc = AnvilProcess(_require_anvil()).start()
    pid, port = proc.pid, proc.port
    assert pid is not None and proc.running
    proc.stop()
    assert not proc.running and proc.pid is None and _gone(pid)
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
    proc.stop()  # idempotent


@pytest.mark.slow
def test_stop_escalates_to_sigkill() -> None:
    proc = AnvilProcess(_require_anvil(), stop_timeout=0.3).start()
    pid = proc.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # a stopped process ignores SIGTERM until continued
    started = time.monotonic()
    proc.stop()
    assert _gone(pid) and time.monotonic() - started < 3


@pytest.mark.slow
def test_start_failure_quotes_anvil() -> None:
    with pytest.raises(ChainUnavailable, match=r"anvil exited with code \d+ while starting.*nonsense"):
        AnvilProcess(_require_anvil(), hardfork="nonsense").start()


@pytest.mark.slow
def test_port_in_use() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        with pytest.raises(ChainUnavailable, match="while starting on port"):
            AnvilProcess(_require_anvil(), port=s.getsockname()[1]).start()


def test_missing_binary_says_how_to_install(tmp_path: Path) -> None:
    assert find_anvil(tmp_path / "nope") is None
    with pytest.raises(ConfigError, match="npm install --prefix .tools @foundry-rs/anvil@1.7.1"):
        AnvilProcess(tmp_path / "nope")


def test_command_line() -> None:
    proc = AnvilProcess(_require_anvil(), block_time=2, state_path=Path("/tmp/s.json"), gas_limit=30_000_000)
    argv = proc.args(8545)
    assert argv[0] == find_anvil()
    for flag in ("--prune-history", "--base-fee", "--gas-price", "--disable-min-priority-fee", "--quiet"):
        assert flag in argv
    joined = " ".join(argv[1:])
    assert "--chain-id 1337 --hardfork cancun" in joined
    assert "--block-time 2 --state /tmp/s.json --state-interval 1 --gas-limit 30000000" in joined
    assert "--gas-limit 100000000" in " ".join(AnvilProcess(_require_anvil()).args(8545))
