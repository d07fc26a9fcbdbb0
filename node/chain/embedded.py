"""The embedded chain: a durable, in-process EVM (py-evm ``MiningChain``, Cancun rules) in one SQLite file.

Why not stock eth-tester (measured in ``research/engine.md`` §3): it cannot persist (it always rebuilds
genesis in memory), it looks transactions up by scanning blocks backwards from the head (receipts and
``eth_getLogs`` get slower with every block), manual mining keeps one pending transaction per sender, and its
provider stack adds gas estimation and JSON-RPC (de)serialisation we do not need. So this module drives
py-evm directly:

* **Storage.** py-evm's own chain database (``AtomicDB`` over :class:`node.chain.kvstore.SQLiteKV`) holds
  headers, bodies, receipts, state tries, py-evm's transaction index and the canonical head. Re-opening a file
  continues from its stored head with the same hashes; a new file gets a genesis block once.
* **One SQLite transaction per block.** py-evm's writes are buffered while a block is mined and imported, then
  written together with that block's rows of our log index and committed (WAL, ``synchronous=FULL``). A
  process killed at any moment re-opens at the last committed block, never half a block.
* **Own log index.** ``get_logs`` is an indexed SQL query (address, block range), not a scan of blocks.
* **Batching.** ``send`` signs every call with eth_account (consecutive nonces, type-2, zero fees, explicit
  gas) and mines all of them with ``MiningChain.mine_all`` into one block: the fast path (no per-transaction
  rebuild of the block's tries, no one-pending-transaction-per-sender limit).
* **Zero fees forever.** The genesis base fee is 0 and, by EIP-1559, stays 0 as long as no block uses more
  than half its gas limit (the gas target). A block above the target would set the base fee to 1 for good
  (the rule cannot bring it back down from 1), so a batch whose block would exceed the target is split into
  consecutive blocks, and one transaction may not ask for more gas than the target.
"""

from __future__ import annotations

import pathlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

import eth_abi
from eth.abc import BlockHeaderAPI, ComputationAPI, ReceiptAPI, SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.exceptions import PyEVMError, Revert
from eth.vm.forks.cancun import CancunVM
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError, is_address, to_canonical_address, to_checksum_address

from node.chain.base import BlockRef, Call, Log, Receipt
from node.chain.kvstore import SQLiteKV, open_sqlite
from node.errors import (
    ChainError,
    ChainIdMismatch,
    ChainRevert,
    ChainUnavailable,
    NodeError,
    TransactionFailed,
)

if TYPE_CHECKING:  # annotations only: reading the chain must not import eth_account (and the BLS code it loads)
    from eth_account.signers.local import LocalAccount

