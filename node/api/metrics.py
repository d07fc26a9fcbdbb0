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
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

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
