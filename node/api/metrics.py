"""Prometheus metrics of the node's STIR/SHAKEN services, and ``GET /metrics`` in the text exposition format.

Decisions:

* Every :class:`Metrics` owns a private :class:`prometheus_client.CollectorRegistry`, never the process-global
  one: two apps in one process (tests, a benchmark launcher) do not collide, and ``/metrics`` shows exactly
  this app's figures (no process/GC collectors).
* Labels are closed, small sets: ``attest`` (A/B/C/none), ``reason`` (the decision's code), ``result``
  (``ok`` / the service-exception messageId), ``verstat`` (three values) and ``reasoncode`` (SIP codes, or
  ``none``). No label carries a telephone number, an origid or a URL.
* ``eidln_request_seconds`` buckets run from 0.1 ms to 1 s: a signing is ~0.2 ms of ECDSA, a verification with
  a cached certificate ~1 ms, and anything near a second is an outage, not a tail.
* Live state (the follower's health, the ledger copy's age, the audit writer's counters) is read when scraped, from
  the objects themselves (:meth:`Metrics.watch_sync`, :meth:`Metrics.watch_audit`): no thread copies it around.
  An outage is visible here: ``eidln_sync_up`` 0, ``eidln_ledger_age_seconds`` growing, ``eidln_sync_state`` naming
  ``retrying`` or ``refused``, ``eidln_audit_pending_rows`` above 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from node.attest.audit import AuditLog
    from node.sync.service import SyncService

__all__ = ["Metrics", "BUCKETS"]

BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """The counters and histograms; one instance per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.attest_decisions = Counter(
            "eidln_attest_decisions", "Attestation decisions of /v1/attest, by level and reason",
            ("attest", "reason"), registry=self.registry)
        self.signing = Counter("eidln_stir_signing", "ATIS-1000082 signing requests, by result",
                               ("result",), registry=self.registry)
        self.verification = Counter("eidln_stir_verification", "ATIS-1000082 verifications, by verstat and reason",
                                    ("verstat", "reasoncode"), registry=self.registry)
        self.request_seconds = Histogram("eidln_request_seconds", "Time spent answering a request, by route",
                                         ("route",), buckets=BUCKETS, registry=self.registry)
        self.http_refused = Counter("eidln_http_refused", "Requests refused by the request limits, by reason "
                                    "(request.too_large, request.body_timeout, request.header_timeout, ...)",
                                    ("reason",), registry=self.registry)

    def refused(self, code: str) -> None:
        """One request refused by :mod:`node.api.limits` (its problem code)."""
        self.http_refused.labels(reason=code).inc()

    def watch_sync(self, service: SyncService, clock: Callable[[], float] = time.time) -> None:
        """Export the follower's health and the ledger copy's age, read at scrape time."""
        self.registry.register(_SyncCollector(service, clock))

    def watch_audit(self, audit: AuditLog) -> None:
        """Export the audit writer's counters, read at scrape time."""
        self.registry.register(_AuditCollector(audit))

    def decision(self, attest: str, reason: str, seconds: float) -> None:
        """One ``/v1/attest`` decision: level A/B/C (or ``none``), its reason code, the time it took."""
        self.attest_decisions.labels(attest=attest or "none", reason=reason).inc()
        self.request_seconds.labels(route="/v1/attest").observe(seconds)

    def signed(self, result: str, seconds: float) -> None:
        """One ``/stir/v1/signing`` answer: ``ok`` or the service exception's messageId."""
        self.signing.labels(result=result).inc()
        self.request_seconds.labels(route="/stir/v1/signing").observe(seconds)

    def verified(self, verstat: str, reasoncode: int | None, seconds: float) -> None:
        """One ``/stir/v1/verification`` answer; a service exception counts with its messageId as verstat."""
        self.verification.labels(verstat=verstat, reasoncode=str(reasoncode) if reasoncode else "none").inc()
        self.request_seconds.labels(route="/stir/v1/verification").observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)

    def router(self) -> APIRouter:
        r = APIRouter()

        @r.get("/metrics", summary="Prometheus metrics (text exposition format)", include_in_schema=False)
        def metrics() -> Response:
            return Response(self.render(), media_type=CONTENT_TYPE_LATEST)

        return r


class _SyncCollector(Collector):
    def __init__(self, service: SyncService, clock: Callable[[], float]) -> None:
        self.service, self.clock = service, clock

    def collect(self) -> Iterator[Metric]:
        from node.sync.service import STATES

        h = self.service.health
        age = h.age(self.clock())
        yield GaugeMetricFamily("eidln_sync_up", "1 while the follower follows the chain, 0 while it retries or "
                                "refuses", value=1.0 if h.state == "following" else 0.0)
        state = GaugeMetricFamily("eidln_sync_state", "The follower's state (1 for the current one)", labels=("state",))
        for name in STATES:
            state.add_metric((name,), 1.0 if h.state == name else 0.0)
        yield state
        for name, doc, value in (("eidln_sync_head_block", "The chain head the follower last saw", h.head),
                                 ("eidln_sync_synced_block", "The last block in the node's index", h.synced),
                                 ("eidln_sync_lag_blocks", "Confirmed blocks not yet in the index", h.lag)):
            yield GaugeMetricFamily(name, doc, value=math.nan if value is None else float(value))
        yield GaugeMetricFamily("eidln_ledger_age_seconds", "Seconds since the ledger copy was last confirmed current "
                                "(+Inf: never); the attestation path refuses ledger evidence past max_staleness",
                                value=math.inf if age is None else age)
        yield CounterMetricFamily("eidln_sync_failures", "Failed sync cycles (unreachable chain, refused chain, ...)",
                                  value=float(h.failures_total))


class _AuditCollector(Collector):
    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def collect(self) -> Iterator[Metric]:
        a = self.audit
        yield CounterMetricFamily("eidln_audit_written_rows", "Decisions committed to the audit log",
                                  value=float(a.written))
        yield CounterMetricFamily("eidln_audit_failed_writes", "Row writes the audit database refused (retried)",
                                  value=float(a.failed))
        yield GaugeMetricFamily("eidln_audit_pending_rows", "Decisions waiting to be written (the database refuses)",
                                value=float(a.pending))
        yield CounterMetricFamily("eidln_audit_dropped_rows", "Decisions given up (retry buffer full)",
                                  value=float(a.dropped))
        yield CounterMetricFamily("eidln_audit_malformed_rows", "Decisions stored with reason audit.row_failed",
                                  value=float(a.malformed))
