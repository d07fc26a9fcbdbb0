"""The node as ``eidln node serve`` runs it, built once from :class:`~node.settings.Settings`.

One place wires the parts (the CLI and the tests call :func:`build_node`):

* the **pipeline** (:mod:`node.sync.pipeline`): the sync service (:class:`~node.sync.service.SyncService`) wakes when
  the chain's head moves, the follower applies the new blocks to the index in one transaction and publishes the
  changes it made to the one :class:`~node.sync.indexview.IndexView` (a new TN index version) and to the OSP's ledger
  snapshot (a new state); the service retries an unreachable chain with backoff, refuses a replaced or rewound one,
  and after every cycle that reached the head marks the snapshot confirmed current;
* **one** :class:`~node.sync.indexview.IndexView` (the index read-only plus the TN index versions) shared by the
  REST ledger views and the OSP's ledger snapshot;
* the OSP services the settings enable (:func:`node.osp.build_services`);
* the app (:func:`node.api.create_app`) with ``/healthz``, ``/readyz`` and ``/metrics``, served by uvicorn with every
  request limit of :mod:`node.api.limits`.

The chain is not needed to start: a node whose chain is down serves from its index (ledger evidence gives **B**,
``/readyz`` says why) and connects when it can. The first sync cycle runs before the port opens, so a node whose
chain is up answers its first call from a current copy.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from did_method.resolver import Resolver
from node.api import create_app
from node.api.limits import RequestLimits, server_config
from node.chain.base import ChainBackend
from node.ledger.deployment import Deployment
from node.osp import OspServices, build_services
from node.runtime import open_backend
from node.settings import Settings
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.indexview import IndexView
from node.sync.pipeline import Pipeline
from node.sync.service import SyncService
from node.sync.store import Store
from wallet.keystore import Wallet
from wallet.strictjson import restore_recursion_limit

__all__ = ["NodeServer", "build_node"]


@dataclass
class NodeServer:
    settings: Settings
    deployment: Deployment
    store: Store  # the follower's (the only writer of the index)
    view: IndexView
    services: OspServices
    pipeline: Pipeline
    sync: SyncService
    app: Any
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _backend: ChainBackend | None = None

    @property
    def limits(self) -> RequestLimits:
        s = self.settings
        return RequestLimits(max_body=s.max_body, body_timeout=s.body_timeout, header_timeout=s.header_timeout,
                             max_connections=s.max_connections)

    def config(self) -> uvicorn.Config:
        s = self.settings
        return server_config(self.app, host=s.api_host, port=s.api_port, limits=self.limits,
                             on_refused=self.services.metrics.refused)

    def serve(self) -> None:
        """Sync once, start the sync loop, serve HTTP until interrupted (SIGINT / SIGTERM), then stop everything."""
        delay = self.sync.cycle()
        self.sync.start(first_delay=delay)
        restore_recursion_limit()  # after every import: parsers of input must not run with py_ecc's 100,000
        try:
            uvicorn.Server(self.config()).run()
        finally:
            self.close()

    def _connect(self) -> Follower:
        s = self.settings
        if self._backend is None:
            self._backend = self._stack.enter_context(open_backend(s))
        return self.pipeline.attach(Follower(self._backend, self.store, self.deployment, confirmations=s.confirmations,
                                             batch_blocks=s.sync_batch, max_reorg_depth=s.max_reorg_depth))

    def close(self) -> None:
        self.sync.stop()
        self.services.close()
        self._stack.close()
        self.view.db.close()
        self.store.close()


def build_node(s: Settings, *, wallet: Callable[[], Wallet], clock: Callable[[], float] = time.time) -> NodeServer:
    """Everything ``eidln node serve`` runs, from settings; nothing is started yet (see :meth:`NodeServer.serve`).
    ``wallet`` opens the node's wallet (the STI key, the status-list DID)."""
    deployment = Deployment.load(s.network_file)
    store = Store(s.index_file)  # creates the index (schema) on a fresh node, so the read-only views can open it
    issuer = None
    if s.status_did:
        from node.api.status import StatusIssuer
        from wallet import dids

        signer, vm = dids.signer_for(wallet(), s.status_did)
        issuer = StatusIssuer(s.status_did, vm, signer, s.public_url or f"http://{s.api_host}:{s.api_port}")
    view = IndexView(s.index_file, network=deployment.network, status_issuer=issuer, clock=clock)
    services = build_services(s, network=deployment.network, chain_id=deployment.chain_id, wallet=wallet,
                              clock=clock, view=view)
    snapshot = services.snapshot
    resolver = Resolver(IndexHistory(s.index_file), network=deployment.network, chain_id=deployment.chain_id)
    holder: list[NodeServer] = []
    pipeline = Pipeline(view, listeners=(snapshot.applied,) if snapshot is not None else (),
                        on_confirmed=(snapshot.confirm,) if snapshot is not None else ())
    sync = SyncService(lambda: holder[0]._connect(), interval=s.sync_interval, head_poll=s.head_poll, clock=clock,
                       on_confirmed=pipeline.confirmed)
    app = create_app(resolver, view, signer=services.signer, verifier=services.verifier, metrics=services.metrics,
                     engine=services.engine, audit=services.audit, sync=sync, ready_max_age=s.ready_max_age,
                     sti_chain=services.sti_chain)
    holder.append(NodeServer(s, deployment, store, view, services, pipeline, sync, app))
    return holder[0]
