"""Chain backend over Ethereum JSON-RPC (anvil for tests, Hyperledger Besu QBFT in production).

Design decisions:

* **Plain JSON-RPC, one error path.** Requests go through web3's ``HTTPProvider`` (``make_request`` /
  ``make_batch_request``) and are parsed here; web3's method formatters are bypassed. They rewrite revert
  errors lossily, turn ``null`` into exceptions, and cost time per log (2,000 logs: 25-48 ms here,
  154 ms through ``w3.eth.get_logs``). Every request passes :meth:`JsonRpcChain._rpc`, which turns any
  transport failure (closed port, DNS, timeout, an HTML page, an HTTP error) into
  :class:`ChainUnavailable` with one sentence naming the URL, the method and what failed: no
  ``requests``, ``urllib3`` or ``web3`` exception escapes. web3's retry-with-backoff is off: a dead chain
  is reported in milliseconds and the caller decides whether to retry. An RPC-level ``error`` is a
  :class:`ChainError` (``chain.rpc_error``), a revert in ``eth_call`` a :class:`ChainRevert`.
* ``ExtraDataToPOAMiddleware`` is injected into :attr:`JsonRpcChain.w3`, the escape hatch for code that
  wants web3's API: QBFT ``extraData`` is longer than 32 bytes and web3 would reject every Besu block.
  On anvil it is a no-op.
* **Revert reasons exactly as the contract wrote them**: :func:`revert_reason_from_rpc_error` prefers the
  ABI ``Error(string)`` in ``error.data`` (anvil, geth, Besu) and falls back to the message minus its
  ``"execution reverted: "`` prefix, decoding it if it is hex.
* ``send`` signs locally (type-2, zero fees, explicit gas, ``chainId``, consecutive nonces from the
  *pending* count) and submits one transaction per request, in nonce order, stopping at the first
  rejection. A JSON-RPC batch submits 100 transactions 4x faster on anvil, but the node may then accept
  the ones after a rejected nonce; on a zero-fee chain those can never be replaced (no fee bump) and
  would run later, once the gap is filled. ``send`` then polls **only the last receipt** (a same-sender
  transaction cannot be mined before a lower nonce) and fetches the others in one JSON-RPC batch.
  Polling starts at ``poll_interval`` and backs off to 50 ms, so auto-mining anvil answers in
  milliseconds and a 2 s QBFT block does not cost 400 requests. A transaction the node accepted and
  later **dropped** (anvil does this with gas below the intrinsic cost) is detected by
  ``eth_getTransactionByHash`` returning ``null`` and reported at once, not at ``receipt_timeout``.
  A lock serialises ``send`` per instance (threads sharing it do not race on nonces; two *processes*
  sending from one account still can).
* ``get_logs`` asks ``eth_getLogs`` in chunks of :attr:`JsonRpcChain.LOG_CHUNK` blocks (Besu's default
  ``--rpc-max-logs-range`` is 5,000) and returns logs sorted by ``(block, log index)``. An empty address
  list returns no logs (``eth_getLogs`` would return *every* log).
* Only ``http://`` and ``https://``: web3 8 has no synchronous WebSocket provider, so ``ws://`` is a
  :class:`ConfigError` rather than a second, asynchronous code path. The URL is shown without password
  or query string (RPC URLs sometimes carry API keys).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import BadResponseFormat, ProviderConnectionError
from web3.middleware import ExtraDataToPOAMiddleware

from node.chain.base import BlockRef, Call, Log, Receipt
from node.errors import (
    ChainError,
    ChainIdMismatch,
    ChainRevert,
    ChainUnavailable,
    ConfigError,
    TransactionFailed,
)

__all__ = ["JsonRpcChain", "revert_reason", "revert_reason_from_rpc_error"]

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_REVERT_PREFIX = re.compile(
    r"^\s*(?:vm exception while processing transaction:\s*)?(?:execution reverted|reverted)\s*:?\s*", re.I
)
_HEX = re.compile(r"^0x(?:[0-9a-fA-F]{2})*$")
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()\]]+)")
_TRANSPORT = (
    requests.RequestException,
    OSError,
    json.JSONDecodeError,
    UnicodeDecodeError,
    BadResponseFormat,
    ProviderConnectionError,
)
_MAX_POLL = 0.05  # s, ceiling of the receipt-poll backoff
_DROP_CHECK = 0.25  # s between checks that unmined transactions are still known to the node


# -- revert reasons ---------------------------------------------------------------------------------------


def revert_reason(data: bytes) -> str:
    """Decode revert data: ``Error(string)`` → the string; anything else → ``""``.

    The same rule as the embedded chain: only a contract's own ``Error(string)`` is a reason (and becomes an
    error code); a panic, a custom error or undecodable bytes is an unexplained revert, ``ledger.reverted``.
    Our contracts give a namespaced reason for every refusal, so "" means a bug or out of gas.
    """
    if data[:4] == _ERROR_SELECTOR:
        try:
            (text,) = abi_decode(["string"], data[4:])
            return str(text)
        except Exception:  # malformed ABI or non-UTF-8
            return ""
    return ""


def _reason_from_data(data: object) -> str | None:
    """Revert reason from a JSON-RPC ``error.data`` field, or None when it carries none."""
    if isinstance(data, dict):  # e.g. {"message": ..., "data": "0x..."} or {"reason": ...}
        for key in ("data", "result", "reason"):
            found = _reason_from_data(data.get(key))
            if found is not None:
                return found
        return None
    if not isinstance(data, str):
        return None
    text = data.strip()
    if text.lower().startswith("reverted "):  # "Reverted 0x08c379a0..."
        text = text.split(" ", 1)[1].strip()
    if _HEX.match(text):
        return revert_reason(bytes.fromhex(text[2:]))
    return None


def revert_reason_from_rpc_error(message: str | None, data: object = None) -> str:
    """The revert reason of a JSON-RPC revert error, exactly as the contract wrote it.

    ``data`` wins when it holds ABI revert data (geth/anvil: code 3 + ``data``; Besu: ``data`` hex). Otherwise
    the reason is the message minus its ``"execution reverted: "`` prefix; a message that is itself hex revert
    data is decoded. ``"execution reverted"`` alone gives ``""``.
    """
    from_data = _reason_from_data(data)
    if from_data:
        return from_data
    rest = _REVERT_PREFIX.sub("", message or "", count=1).strip()
    if _HEX.match(rest):
        return revert_reason(bytes.fromhex(rest[2:]))
    return rest


def _is_revert(error: dict[str, Any]) -> bool:
    return (
        error.get("code") == 3
        or "revert" in str(error.get("message") or "").lower()
        or "revert" in str(error.get("data") or "").lower()
    )


# -- helpers ----------------------------------------------------------------------------------------------


def _safe_url(url: str) -> str:
    """The URL without password or query string."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _describe(exc: BaseException, timeout: float) -> str:
    """A short, lower-case account of a transport failure (no class names or tracebacks)."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"it answered HTTP {exc.response.status_code} {exc.response.reason}, not JSON-RPC"
    if isinstance(exc, requests.ConnectionError):
        m = _ERRNO.search(str(exc))
        return m.group(1).strip().lower() if m else "the connection failed"
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError)):
        return "the answer is not JSON (is this a JSON-RPC endpoint?)"
    if isinstance(exc, requests.RequestException):
        return f"the HTTP request failed ({type(exc).__name__})"
    return str(exc) or type(exc).__name__


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@functools.lru_cache(maxsize=1024)
def _checksum(address: str) -> str:
    return to_checksum_address(address)


def _log(entry: dict[str, Any]) -> Log:
    return Log(
        address=_checksum(entry["address"]),
        topics=tuple(_bytes(t) for t in entry["topics"]),
        data=_bytes(entry["data"]),
        block_number=int(entry["blockNumber"], 16),
        block_hash=_bytes(entry["blockHash"]),
        tx_hash=_bytes(entry["transactionHash"]),
        tx_index=int(entry["transactionIndex"], 16),
        log_index=int(entry["logIndex"], 16),
    )


def _receipt(r: dict[str, Any]) -> Receipt:
    contract = r.get("contractAddress")
    return Receipt(
        tx_hash=_bytes(r["transactionHash"]),
        block_number=int(r["blockNumber"], 16),
        block_hash=_bytes(r["blockHash"]),
        status=int(r["status"], 16),
        gas_used=int(r["gasUsed"], 16),
        contract_address=_checksum(contract) if contract else None,
        logs=tuple(_log(entry) for entry in r["logs"]),
    )


# -- the backend ------------------------------------------------------------------------------------------


class JsonRpcChain:
    """:class:`node.chain.base.ChainBackend` over an Ethereum JSON-RPC HTTP(S) endpoint."""

    kind = "jsonrpc"
    LOG_CHUNK = 2_000  # blocks per eth_getLogs request
    BATCH = 200  # requests per JSON-RPC batch

    def __init__(
        self,
        url: str,
        *,
        expected_chain_id: int | None = None,
        timeout: float = 10.0,
        receipt_timeout: float = 60.0,
        poll_interval: float = 0.005,
    ) -> None:
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise ConfigError(f"the chain RPC URL must start with http:// or https://, got {_safe_url(url)!r}")
        self.url = url
        self._shown_url = _safe_url(url)
        self._timeout = timeout
        self._receipt_timeout = receipt_timeout
        self._poll = poll_interval
        self._send_lock = threading.Lock()
        self._session = requests.Session()  # ours, so close() releases every socket
        self._provider = HTTPProvider(
            url,
            session=self._session,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=None,
        )
        self._w3 = Web3(self._provider)
        self._w3.middleware_onion.inject(ExtraDataToPOAMiddleware, name="extradata_to_poa", layer=0)
        try:
            self._chain_id = self._read_chain_id()
            if expected_chain_id is not None and self._chain_id != expected_chain_id:
                raise ChainIdMismatch(
                    f"the chain at {self._shown_url} has chain id {self._chain_id}, expected {expected_chain_id}"
                )
        except BaseException:
            self.close()
            raise

    @property
    def w3(self) -> Web3:
        """web3 on the same session (POA middleware injected, no retries). Its errors are *not* translated."""
        return self._w3

    # -- JSON-RPC plumbing ------------------------------------------------------------------------------

    def _unavailable(self, method: str, why: str) -> NoReturn:
        raise ChainUnavailable(f"cannot reach the chain at {self._shown_url} ({method}): {why}") from None

    def _rpc(self, method: str, params: list[Any]) -> Any:
        """``result`` of one request; a transport failure is ChainUnavailable, an ``error`` ChainError."""
        try:
            response = self._provider.make_request(method, params)  # type: ignore[arg-type,unused-ignore]
        except _TRANSPORT as exc:
            self._unavailable(method, _describe(exc, self._timeout))
        return self._result(method, response)

    def _rpc_batch(self, method: str, params: list[list[Any]]) -> list[Any]:
        """Results of many requests of one method (``null`` results stay None), BATCH per HTTP request."""
        out: list[Any] = []
        for start in range(0, len(params), self.BATCH):
            chunk = [(method, p) for p in params[start : start + self.BATCH]]
            try:
                responses = self._provider.make_batch_request(chunk)  # type: ignore[arg-type]
            except _TRANSPORT as exc:
                self._unavailable(method, _describe(exc, self._timeout))
            if not isinstance(responses, list) or len(responses) != len(chunk):
                self._result(method, responses)  # a single error object for the whole batch
                self._unavailable(method, "the batch answer does not match the batch request")
            out.extend(self._result(method, r) for r in responses)
        return out

    def _result(self, method: str, response: Any) -> Any:
        if not isinstance(response, dict) or ("result" not in response and "error" not in response):
            self._unavailable(method, "the answer is not a JSON-RPC response")
        if "error" not in response:
            return response["result"]
        error = response["error"] if isinstance(response["error"], dict) else {"message": str(response["error"])}
        if method == "eth_call" and _is_revert(error):
            raise ChainRevert(revert_reason_from_rpc_error(error.get("message"), error.get("data")))
        raise ChainError(
            f"the chain at {self._shown_url} refused {method}: {error.get('message')}", code="chain.rpc_error"
        )

    def _read_chain_id(self) -> int:
        result = self._rpc("eth_chainId", [])
        try:
            return int(result, 16)
        except (TypeError, ValueError):
            self._unavailable("eth_chainId", f"the answer {str(result)[:40]!r} is not a chain id")

    # -- ChainBackend -----------------------------------------------------------------------------------

    def chain_id(self) -> int:
        """The chain id read at construction (it cannot change under a running node)."""
        return self._chain_id

    def head(self) -> int:
        return int(self._rpc("eth_blockNumber", []), 16)

    def block(self, number: int) -> BlockRef:
        """Block ``number``; ChainError with code ``chain.block_not_found`` if the chain does not have it."""
        b = self._rpc("eth_getBlockByNumber", [hex(number), False])
        if b is None:
            raise ChainError(f"the chain at {self._shown_url} has no block {number}", code="chain.block_not_found")
        return BlockRef(
            number=int(b["number"], 16),
            hash=_bytes(b["hash"]),
            parent_hash=_bytes(b["parentHash"]),
            timestamp=int(b["timestamp"], 16),
        )

    def call(self, sender: str, to: str, data: bytes, *, block: int | None = None) -> bytes:
        """``eth_call``. At an old block anvil (``--prune-history N``) answers only for its last N states."""
        tx = {"from": sender, "to": to, "data": "0x" + data.hex()}
        return _bytes(self._rpc("eth_call", [tx, "latest" if block is None else hex(block)]))

    def send(self, account: LocalAccount, calls: Sequence[Call]) -> list[Receipt]:
        if not calls:
            return []
        with self._send_lock:
            nonce = int(self._rpc("eth_getTransactionCount", [account.address, "pending"]), 16)
            signed = [account.sign_transaction(self._tx(call, nonce + i)) for i, call in enumerate(calls)]
            for i, tx in enumerate(signed):
                try:
                    self._rpc("eth_sendRawTransaction", ["0x" + tx.raw_transaction.hex()])
                except ChainUnavailable:
                    raise
                except ChainError as exc:
                    raise TransactionFailed(
                        f"the chain at {self._shown_url} rejected transaction {i + 1} of {len(signed)} "
                        f"(nonce {nonce + i}): {exc.message.split('eth_sendRawTransaction: ', 1)[-1]}"
                        + (f"; the {i} before it were submitted" if i else "")
                    ) from None
            return self._wait(["0x" + bytes(tx.hash).hex() for tx in signed])

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str]) -> list[Log]:
        if from_block < 0 or to_block < 0:
            raise ValueError("block numbers must not be negative")
        if not addresses or from_block > to_block:
            return []
        wanted = [_checksum(a) for a in addresses]
        logs: list[Log] = []
        for start in range(from_block, to_block + 1, self.LOG_CHUNK):
            end = min(start + self.LOG_CHUNK - 1, to_block)
            raw = self._rpc("eth_getLogs", [{"address": wanted, "fromBlock": hex(start), "toBlock": hex(end)}])
            logs.extend(_log(entry) for entry in raw if not entry.get("removed"))
        logs.sort(key=lambda log: (log.block_number, log.log_index))
        return logs

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> JsonRpcChain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"JsonRpcChain({self._shown_url!r}, chain_id={getattr(self, '_chain_id', None)})"

    # -- send helpers -----------------------------------------------------------------------------------

    def _tx(self, call: Call, nonce: int) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self._chain_id,
            "nonce": nonce,
            "gas": call.gas,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "value": 0,
            "data": call.data,
        }
        if call.to is not None:
            tx["to"] = _checksum(call.to)
        return tx

    def _wait(self, hashes: list[str]) -> list[Receipt]:
        """Wait for the last receipt (all lower nonces are then mined too), then batch-fetch the rest."""
        started = time.monotonic()
        next_drop_check = started + _DROP_CHECK / 2
        delay = self._poll
        while (last := self._rpc("eth_getTransactionReceipt", [hashes[-1]])) is None:
            now = time.monotonic()
            if now >= next_drop_check:
                self._fail_if_dropped(hashes)
                next_drop_check = now + _DROP_CHECK
            if now - started >= self._receipt_timeout:
                raise TransactionFailed(
                    f"{len(hashes)} transaction(s) sent to {self._shown_url} were not all mined within "
                    f"{self._receipt_timeout:g} s (last: {hashes[-1]})"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, max(_MAX_POLL, self._poll))
        receipts = self._rpc_batch("eth_getTransactionReceipt", [[h] for h in hashes[:-1]])
        if any(r is None for r in receipts):  # a lower nonce cannot be unmined once a higher one is mined
            self._unavailable("eth_getTransactionReceipt", "the node lost receipts of mined transactions")
        return [_receipt(r) for r in [*receipts, last]]

    def _fail_if_dropped(self, hashes: list[str]) -> None:
        known = self._rpc_batch("eth_getTransactionByHash", [[h] for h in hashes])
        for i, (h, tx) in enumerate(zip(hashes, known, strict=True)):
            if tx is None:
                raise TransactionFailed(
                    f"the chain at {self._shown_url} dropped transaction {i + 1} of {len(hashes)} ({h}) "
                    "without mining it (gas below the intrinsic cost, or evicted from the pool)"
                )
