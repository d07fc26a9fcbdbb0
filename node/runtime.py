"""Open what a command needs from :class:`~node.settings.Settings`: the chain backend, the deployment, the
ledger client, the index and the follower.

The embedded chain is one SQLite file that only one process may drive: it is opened under an exclusive
``flock`` on ``<home>/chain.lock``; a second process gets a clear ``chain.busy`` error instead of a diverging
copy of the chain.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from node.chain.base import ChainBackend
from node.errors import ChainError, ChainIdMismatch
from node.keystore import Keystore
from node.ledger.client import Ledger
from node.ledger.deployment import Deployment
from node.settings import Settings
from node.sync.follower import Follower
from node.sync.store import Store

__all__ = ["Runtime", "open_backend", "open_runtime"]


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


@contextmanager
def open_backend(settings: Settings) -> Iterator[ChainBackend]:
    with ExitStack() as stack:
        backend: ChainBackend
        if settings.embedded:
            from node.chain.embedded import EmbeddedChain
            from wallet.strictjson import restore_recursion_limit

            restore_recursion_limit()  # importing py-evm raised it
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
    keystore: Keystore
    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.index_file)
        return self._store

    def follower(self) -> Follower:
        return Follower(self.backend, self.store, self.deployment, confirmations=self.settings.confirmations,
                        batch_blocks=self.settings.sync_batch, max_reorg_depth=self.settings.max_reorg_depth)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


@contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    deployment = Deployment.load(settings.network_file)
    with open_backend(settings) as backend:
        if backend.chain_id() != deployment.chain_id:
            raise ChainIdMismatch(f"the chain has id {backend.chain_id()} but this network was deployed on "
                                  f"chain {deployment.chain_id}")
        rt = Runtime(settings, backend, deployment, Ledger(backend, deployment),
                     Keystore(settings.keys_dir, settings.passphrase))
        try:
            yield rt
        finally:
            rt.close()
