"""Open what a command needs from :class:`~node.settings.Settings`: the chain backend, the deployment, the
ledger client, the index and the follower.

The embedded chain is one SQLite file that only one process may drive: it is opened under an exclusive
``flock`` on ``<home>/chain.lock``; a second process gets a clear ``chain.busy`` error instead of a diverging
copy of the chain.

Importing this module loads nothing of the chain stack (py-evm: half a second): :func:`open_backend` imports it when a
command first opens a chain, then puts back the recursion limit those imports raised
(:func:`wallet.strictjson.restore_recursion_limit`). A command that needs no chain (``eidln --help``, ``did show``,
``call sign``) never pays for it. The keystore (eth_account, which loads py_ecc's BLS code: most of a second) is
imported only when a command uses an account (:attr:`Runtime.keystore`): reading the ledger never loads it.
"""

from __future__ import annotations

import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from node.errors import ChainError, ChainIdMismatch
from node.settings import Settings

if TYPE_CHECKING:
    from node.chain.base import ChainBackend
    from node.keystore import Keystore
    from node.ledger.client import Ledger
    from node.ledger.deployment import Deployment
    from node.sync.follower import Follower
    from node.sync.store import Store

__all__ = ["Runtime", "open_backend", "open_runtime", "open_keystore"]


@contextmanager
def _exclusive(path: os.PathLike[str]) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ChainError(f"the embedded chain in {os.fspath(path)!r} is in use by another eidln process "
                             f"(pid {holder}); stop it first, or share a JSON-RPC chain", code="chain.busy") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def _load_chain_stack(embedded: bool) -> None:
    """Import the chain backend, the ledger client and the follower (py-evm for the embedded chain, web3 for
    JSON-RPC), then restore the recursion limit they raised."""
    from wallet.strictjson import restore_recursion_limit

    for name in ("node.ledger.client", "node.ledger.deployment", "node.sync.follower",
                 "node.chain.embedded" if embedded else "node.chain.jsonrpc"):
        import_module(name)
    restore_recursion_limit()  # importing py-evm (12,288) or py_ecc (100,000) raised it


@contextmanager
def open_backend(settings: Settings) -> Iterator[ChainBackend]:
    _load_chain_stack(settings.embedded)
    with ExitStack() as stack:
        backend: ChainBackend
        if settings.embedded:
            from node.chain.embedded import EmbeddedChain

            settings.home.mkdir(parents=True, exist_ok=True)
            stack.enter_context(_exclusive(settings.home / "chain.lock"))
            backend = EmbeddedChain(settings.chain_file, chain_id=settings.chain_id)
        else:
            from node.chain.jsonrpc import JsonRpcChain

            backend = JsonRpcChain(settings.chain, expected_chain_id=settings.chain_id, timeout=settings.rpc_timeout)
        stack.callback(backend.close)
        yield backend


@dataclass
class Runtime:
    settings: Settings
    backend: ChainBackend
    deployment: Deployment
    ledger: Ledger
    _store: Store | None = None
    _keystore: Keystore | None = None

    @property
    def keystore(self) -> Keystore:
        """The ledger accounts (``<home>/keys``), opened on first use (:func:`open_keystore`)."""
        if self._keystore is None:
            self._keystore = open_keystore(self.settings.keys_dir, self.settings.passphrase)
        return self._keystore

    @property
    def store(self) -> Store:
        if self._store is None:
            from node.sync.store import Store

            self._store = Store(self.settings.index_file)
        return self._store

    def follower(self) -> Follower:
        from node.sync.follower import Follower

        return Follower(self.backend, self.store, self.deployment, confirmations=self.settings.confirmations,
                        batch_blocks=self.settings.sync_batch, max_reorg_depth=self.settings.max_reorg_depth)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def open_keystore(directory: Path, passphrase: str | None) -> Keystore:
    """The keystore of ledger accounts in ``directory``. Its first use imports eth_account, which loads py_ecc's BLS
    code (most of a second) and raises the recursion limit to 100,000: put back here, as the import found it."""
    limit = sys.getrecursionlimit()
    from node.keystore import Keystore

    sys.setrecursionlimit(limit)
    return Keystore(directory, passphrase)


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    from node.ledger.deployment import Deployment

    deployment = Deployment.load(settings.network_file)  # no network here is config.no_network before the chain opens
    with open_backend(settings) as backend:
        from node.ledger.client import Ledger

        if backend.chain_id() != deployment.chain_id:
            raise ChainIdMismatch(f"the chain has id {backend.chain_id()} but this network was deployed on "
                                  f"chain {deployment.chain_id}")
        rt = Runtime(settings, backend, deployment, Ledger(backend, deployment))
        try:
            yield rt
        finally:
            rt.close()
