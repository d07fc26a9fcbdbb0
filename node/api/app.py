"""The node's HTTP API.

``GET /1.0/identifiers/{did}`` is the DIF Universal Resolver driver binding of W3C DID Resolution:

* ``Accept: application/did-resolution``, ``*/*`` or no Accept (and the legacy
  ``application/ld+json;profile="https://w3id.org/did-resolution"``) return the whole resolution result;
  ``application/did+ld+json``, ``application/did+json``, ``application/did``, ``application/json`` return
  the DID document alone; anything else is 406 (SPEC.md section 7).
* ``versionId`` / ``versionTime`` query parameters select a past version.
* Errors: 400 invalid DID / options, 404 not found, 406 representation not supported, 410 deactivated,
  501 method not supported — the status from the error, the body an RFC 9457 problem (inside the
  resolution result when one was asked for). Never a 500 for bad input.

Every error of every route becomes an answer in one place, :mod:`node.api.errors` (one exception handler for the
project's :class:`~contracts.errors.CodedError`, one problem builder).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cryptography import x509
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from did_method.errors import RepresentationNotSupported
from did_method.resolver import Resolver
from node.api import errors, schemas
from node.api.attest import attest_router
from node.api.ledger import IndexView, ledger_router
from node.api.metrics import Metrics
from node.api.stir import add_stir
from node.attest import AttestationEngine, AuditLog
from node.shaken.sign import ShakenSigner

if TYPE_CHECKING:
    from node.shaken.verify import StiVerifier
    from node.sync.service import SyncService

__all__ = ["create_app", "RESULT_TYPES", "DOCUMENT_TYPES"]

RESOLUTION = "application/did-resolution"
LEGACY_RESOLUTION = 'application/ld+json;profile="https://w3id.org/did-resolution"'
RESULT_TYPES = (RESOLUTION, LEGACY_RESOLUTION)
DOCUMENT_TYPES = ("application/did+ld+json", "application/did+json", "application/did", "application/json", "*/*")


def _negotiate(accept: str | None) -> str | None:
    """The media type to answer with, or None if nothing acceptable (q-values honoured, ties in order)."""
    if not accept or not accept.strip():
        return RESOLUTION
    offers: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        base, q, params = fields[0].lower(), 1.0, []
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
            elif f:
                params.append(f.replace(" ", ""))
        full = base + (";" + ";".join(params) if params else "")
        offers.append((q, -i, full))
    for q, _, media in sorted(offers, reverse=True):
        if q <= 0:
            continue
        if media == RESOLUTION or media.replace("'", '"') == LEGACY_RESOLUTION:
            return media if media == RESOLUTION else LEGACY_RESOLUTION
        if media == "*/*":
            return RESOLUTION
        if media in DOCUMENT_TYPES:
            return "application/did+ld+json" if media == "application/json" else media
    return None


def _add_components(app: FastAPI) -> None:
    """Put the shared schemas the hand-parsed routes refer to (``#/components/schemas/...``) into the spec."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        spec.setdefault("components", {}).setdefault("schemas", {}).update(schemas.COMPONENTS)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(resolver: Resolver, index: IndexView | None = None, *, signer: ShakenSigner | None = None,
               verifier: StiVerifier | None = None, metrics: Metrics | None = None,
               engine: AttestationEngine | None = None, audit: AuditLog | None = None,
               sync: SyncService | None = None, ready_max_age: float = 15.0,
               sti_chain: Sequence[x509.Certificate] = ()) -> FastAPI:
    """The node's app. ``signer`` / ``verifier`` add the ATIS-1000082 ``/stir/v1`` services, ``metrics``
    adds ``GET /metrics``, ``engine`` adds ``POST /v1/attest`` (and ``audit`` the ``/v1/audit`` queries),
    ``sync`` adds ``/healthz`` and ``/readyz`` (and the follower's gauges to ``/metrics``), ``sti_chain`` is the
    OSP's STI certificate chain the traceback bundles carry; without them the app is the resolver (and ledger views)
    alone. Serve it with :func:`node.api.limits.server_config`."""
    app = FastAPI(title="EIDLN node", version="0.1.0",
                  description="did:eidln resolution (DIF Universal Resolver driver), TN credential views, "
                              "call-time attestation and the ATIS-1000082 signing / verification services, "
                              "all from the node's ledger copy.")

    errors.install(app)

    if sync is not None:
        from node.api.health import health_router

        app.include_router(health_router(sync, audit=audit, max_age=ready_max_age))
        if metrics is not None:
            metrics.watch_sync(sync)
    if metrics is not None and audit is not None:
        metrics.watch_audit(audit)
    if index is not None:
        app.include_router(ledger_router(index))
    if signer is not None or verifier is not None or metrics is not None:
        add_stir(app, signer=signer, verifier=verifier, metrics=metrics)
    if engine is not None:
        app.include_router(attest_router(engine, audit=audit, metrics=metrics, index=index, resolver=resolver,
                                         certificates=sti_chain))
    _add_components(app)

    @app.get("/1.0/identifiers/{identifier:path}", summary="Resolve a did:eidln DID")
    def resolve(identifier: str, request: Request, versionId: str | None = None,  # noqa: N803 - spec names
                versionTime: str | None = None) -> Response:  # noqa: N803
        media = _negotiate(request.headers.get("accept"))
        if media is None:
            raise RepresentationNotSupported(f"cannot answer with {request.headers.get('accept')!r}; use one of "
                                             f"{', '.join(RESULT_TYPES + DOCUMENT_TYPES[:3])}")
        result = resolver.resolve(identifier, version_id=versionId, version_time=versionTime)
        if result.error is not None and media not in RESULT_TYPES:
            raise result.error  # resolution returns its error; the document alone was asked for: a problem
        if media in RESULT_TYPES:
            body = result.to_json()
            if result.error is not None:  # the problem (or, legacy, the keyword) inside the resolution result
                status, problem = errors.problem(result.error, request.url.path)
                body["didResolutionMetadata"] = dict(
                    result.did_resolution_metadata, error=result.error.code if media == LEGACY_RESOLUTION else problem)
                return JSONResponse(body, status_code=status, media_type=media)
            return JSONResponse(body, media_type=media)
        return JSONResponse(result.did_document, media_type=media)

    @app.get("/1.0/methods", summary="DID methods this driver resolves")
    def methods() -> list[str]:
        return ["eidln"]

    return app
