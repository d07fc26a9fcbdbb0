"""``POST /v1/attest`` (the OSP's call-time attestation) and the audit queries, over HTTP.

Request (JSON; header names are matched case-insensitively, ``Identity`` may be one string or a list)::

    {"trunk": "acme-pbx",
     "headers": {"From": "\\"Acme\\" <sip:+12025550142@pbx.acme.example>;tag=1",
                 "P-Asserted-Identity": "<sip:+12025550142@pbx.acme.example>",
                 "To": "<sip:+13105550000@osp.example>", "Date": "Sat, 28 Nov 2026 19:00:00 GMT",
                 "Identity": ["<jws>;info=<did:eidln:…#key-1>;alg=EdDSA;ppt=eidln"]}}

Response 200: the decision (``attest``, ``mechanism``, ``reasons``, ``evidence``, ``origid``, and ``identity``: the
OSP's own SHAKEN Identity header for the outgoing INVITE). Any attestation level is a 200: a refused enterprise
PASSporT is a *reason*, not an HTTP error. HTTP errors are for requests that are not a call: 400 (bad JSON,
missing To, no calling number, a header that is not SIP), 413 (body over 64 KiB), 415 (not JSON) — RFC 9457
problem bodies with a ``code``; never a 500 for bad input.

``GET /v1/audit/{origid}`` gives one decision (404 if none); ``GET /v1/audit?orig=&since=&until=&attest=&limit=``
lists decisions newest first (traceback by calling number and time). ``GET /v1/audit/{origid}/bundle`` exports the
decision's traceback bundle (:mod:`node.attest.bundle`), built when asked (never on the call path) from the node's
index and signed with the STI key: the file ``eidln audit verify`` re-checks offline. 404 without a decision, an audit
log or an index; 409 ``audit.bundle_incomplete`` when the index no longer holds what the decision rests on.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from did_method.resolver import Resolver
from node.api import schemas
from node.api.errors import ApiError
from node.api.metrics import Metrics
from node.attest import (
    AttestationEngine,
    AuditLog,
    CallRequest,
    IndexReaders,
    SipInputError,
    build_bundle,
    bundle_bytes,
)
from node.sync.indexview import IndexView
from wallet import strictjson
from wallet.passport import PassportError, canonical_tn

__all__ = ["attest_router", "MAX_BODY"]

MAX_BODY = 64 * 1024
_HEADERS = {"from", "p-asserted-identity", "to", "date", "identity"}


def parse_attest_body(raw: bytes) -> CallRequest:
    """The JSON body as a :class:`CallRequest`; :class:`SipInputError` (``attest.bad_request`` / ``sip.*``)."""
    try:
        body = strictjson.loads(raw, max_bytes=MAX_BODY, max_depth=8)  # a call is 3 levels deep
    except strictjson.JsonError as exc:
        raise SipInputError(f"the body is not JSON: {exc.message[:120]}", code="attest.bad_request") from None
    if not isinstance(body, dict) or set(body) - {"trunk", "headers"}:
        raise SipInputError("the body must be {\"trunk\": …, \"headers\": {…}}", code="attest.bad_request")
    headers = body.get("headers")
    if not isinstance(body.get("trunk"), str) or not isinstance(headers, dict):
        raise SipInputError("trunk (a string) and headers (an object) are required", code="attest.bad_request")
    h: dict[str, Any] = {}
    for name, value in headers.items():
        key = name.lower()
        if key not in _HEADERS:
            raise SipInputError(f"header {name[:40]!r} is not one of From, P-Asserted-Identity, To, Date, Identity",
                                code="attest.bad_request")
        if key in h:
            raise SipInputError(f"header {name[:40]!r} given twice", code="attest.bad_request")
        h[key] = value
    identity = h.get("identity", [])
    identities = [identity] if isinstance(identity, str) else identity
    if not isinstance(identities, list) or not all(isinstance(i, str) for i in identities):
        raise SipInputError("Identity must be a string or a list of strings", code="attest.bad_request")
    for key in ("from", "p-asserted-identity", "to", "date"):
        if key in h and not isinstance(h[key], str):
            raise SipInputError(f"{key} must be a string", code="attest.bad_request")
    if "to" not in h:
        raise SipInputError("the To header is required", code="attest.bad_request")
    return CallRequest.from_sip(trunk=body["trunk"], from_=h.get("from"), pai=h.get("p-asserted-identity"),
                                to=h["to"], date=h.get("date"), identities=tuple(identities))


def attest_router(engine: AttestationEngine, *, audit: AuditLog | None = None, metrics: Metrics | None = None,
                  index: IndexView | None = None, resolver: Resolver | None = None,
                  certificates: Sequence[x509.Certificate] = ()) -> APIRouter:
    """The attestation and audit routes. ``index`` and ``resolver`` (the node's index view and DID resolver) enable
    the traceback bundles; ``certificates`` is the STI chain (leaf first) a bundle carries (``EIDLN_STI_CHAIN``)."""
    r = APIRouter()
    readers = IndexReaders(index, resolver) if index is not None and resolver is not None else None

    def _audit() -> AuditLog:
        if audit is None:
            raise ApiError("this node keeps no audit log", code="audit.disabled")
        return audit

    def _record(origid: str) -> dict[str, Any]:
        rec = _audit().by_origid(origid[:128])
        if rec is None:
            raise ApiError(f"no decision with origid {origid[:64]!r}", code="audit.not_found")
        return rec

    @r.post("/v1/attest", summary="Decide A / B / C for one call and sign the OSP's SHAKEN PASSporT",
            response_model=None, openapi_extra=schemas.ATTEST)
    async def attest(request: Request) -> JSONResponse:
        started = time.perf_counter()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError("send the call as application/json", code="attest.unsupported_media_type")
        raw = await request.body()
        if len(raw) > MAX_BODY:
            raise ApiError(f"the body is over {MAX_BODY} bytes", code="attest.too_large")
        try:
            req = parse_attest_body(raw)
        except SipInputError as exc:  # not a call: counted here, answered by the app's handler (node.api.errors)
            if metrics is not None:
                metrics.decision("none", exc.code, time.perf_counter() - started)
            raise
        decision = engine.attest(req)
        if metrics is not None:
            first = decision.reasons[0].code if decision.reasons else "none"
            metrics.decision(decision.attest, first, time.perf_counter() - started)
        return JSONResponse(decision.to_json())

    @r.get("/v1/audit/{origid}", summary="One attestation decision by the origid of its SHAKEN PASSporT")
    def by_origid(origid: str) -> JSONResponse:
        return JSONResponse(_record(origid))

    @r.get("/v1/audit/{origid}/bundle", summary="The traceback bundle of one decision, signed, verifiable offline",
           response_model=None, openapi_extra=schemas.AUDIT_BUNDLE)
    def bundle(origid: str) -> Response:
        if audit is None or readers is None or resolver is None:
            raise ApiError("this node keeps no audit log or no index to build bundles from", code="audit.disabled")
        rec = _record(origid)  # build_bundle's audit.bundle_incomplete (409) goes to the app's handler as raised
        signed = build_bundle(rec, credentials=readers.credential, resolve_at=readers.resolve_at,
                              signer=engine.signer, certificates=certificates, network=resolver.network,
                              chain_id=resolver.chain_id, now=int(engine.clock()))
        name = "".join(ch for ch in rec["origid"] if ch.isalnum() or ch == "-")[:64] or "decision"
        return Response(bundle_bytes(signed), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="audit-{name}.json"'})

    @r.get("/v1/audit", summary="Attestation decisions, newest first (traceback by number and time)")
    def query(orig: str | None = Query(None, max_length=32), since: float | None = None,
              until: float | None = None, attest: str | None = Query(None, pattern="^[ABC]$"),
              entity: str | None = Query(None, min_length=1, max_length=256),
              limit: int = Query(100, ge=1, le=1000)) -> JSONResponse:
        records = _audit()
        if orig is not None:
            try:
                orig = canonical_tn(orig, "orig")
            except PassportError:  # a bad query parameter of this route, not a PASSporT's claim
                raise ApiError("orig must be a telephone number", code="audit.bad_query") from None
        return JSONResponse(records.query(orig=orig, since=since, until=until, attest=attest, entity=entity,
                                         limit=limit))

    return r