__all__ = ["EmbeddedChain"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    block_number INTEGER NOT NULL, log_index INTEGER NOT NULL, tx_index INTEGER NOT NULL,
    address BLOB NOT NULL, topics BLOB NOT NULL, data BLOB NOT NULL,
    block_hash BLOB NOT NULL, tx_hash BLOB NOT NULL,
    PRIMARY KEY (block_number, log_index)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS logs_by_address ON logs (address, block_number, log_index);
"""
_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_CALL_GAS = 30_000_000  # gas for eth_call (capped at the block gas limit)


class _SplitBlock(Exception):
    """The batch does not fit in one block under the gas target; mine it in two halves."""


def decode_revert_reason(data: bytes) -> str:
    """The string of an ``Error(string)`` revert; "" for no data, a panic or a custom error."""
    if data[:4] != _ERROR_SELECTOR:
        return ""
    try:
        (reason,) = eth_abi.decode(["string"], data[4:])
    except Exception:  # malformed revert data from the contract: no reason
        return ""
    return str(reason)


class EmbeddedChain:
    """A single-node EVM chain in-process, durable in ``path`` (a SQLite file), in memory if ``path`` is None.

    ``chain_id`` is fixed when the file is created (re-opening with another raises ChainIdMismatch);
    ``gas_limit`` is the genesis block gas limit (kept for every block; ignored when re-opening). ``clock``
    gives block timestamps: ``max(int(clock()), parent timestamp + 1)``. Every method holds one lock.
    """

    kind = "embedded"

    def __init__(self, path: pathlib.Path | None, *, chain_id: int = 1337, gas_limit: int = 100_000_000,
                 clock: Callable[[], float] = time.time) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._checksums: dict[bytes, str] = {}
        try:
            self._conn = open_sqlite(path)
        except sqlite3.Error as exc:
            raise ChainUnavailable(f"cannot open the embedded chain at {path}: {exc}") from exc
        try:
            self._conn.executescript(_SCHEMA)
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'chain_id'").fetchone()
            if row is not None and int(row[0]) != chain_id:
                raise ChainIdMismatch(f"the chain at {path} has chain id {row[0]}, not {chain_id}")
            self._chain_id = chain_id
            self._chain_class = MiningChain.configure(
                __name__="EmbeddedMiningChain", vm_configuration=((0, CancunVM),), chain_id=chain_id)
            self._kv = SQLiteKV(self._conn)
            if row is None:
                self._create_genesis(gas_limit)
            self._reload()
        except BaseException as exc:
            self._conn.close()
            if isinstance(exc, NodeError):
                raise
            if isinstance(exc, sqlite3.Error | PyEVMError | ValidationError | KeyError):
                raise ChainUnavailable(f"cannot open the embedded chain at {path}: {exc!r}") from exc
            raise
        self._closed = False

    def _create_genesis(self, gas_limit: int) -> None:
        params: dict[str, Any] = {"difficulty": 0, "gas_limit": gas_limit, "base_fee_per_gas": 0,
                                  "timestamp": int(self._clock())}
        self._chain_class.from_genesis(AtomicDB(self._kv), params, {})
        with self._transaction():
            self._kv.flush()
            self._conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                                   [("chain_id", str(self._chain_id)), ("schema", "1")])

    def _reload(self) -> None:
        """(Re)build py-evm's view from what is committed (after open, or after a failed block)."""
        self._kv.discard()
        self._chain = self._chain_class(AtomicDB(self._kv))
        self._head: BlockHeaderAPI = self._chain.get_canonical_head()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Hold the lock; turn sqlite/py-evm exceptions into node errors."""
        with self._lock:
            if self._closed:
                raise ChainUnavailable("the embedded chain is closed")
            try:
                yield
            except NodeError:
                raise
            except sqlite3.Error as exc:
                raise ChainUnavailable(f"{what}: storage error: {exc}") from exc
            except (PyEVMError, ValidationError) as exc:
                raise ChainError(f"{what}: {type(exc).__name__}: {exc}") from exc

    # -- ChainBackend -------------------------------------------------------------------------------------

    def chain_id(self) -> int:
        return self._chain_id

    def head(self) -> int:
        with self._guard("head"):
            return int(self._head.block_number)

    def block(self, number: int) -> BlockRef:
        with self._guard("block"):
            header = self._header(number)
            return BlockRef(number=int(header.block_number), hash=bytes(header.hash),
                            parent_hash=bytes(header.parent_hash), timestamp=int(header.timestamp))

    def call(self, sender: str, to: str, data: bytes, *, block: int | None = None) -> bytes:
        with self._guard("call"):
            header = self._head if block is None else self._header(block)
            sender_b, to_b = _address(sender), _address(to)
            vm = self._chain.get_vm(header)
            try:
                with vm.in_costless_state() as state:
                    unsigned = vm.create_unsigned_transaction(
                        nonce=state.get_nonce(sender_b), gas_price=0, gas=min(_CALL_GAS, header.gas_limit),
                        to=to_b, value=0, data=bytes(data))
                    computation: ComputationAPI = state.apply_transaction(
                        SpoofTransaction(unsigned, from_=sender_b))  # type: ignore[arg-type]
            finally:
                self._kv.discard()  # a call never writes; drop anything py-evm may have buffered
            if computation.is_error:
                error = computation.error
                if isinstance(error, Revert):
                    raise ChainRevert(decode_revert_reason(bytes(error.args[0]) if error.args else b""))
                raise ChainRevert("", message=f"the call failed in the EVM: {type(error).__name__} {error}")
            return bytes(computation.output)

    def send(self, account: LocalAccount, calls: Sequence[Call]) -> list[Receipt]:
        if not calls:
            return []
        with self._guard("send"):
            target = int(self._head.gas_limit) // 2
            for c in calls:
                if c.gas > target:
                    raise TransactionFailed(f"gas {c.gas} exceeds the per-transaction cap {target} (half the "
                                            "block gas limit, which keeps the base fee at zero)")
            return self._mine(self._sign(account, calls))

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[Log]:
        """Logs of ``addresses`` in ``from_block..to_block`` from the log index, in chain order.

        No addresses or ``from_block > to_block``: no logs. ``to_block`` beyond the head: ChainError.
        """
        with self._guard("get_logs"):
            self._check_number(from_block, exists=False)
            self._check_number(to_block, exists=False)
            if not addresses or from_block > to_block:
                return []
            self._check_number(to_block)
            keys = sorted({_address(a) for a in addresses})
            rows = self._conn.execute(
                "SELECT address, topics, data, block_number, block_hash, tx_hash, tx_index, log_index "
                f"FROM logs WHERE address IN ({','.join('?' * len(keys))}) AND block_number BETWEEN ? AND ? "
                "ORDER BY block_number, log_index", (*keys, from_block, to_block)).fetchall()
            return [Log(address=self._checksum(a), topics=_split_topics(t), data=bytes(d), block_number=n,
                        block_hash=bytes(bh), tx_hash=bytes(th), tx_index=ti, log_index=li)
                    for a, t, d, n, bh, th, ti, li in rows]

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> EmbeddedChain:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------------------------

    def _check_number(self, number: int, *, exists: bool = True) -> None:
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ChainError(f"invalid block number {number!r}: must be an integer >= 0")
        if exists and number > self._head.block_number:
            raise ChainError(f"block {number} does not exist yet (head is {self._head.block_number})",
                             code="chain.block_not_found")

    def _header(self, number: int) -> BlockHeaderAPI:
        self._check_number(number)
        return self._chain.get_canonical_block_header_by_number(BlockNumber(number))

    def _checksum(self, address: bytes) -> str:
        key = bytes(address)
        if key not in self._checksums:
            self._checksums[key] = to_checksum_address(key)
        return self._checksums[key]

    def _sign(self, account: LocalAccount, calls: Sequence[Call]) -> list[SignedTransactionAPI]:
        nonce = self._chain.get_vm(self._head).state.get_nonce(_address(account.address))
        builder = CancunVM.get_transaction_builder()
        txs = []
        for i, c in enumerate(calls):
            fields: dict[str, Any] = {"type": 2, "chainId": self._chain_id, "nonce": nonce + i, "gas": c.gas,
                                      "maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "value": 0,
                                      "data": bytes(c.data)}
            if c.to is not None:
                fields["to"] = to_checksum_address(_address(c.to))
            txs.append(builder.decode(bytes(account.sign_transaction(fields).raw_transaction)))
        return txs

    def _mine(self, txs: Sequence[SignedTransactionAPI]) -> list[Receipt]:
        try:
            return self._mine_block(txs)
        except _SplitBlock:
            half = len(txs) // 2
            return self._mine(txs[:half]) + self._mine(txs[half:])

    def _mine_block(self, txs: Sequence[SignedTransactionAPI]) -> list[Receipt]:
        """Mine ``txs`` into one block on top of the head and commit it with its log rows."""
        parent = self._head
        timestamp = max(int(self._clock()), parent.timestamp + 1)
        try:
            self._chain.header = self._chain.create_header_from_parent(
                parent, timestamp=timestamp, gas_limit=parent.gas_limit)
            result, py_receipts, computations = self._chain.mine_all(txs)
            block = result.imported_block
            if len(txs) > 1 and block.header.gas_used > block.header.gas_limit // 2:
                raise _SplitBlock()
            receipts = self._receipts(block.header, txs, py_receipts, computations)
            rows = [(lg.block_number, lg.log_index, lg.tx_index, to_canonical_address(lg.address),
                     b"".join(lg.topics), lg.data, lg.block_hash, lg.tx_hash)
                    for r in receipts for lg in r.logs]
            with self._transaction():
                self._kv.flush()
                self._conn.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._head = block.header
        except ValidationError as exc:
            self._reload()
            if len(txs) > 1 and "exceeds gas limit" in str(exc):
                raise _SplitBlock() from exc
            raise TransactionFailed(f"the transactions were not mined: {exc}") from exc
        except BaseException:
            self._reload()  # whatever failed, the committed database is the truth
            raise
        return receipts

    def _receipts(self, header: BlockHeaderAPI, txs: Sequence[SignedTransactionAPI],
                  py_receipts: Sequence[ReceiptAPI], computations: Sequence[ComputationAPI]) -> list[Receipt]:
        out: list[Receipt] = []
        number, block_hash = int(header.block_number), bytes(header.hash)
        cumulative, log_index = 0, 0
        for tx_index, (tx, rec, comp) in enumerate(zip(txs, py_receipts, computations, strict=True)):
            logs = []
            for lg in rec.logs:
                logs.append(Log(address=self._checksum(lg.address),
                                topics=tuple(t.to_bytes(32, "big") for t in lg.topics), data=bytes(lg.data),
                                block_number=number, block_hash=block_hash, tx_hash=bytes(tx.hash),
                                tx_index=tx_index, log_index=log_index))
                log_index += 1
            created = self._checksum(comp.msg.storage_address) if tx.to == b"" else None
            out.append(Receipt(tx_hash=bytes(tx.hash), block_number=number, block_hash=block_hash,
                               status=0 if comp.is_error else 1, gas_used=rec.gas_used - cumulative,
                               contract_address=created, logs=tuple(logs)))
            cumulative = rec.gas_used
        return out


def _address(value: str) -> Address:
    if not isinstance(value, str) or not is_address(value):
        raise ChainError(f"invalid address {value!r}")
    return to_canonical_address(value)


def _split_topics(blob: bytes) -> tuple[bytes, ...]:
    return tuple(bytes(blob[i:i + 32]) for i in range(0, len(blob), 32))
