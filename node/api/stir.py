"""ATIS-1000082 SHAKEN REST API: ``POST /stir/v1/signing`` and ``POST /stir/v1/verification``.

Request and response shapes are those of ATIS-1000082 as the independent implementations agree on them
(Vermouth, VESPER, Oracle SBC, BulkVS; ``docs/compliance.md``)::

    {"signingRequest": {"attest", "dest": {"tn": [...]}, "iat", "orig": {"tn"}, "origid", "ppt"?}}
      -> {"signingResponse": {"identity": "<jws>;info=<x5u>;alg=ES256;ppt=shaken"}}
    {"verificationRequest": {"from": {"tn"}, "to": {"tn": [...] | "tn"}, "time", "identity"}}
      -> {"verificationResponse": {"verstat", "reasoncode"?, "reasontext"?, "reasondesc"?, "attest"?, "origid"?,
                                   "rcdStatus"?, "rcd"?, "rcdi"?, "crn"?, "rcdReason"?}}

Decisions:

* Errors on ``/stir/v1/*`` are ATIS/OMA service exceptions, never RFC 9457 problems:
  ``{"requestError": {"serviceException" | "policyException": {"messageId", "text", "variables"}}}``. The routes
  (and a catch-all ``/stir/v1/{rest}`` route) raise a :class:`~node.api.errors.ServiceException`, a coded error whose
  code is the ``messageId``; the app's one handler (:mod:`node.api.errors`, installed by :func:`add_stir`) answers it in
  that shape, so the rest of the app (RFC 9457 problems) is untouched. A bad value the SHAKEN layer refuses (a
  telephone number, a claim) is SVC4005 naming the parameter: the spec's mapping, not a rename of its code.
* Message ids have four digits (SVC4000-SVC4007, POL4050, POL5000). Vermouth writes some of them with five
  (``SVC40001``); its own ``SVC4000``/``SVC4003`` and the OMA numbering show those are typos.
* Checks run in HTTP order: path (404 SVC4003), method (405 POL4050), Accept (406 SVC4002), Content-Type
  (415 SVC4004, ``application/json`` with an optional ``charset=utf-8``), Content-Length (411 SVC4007), body
  size (more than :data:`MAX_BODY` bytes: 400 SVC4005 on ``Content-Length``; the spec's status set has no 413),
  empty body (400 SVC4000), JSON (400 SVC4006; duplicate keys, NaN/Infinity, non-UTF-8 and nesting deeper than
  :data:`MAX_DEPTH` included), then the parameters (400 SVC4001 missing, SVC4005 invalid, named by dotted path).
  Bodies are read with :func:`wallet.strictjson.loads` bounded to :data:`MAX_BODY` bytes and :data:`MAX_DEPTH`
  levels (the deepest request is 4), so 65,536 ``[`` are refused by a linear scan before the recursive decoder
  runs (it would overflow the C stack once py-evm has raised the recursion limit).
* Signing is strict (VESPER 4001-4025): exact types, no empty values, no unknown members in ``signingRequest``,
  ``orig`` or ``dest``, ``uri`` forms refused, ``ppt`` if present must be ``shaken``, and ``iat`` within
  :data:`IAT_WINDOW` seconds of the server clock (a PASSporT any verifier would call stale is not signed).
* Verification is liberal in what it ignores and strict in what it reads: unknown members (``requestId``,
  ``profileId`` of 3GPP-style clients) are ignored; ``to.tn`` may be a string or an array (clients differ);
  the identity must be a non-empty string with parameters (``;``) that parses (the verifier's
  ``vs.bad_identity``), else E2 (400 SVC4005). Everything else about the PASSporT is the verifier's verdict
  (E3-E19) in a 200 answer, which carries ``attest`` / ``origid`` only when the signature verified (the rule is
  :mod:`node.shaken.verify`'s: a failed verification never echoes a claim of the unverified token).
* Rich call data (RFC 9795) in the answer: when a passed verification's PASSporT carries ``rcd``, ``rcdi`` or
  ``crn``, ``rcdStatus`` says ``verified`` (and they are returned as signed, ``rcdi`` included so that the device
  that fetches ``icn`` can check it) or ``failed`` with ``rcdReason``, a ``passport.*`` code (and none of them is
  returned). ``verstat`` does not depend on it. Nothing is fetched (:mod:`node.shaken.verify`).
* **The event loop never waits for an x5u server.** The verifier is synchronous (the SIP side and the demo call
  it directly, and its CPU work is one ECDSA check) and may fetch the certificate (up to the fetcher's 2 s
  deadline), so the route runs it in a worker thread (``anyio.to_thread``) instead of making the fetch path
  async: one implementation, and the fetcher's own single flight and bound (:mod:`node.shaken.x5u`) apply to
  every caller. Those threads come under a capacity limiter of their own (``verify_threads``, default
  :data:`VERIFY_THREADS`), so verifications stuck on slow x5u hosts queue among themselves (awaiting, not
  blocking) and never use up the thread pool that the app's synchronous routes share.
* An unexpected exception is 500 POL5000 and logged; bad input never reaches it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from node.api import errors, schemas
from node.api.errors import EXCEPTIONS, ServiceException
from node.api.metrics import Metrics
from node.shaken.errors import ShakenError
from node.shaken.sign import ShakenSigner
from wallet import strictjson
from wallet.passport import PassportError, canonical_tn
from wallet.passport.shaken import ATTEST_LEVELS, PPT

if TYPE_CHECKING:
    from node.shaken.verify import StiVerifier, Verification

__all__ = ["stir_router", "add_stir", "ServiceException", "MAX_BODY", "MAX_DEPTH", "IAT_WINDOW", "VERIFY_THREADS",
           "EXCEPTIONS"]

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_DEPTH = 16  # four times the deepest request ({"verificationRequest": {"to": {"tn": [...]}}})
VERIFY_THREADS = 16  # verifications running at once per router; more wait (asynchronously) for a thread
IAT_WINDOW = 60
JSON = "application/json"

SERVICES = ("signing", "verification")


def _missing(name: str) -> ServiceException:
    return ServiceException("SVC4001", name)


def _invalid(name: str, why: str) -> ServiceException:
    return ServiceException("SVC4005", name, why)


# ---------------------------------------------------------------------------------------------- HTTP layer


def _accepts_json(accept: str | None) -> bool:
    if accept is None or not accept.strip():
        return True
    for part in accept.split(","):
        fields = [f.strip().lower() for f in part.split(";")]
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q > 0 and fields[0] in (JSON, "application/*", "*/*"):
            return True
    return False


def _content_type_ok(ctype: str | None) -> bool:
    if ctype is None:
        return False
    base, *params = (p.strip().lower() for p in ctype.split(";"))
    return base == JSON and all(p.replace(" ", "") in ("charset=utf-8", "charset=\"utf-8\"") for p in params if p)


async def _json_body(request: Request, root: str) -> dict[str, Any]:
    """The request's ``root`` object, after the Accept / Content-Type / Content-Length / JSON checks."""
    accept = request.headers.get("accept")
    if not _accepts_json(accept):
        raise ServiceException("SVC4002", accept or "")
    if not _content_type_ok(request.headers.get("content-type")):
        raise ServiceException("SVC4004", JSON)
    length = request.headers.get("content-length")
    if length is None:
        raise ServiceException("SVC4007")
    if not length.isdigit():
        raise _invalid("Content-Length", "not a decimal number")
    if int(length) > MAX_BODY:
        raise _invalid("Content-Length", f"more than {MAX_BODY} bytes")
    raw = await request.body()
    if not raw.strip():
        raise ServiceException("SVC4000")
    try:
        doc = strictjson.loads(raw, max_bytes=MAX_BODY, max_depth=MAX_DEPTH)
    except strictjson.JsonError as exc:  # bad JSON, a duplicate key, NaN, lone surrogates, too deep, too large
        if exc.code == "json.not_utf8":
            raise ServiceException("SVC4006", "not UTF-8") from None
        if exc.code == "json.too_large":  # a body longer than its Content-Length said
            raise _invalid("Content-Length", f"more than {MAX_BODY} bytes") from None
        raise ServiceException("SVC4006", exc.message) from None
    if not isinstance(doc, dict):
        raise ServiceException("SVC4006", "the body is not a JSON object")
    if root not in doc:
        raise _missing(root)
    extra = sorted(set(doc) - {root})
    if extra:
        raise _invalid(extra[0], "unexpected member")
    if not isinstance(doc[root], dict):
        raise _invalid(root, "must be an object")
    return doc[root]


