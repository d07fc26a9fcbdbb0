"""``GET /healthz`` (liveness) and ``GET /readyz`` (readiness) for orchestrators and load balancers.

* ``/healthz`` is 200 while the process can answer and its sync loop is alive; 503 if the loop died (restart me).
* ``/readyz`` is 200 only when the node can give **A** on ledger evidence: the follower is ``following``, the ledger
  copy was confirmed current within ``max_age`` seconds, and the audit log has nothing waiting to be written.
  Otherwise 503 with an RFC 9457 problem body whose ``reasons`` say which (``sync.retrying``, ``sync.refused``,
  ``ledger.stale``, ``audit.pending``) and whose ``sync`` member is the follower's health (last error code and
  message, head, synced block, lag, age). A node that is not ready still answers ``/v1/attest``, with **B** for
  ledger evidence: not ready means "do not count on A here", not "send no calls".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from node.api.errors import ApiError
from node.attest.audit import AuditLog
from node.sync.service import SyncService

__all__ = ["health_router"]


def readiness(sync: SyncService, audit: AuditLog | None, *, max_age: float, now: float) -> tuple[bool, dict[str, Any]]:
    """(ready, body) as ``/readyz`` answers (see the module notice)."""
    h = sync.health
    reasons = []
    if h.state != "following":
        reasons.append(f"sync.{h.state}")
    age = h.age(now)
    if age is None or age > max_age:
        reasons.append("ledger.stale")
    if audit is not None and audit.pending:
        reasons.append("audit.pending")
    body: dict[str, Any] = {"ready": not reasons, "reasons": reasons, "maxAgeSeconds": max_age,
                            "sync": h.to_json(now)}
    if audit is not None:
        body["audit"] = {"pending": audit.pending, "failedWrites": audit.failed, "dropped": audit.dropped}
    return not reasons, body


def health_router(sync: SyncService, *, audit: AuditLog | None = None, max_age: float = 15.0,
                  clock: Callable[[], float] = time.time) -> APIRouter:
    r = APIRouter()

    @r.get("/healthz", summary="Liveness: the process answers and its sync loop runs")
    def healthz() -> JSONResponse:
        if not sync.alive:
            raise ApiError("the sync loop has stopped", code="sync.dead")
        return JSONResponse({"status": "ok"})

    @r.get("/readyz", summary="Readiness: the ledger copy is current and the audit log keeps up")
    def readyz() -> JSONResponse:
        ready, body = readiness(sync, audit, max_age=max_age, now=clock())
        if ready:
            return JSONResponse({"status": "ready", **body})
        detail = "; ".join(body["reasons"])
        if sync.health.code:
            detail += f" ({sync.health.code}: {sync.health.message})"
        raise ApiError(detail, code="node.not_ready", members=body)

    return r
