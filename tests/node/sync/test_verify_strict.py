"""node.sync.verify / node.sync.didhistory: the chain's bytes and the index's rows are read with the strict reader.

A credential in a ``CredentialAnchored`` event is outside input: a JSON-RPC node may report anything, the
contract's 6,144-byte bound included. Hostile bytes are a ``vc.malformed`` rejection, never a crash of the
follower, whatever the recursion limit (py-evm raises it to 100,000; the standard decoder then overflows the C
stack on 65,536 ``[``). A DID history row the strict reader refuses is ``internalError`` for the resolver.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from did_method.errors import DidError, InternalError
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.sync.didhistory import IndexHistory
from node.sync.store import Store
from node.sync.verify import MAX_CREDENTIAL, ConnectionHistory, CredentialChecker, ProofJob, Rejection, verify_job

NESTED = b"[" * 65536
IDENT = bytes(range(16))


@pytest.fixture(autouse=True)
def _deep(py_ecc_recursion_limit: None) -> None:
    """Every test here runs with py_ecc's recursion limit (``tests/conftest.py``)."""


def _prepare(credential: bytes) -> Rejection:
    checker = CredentialChecker(network="local", chain_id=1337, workers=1)
    db = sqlite3.connect(":memory:")  # never reached: the bytes are refused first
    ev = {"args": {"credential": "0x" + credential.hex()}, "block": 1, "log_index": 0}
    result = checker.prepare(db, ev)
    assert isinstance(result, Rejection)
    return result


def _rejection(credential: bytes) -> Rejection:
    result = _prepare(credential)
    job = verify_job(ProofJob(credential, "did:eidln:local:x#key-1", 1, bytes(32)))
    assert job == result  # the proof worker reads the bytes the same way
    return result


@pytest.mark.parametrize(("credential", "code"), [
    (NESTED, "json.too_large"),  # more than the contract stores: a hostile JSON-RPC node
    (b'{"a":' + b"[" * 3000 + b"]" * 3000 + b"}", "json.too_deep"),  # within the contract's bound
    (b'{"id":"urn:a","id":"urn:b"}', "json.duplicate_key"),  # which id did the issuer sign?
    (b'{"id":"\\ud800"}', "json.bad_string"),
    (b'{"id":NaN}', "json.invalid"),
])
def test_hostile_anchored_bytes_are_malformed(credential: bytes, code: str) -> None:
    rejection = _rejection(credential)
    assert rejection.code == "vc.malformed" and code in rejection.message


def test_the_limit_is_the_contracts() -> None:
    contract = (Path(__file__).resolve().parents[3] / "contracts" / "src" / "CredentialRegistry.vy").read_text()
    assert f"MAX_CREDENTIAL: constant(uint256) = {MAX_CREDENTIAL}" in contract
    padded = b'{"pad":"' + b"x" * (MAX_CREDENTIAL - 10) + b'"}'
    assert len(padded) == MAX_CREDENTIAL
    assert "strict JSON" not in _prepare(padded).message  # parsed; refused for its content
    assert "json.too_large" in _rejection(padded[:-2] + b'x"}').message


def _index_with_row(path: Path, args: str) -> Store:
    store = Store(path)
    store.db.execute("INSERT INTO did_changes (did, block, log_index, timestamp, name, args) VALUES (?, ?, ?, ?, ?, ?)",
                     (IDENT, 5, 0, 1_700_000_000, "DIDCreated", args))
    return store


@pytest.mark.parametrize("args", [NESTED.decode(), "[]", '{"a":1,"a":2}'], ids=["nested", "array", "duplicate"])
def test_unreadable_history_rows_are_internal_errors(tmp_path: Path, args: str) -> None:
    store = _index_with_row(tmp_path / "index.sqlite", args)
    with pytest.raises(InternalError):
        ConnectionHistory(store.db).changes(IDENT)
    history = IndexHistory(tmp_path / "index.sqlite")
    try:
        with pytest.raises(InternalError):
            history.changes(IDENT)
        resolver = Resolver(history, network="local", chain_id=1337)
        result = resolver.resolve(format_did("local", IDENT))
        assert result.did_resolution_metadata["error"] == "internalError"
        with pytest.raises(DidError):
            resolver.key_at(format_did("local", IDENT) + "#key-1", 1_700_000_001)
    finally:
        history.close()
        store.close()