# ---------------------------------------------------------------------------------------------- parameters


def _string(obj: dict[str, Any], key: str, path: str) -> str:
    if key not in obj:
        raise _missing(path)
    value = obj[key]
    if not isinstance(value, str):
        raise _invalid(path, "must be a string")
    if not value.strip():
        raise _invalid(path, "must not be empty")
    return value


def _positive_int(obj: dict[str, Any], key: str, path: str) -> int:
    if key not in obj:
        raise _missing(path)
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(path, "must be an integer (seconds since the epoch)")
    if value <= 0:
        raise _invalid(path, "must be positive")
    return value


def _tn(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _invalid(path, "must be a string")
    if not value.strip():
        raise _invalid(path, "must not be empty")
    try:
        return canonical_tn(value, path)
    except PassportError as exc:
        raise _invalid(path, exc.message) from None


def _party(req: dict[str, Any], key: str, *, many: bool, strict: bool, array_only: bool = False) -> list[str]:
    """``{"tn": "..."}`` or ``{"tn": [...]}``: the canonical numbers. ``uri`` forms are not supported."""
    if key not in req:
        raise _missing(key)
    obj = req[key]
    if not isinstance(obj, dict):
        raise _invalid(key, "must be an object")
    if not obj:
        raise _missing(f"{key}.tn")
    if "uri" in obj:
        raise _invalid(f"{key}.uri", "uri forms are not supported (tn only)")
    if strict and set(obj) != {"tn"}:
        raise _invalid(key, f"unexpected member {sorted(set(obj) - {'tn'})[0]!r}")
    if "tn" not in obj:
        raise _missing(f"{key}.tn")
    tn = obj["tn"]
    path = f"{key}.tn"
    if not many:
        return [_tn(tn, path)]
    if isinstance(tn, str) and not array_only:
        return [_tn(tn, path)]
    if not isinstance(tn, list):
        raise _invalid(path, "must be an array of strings")
    if not tn:
        raise _invalid(path, "must not be an empty array")
    return [_tn(v, f"{path}[{i}]") for i, v in enumerate(tn)]


_SIGNING_MEMBERS = frozenset({"attest", "dest", "iat", "orig", "origid", "ppt"})


def _sign(signer: ShakenSigner, req: dict[str, Any], now: float) -> str:
    unknown = sorted(set(req) - _SIGNING_MEMBERS)
    if unknown:
        raise _invalid(unknown[0], "unexpected member of signingRequest")
    for name in ("attest", "dest", "iat", "orig", "origid"):
        if name not in req:
            raise _missing(name)
    attest = _string(req, "attest", "attest")
    if attest not in ATTEST_LEVELS:
        raise _invalid("attest", "must be A, B or C")
    iat = _positive_int(req, "iat", "iat")
    if abs(iat - now) > IAT_WINDOW:
        raise _invalid("iat", f"more than {IAT_WINDOW} s from the server clock")
    origid = _string(req, "origid", "origid")
    if len(origid) > 128:
        raise _invalid("origid", "longer than 128 characters")
    if "ppt" in req and req["ppt"] != PPT:
        raise _invalid("ppt", "only 'shaken' is signed here")
    (orig,) = _party(req, "orig", many=False, strict=True)
    dest = _party(req, "dest", many=True, strict=True, array_only=True)
    try:
        return signer.identity(attest=attest, orig=orig, dest=dest, iat=iat, origid=origid)
    except ShakenError as exc:  # everything is checked above; kept as a 400, never a 500
        raise _invalid("signingRequest", exc.message) from None


def _verification(verifier: StiVerifier, req: dict[str, Any]) -> Callable[[], Verification]:
    """The verifier's call for ``req`` (checked here, on the event loop; run later in a worker thread)."""
    for name in ("from", "to", "time", "identity"):  # E1, in Vermouth's order
        if name not in req:
            raise _missing(name)
    (orig,) = _party(req, "from", many=False, strict=False)
    dest = _party(req, "to", many=True, strict=False)
    at = _positive_int(req, "time", "time")
    identity = _string(req, "identity", "identity")
    if ";" not in identity:
        raise _invalid("identity", "no header parameters (info, alg, ppt)")
    return functools.partial(verifier.verify, identity, orig=orig, dest=dest, time=at)


def _answer(verdict: Verification) -> dict[str, Any]:
    if verdict.code == "vs.bad_identity":  # E2: an unparsable header is a bad parameter, not a verdict
        raise _invalid("identity", verdict.reasondesc or "does not parse")
    return verdict.to_response()


# ---------------------------------------------------------------------------------------------- router


def stir_router(*, signer: ShakenSigner | None, verifier: StiVerifier | None, clock: Callable[[], float] = time.time,
                metrics: Metrics | None = None, verify_threads: int = VERIFY_THREADS) -> APIRouter:
    """The ``/stir/v1`` routes. A service given as ``None`` answers 404 SVC4003 (not offered here). At most
    ``verify_threads`` verifications run at once (in worker threads; see the module docstring)."""
    if verify_threads <= 0:
        raise ValueError("verify_threads must be positive")
    r = APIRouter(prefix="/stir/v1")
    limiter = anyio.CapacityLimiter(verify_threads)

    def _signed(result: str, started: float) -> None:
        if metrics is not None:
            metrics.signed(result, time.perf_counter() - started)

    def _verified(verstat: str, reasoncode: int | None, started: float) -> None:
        if metrics is not None:
            metrics.verified(verstat, reasoncode, time.perf_counter() - started)

    if signer is not None:
        @r.post("/signing", summary="ATIS-1000082 signing: a SHAKEN Identity header", response_model=None,
                openapi_extra=schemas.SIGNING)
        async def signing(request: Request) -> JSONResponse:
            started = time.perf_counter()
            try:
                req = await _json_body(request, "signingRequest")
                identity = _sign(signer, req, clock())
            except ServiceException as exc:  # counted here, answered by the app's handler
                _signed(exc.message_id, started)
                raise
            except Exception as exc:
                log.exception("signing failed")
                _signed("POL5000", started)
                raise ServiceException("POL5000") from exc
            _signed("ok", started)
            return JSONResponse({"signingResponse": {"identity": identity}})

    if verifier is not None:
        @r.post("/verification", summary="ATIS-1000082 verification: verstat of an Identity header",
                response_model=None, openapi_extra=schemas.VERIFICATION)
        async def verification(request: Request) -> JSONResponse:
            started = time.perf_counter()
            try:
                req = await _json_body(request, "verificationRequest")
                call = _verification(verifier, req)
                answer = _answer(await anyio.to_thread.run_sync(call, limiter=limiter))
            except ServiceException as exc:  # counted here, answered by the app's handler
                _verified(exc.message_id, None, started)
                raise
            except Exception as exc:
                log.exception("verification failed")
                _verified("POL5000", None, started)
                raise ServiceException("POL5000") from exc
            _verified(answer.get("verstat", ""), answer.get("reasoncode"), started)
            return JSONResponse({"verificationResponse": answer})

    offered = {name for name, svc in zip(SERVICES, (signer, verifier), strict=True) if svc is not None}

    @r.api_route("/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
                 include_in_schema=False)
    def other(rest: str) -> JSONResponse:
        """Unknown paths are SVC4003; a known service with another method is POL4050."""
        raise ServiceException("POL4050" if rest in offered else "SVC4003")

    return r


def add_stir(app: FastAPI, *, signer: ShakenSigner | None, verifier: StiVerifier | None,
             clock: Callable[[], float] = time.time, metrics: Metrics | None = None,
             verify_threads: int = VERIFY_THREADS) -> None:
    """Mount the ATIS-1000082 routes (and ``/metrics`` when ``metrics`` is given) on ``app``, with the error handler
    that answers their service exceptions (:func:`node.api.errors.install`)."""
    errors.install(app)
    app.include_router(stir_router(signer=signer, verifier=verifier, clock=clock, metrics=metrics,
                                   verify_threads=verify_threads))
    if metrics is not None:
        app.include_router(metrics.router())
