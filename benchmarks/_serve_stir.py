"""The app :mod:`benchmarks.http_load` runs under uvicorn: the ATIS-1000082 routes with a fresh test PKI.

``python -m uvicorn --factory benchmarks._serve_stir:app``. The SP chain is primed into the verifier's
certificate fetcher, so a verification costs the chain check and two ECDSA operations, not a network fetch (as
in production after the first call, where the chain is cached). ``/metrics`` is mounted too. Both apps are wrapped in
the node's request limits (:class:`node.api.limits.BodyLimit`), as ``eidln node serve`` serves them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from node.api.limits import BodyLimit, RequestLimits
from node.api.metrics import Metrics
from node.api.stir import add_stir
from node.shaken.pki import generate_test_pki
from node.shaken.sign import ShakenSigner
from wallet.keys import P256Key

__all__ = ["app", "X5U"]

X5U = "http://127.0.0.1:8444/sp-chain.pem"


def app() -> Any:
    from node.shaken.verify import StiVerifier
    from node.shaken.x5u import CertFetcher

    pki = generate_test_pki(spc="1234", now=datetime.now(UTC))
    fetcher = CertFetcher(allow_insecure=True)
    fetcher.prime(X5U, pki.pems["sp.pem"] + pki.pems["ca.pem"])
    verifier = StiVerifier(roots=[pki.root_cert], fetcher=fetcher)
    application = FastAPI(title="EIDLN STIR benchmark")
    add_stir(application, signer=ShakenSigner(P256Key(pki.sp_key), X5U), verifier=verifier, metrics=Metrics())
    return BodyLimit(application, limits=RequestLimits())


def attest_app() -> Any:
    """The demo network (:func:`node.demo.build_story`) with ``/v1/attest``, ``/v1/audit`` and the STIR routes.

    Writes what the load clients need to sign enterprise PASSporTs as the demo's call center to the JSON file
    named by ``EIDLN_BENCH_STATE`` (a throw-away demo key: benchmarks only).
    """
    import json
    import os
    import tempfile
    from pathlib import Path

    from node.api.attest import attest_router
    from node.demo import build_story
    from wallet.dids import signer_for
    from wallet.keys import Ed25519Key

    home = Path(tempfile.mkdtemp(prefix="eidln-bench-http-"))
    story = build_story(home)
    signer, kid = signer_for(story.wallets["callcenter"], story.did["callcenter"])
    assert isinstance(signer, Ed25519Key)
    state = {"seed": signer.seed.hex(), "kid": kid, "credential": story.delegation["id"], "trunk": "acme-trunk",
             "orig": "12025550142"}
    Path(os.environ["EIDLN_BENCH_STATE"]).write_text(json.dumps(state))
    from node.sync.service import SyncService

    def confirmed(at: float) -> None:  # the node's follower keeps confirming the copy current, as `node serve` does
        story.snapshot.refresh(confirmed_at=at)

    SyncService(lambda: story.follower, interval=1.0, on_confirmed=confirmed, clock=story.clock).start()
    metrics = Metrics()
    application = FastAPI(title="EIDLN attest benchmark")
    add_stir(application, signer=story.engine.signer, verifier=story.verifier, metrics=metrics)
    application.include_router(attest_router(story.engine, audit=story.audit, metrics=metrics))
    return BodyLimit(application, limits=RequestLimits())
