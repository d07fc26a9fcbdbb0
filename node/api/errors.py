"""The HTTP edge of the node's errors: the API's own error classes and the one translation of an error into an answer.

Every error the project raises on purpose is a :class:`contracts.errors.CodedError`. A route raises it (or lets it
through); the app's one exception handler for :class:`CodedError` (:func:`install`) answers with :func:`respond`:

* **RFC 9457 problem details** (``application/problem+json``), built by :func:`problem` and nothing else:
  ``{"type": "https://eidln.example/problems/<code>", "title": <code>, "status", "code", "detail", "instance"}``
  and the extension members an :class:`ApiError` carries (``/readyz`` adds its reasons). The status is
  :data:`HTTP_STATUS`'s for the code.
* **DID resolution errors** (:class:`did_method.errors.DidError`) keep the W3C DID Resolution problem ``type``, their
  ``title`` and their ``status`` (``http_status``: 400, 404, 406, 410, 500, 501); ``code`` is the DID Resolution
  keyword (``notFound``). The resolver route embeds the same object in a resolution result.
* **ATIS-1000082 service and policy exceptions** (:class:`ServiceException`, the ``/stir/v1`` routes) are answered in
  the shape that spec requires, ``{"requestError": {"serviceException" | "policyException": {"messageId", "text",
  "variables"}}}``, with the status of :data:`EXCEPTIONS` (and ``Allow: POST`` with POL4050).

A code keeps its name from where it is raised to the answer: nothing here renames one. A coded error whose code has
no status in :data:`HTTP_STATUS` is a defect of the table, answered 500 with its own code and logged. Outside the
error tree: a query or path parameter FastAPI refuses is ``request.bad_parameter`` (400, not FastAPI's 422), a path
no route takes is ``request.not_found`` (404) and a method the route does not take ``request.method_not_allowed``
(405, with ``Allow``), and any other exception is a defect, ``internal.error`` (500, logged with its trace; the body
carries no trace).
:mod:`node.api.limits`, which answers before the app runs, builds its problems with :func:`problem` too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.errors import CodedError
from did_method.errors import DidError
from node.errors import NodeError

__all__ = ["PROBLEM", "PROBLEM_BASE", "HTTP_STATUS", "EXCEPTIONS", "ApiError", "ServiceException", "problem",
           "respond", "install"]

log = logging.getLogger("eidln.api")

PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://eidln.example/problems/"
_MAX_DETAIL = 500
_MAX_INSTANCE = 200

# code -> HTTP status, for every code that reaches the edge as an RFC 9457 problem (docs/errors.md lists them).
HTTP_STATUS: dict[str, int] = {
    # any route (node.api.limits answers the request.* codes but request.bad_parameter before the app runs)
    "request.bad_parameter": 400,
    "request.bad_length": 400,
    "request.disconnected": 400,
    "request.body_timeout": 408,
    "request.too_large": 413,
    "request.headers_too_large": 431,
    "request.not_found": 404,
    "request.method_not_allowed": 405,
    "internal.error": 500,
    # POST /v1/attest: a request that is not a call (node.attest.sip.SipInputError and the body checks)
    "attest.bad_request": 400,
    "attest.too_large": 413,
    "attest.unsupported_media_type": 415,
    "sip.bad_trunk": 400,
    "sip.no_orig": 400,
    "sip.bad_uri": 400,
    "sip.bad_date": 400,
    "sip.bad_header": 400,
    "sip.too_many_identities": 400,
    # /v1/audit
    "audit.bad_query": 400,
    "audit.disabled": 404,
    "audit.not_found": 404,
    "audit.bundle_incomplete": 409,
    # the index views (node.api.ledger)
    "credentials.bad_id": 400,
    "credentials.bad_query": 400,
    "numbers.bad_number": 400,
    "credentials.not_found": 404,
    "status.unknown_purpose": 404,
    "status.not_configured": 404,
    "credentials.rejected": 409,
    # node health (node.api.health)
    "sync.dead": 503,
    "node.not_ready": 503,
}

# ATIS-1000082 messageId -> (HTTP status, text); %1, %2 are filled from ``variables`` by the client.
EXCEPTIONS: dict[str, tuple[int, str]] = {
    "SVC4000": (400, "Error: Missing JSON body in the request."),
    "SVC4001": (400, "Error: Missing mandatory parameter '%1'."),
    "SVC4002": (406, "Error: Requested response body type '%1' is not supported."),
    "SVC4003": (404, "Error: Requested resource was not found."),
    "SVC4004": (415, "Error: Unsupported request body type, expected '%1'."),
    "SVC4005": (400, "Error: Invalid '%1' parameter value: %2."),
    "SVC4006": (400, "Error: Failed to parse received message body: '%1'."),
    "SVC4007": (411, "Error: Missing mandatory Content-Length header."),
    "POL4050": (405, "Error: Method Not Allowed: Invalid HTTP method used"),
    "POL5000": (500, "Error: Internal Server Issue"),
}


class ApiError(NodeError):
    """A request the API itself refuses (a media type, a missing audit log, an unknown status list). ``code`` is one
    of :data:`HTTP_STATUS`; ``members`` are extra members of the problem body (RFC 9457 §3.2 extensions)."""

    CODES = frozenset(HTTP_STATUS)

    def __init__(self, message: str, *, code: str, members: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code)
        self.members = dict(members or {})


class ServiceException(CodedError):
    """An ATIS-1000082 service (``SVC``) or policy (``POL``) exception; its code is the spec's ``messageId``."""

    CODES = frozenset(EXCEPTIONS)

    def __init__(self, message_id: str, *variables: str) -> None:
        if message_id not in EXCEPTIONS:
            raise ValueError(f"unknown ATIS-1000082 messageId {message_id!r}")
        self.message_id = message_id
        self.variables = [str(v)[:200] for v in variables]
        text = EXCEPTIONS[message_id][1]
        for i, value in enumerate(self.variables, 1):
            text = text.replace(f"%{i}", value)
        super().__init__(text, code=message_id)

    @property
    def status(self) -> int:
        return EXCEPTIONS[self.message_id][0]

    def body(self) -> dict[str, Any]:
        kind = "policyException" if self.message_id.startswith("POL") else "serviceException"
        return {"requestError": {kind: {"messageId": self.message_id, "text": EXCEPTIONS[self.message_id][1],
                                        "variables": self.variables}}}

    def response(self) -> JSONResponse:
        headers = {"Allow": "POST"} if self.message_id == "POL4050" else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def problem(exc: CodedError, instance: str) -> tuple[int, dict[str, Any]]:
    """(status, RFC 9457 body) of ``exc`` at ``instance`` (the request path): the API's one problem builder."""
    if isinstance(exc, DidError):
        status, kind, title = exc.http_status, exc.problem_type, exc.title
    else:
        status, kind, title = HTTP_STATUS.get(exc.code, 500), PROBLEM_BASE + exc.code, exc.code
    body: dict[str, Any] = {"type": kind, "title": title, "status": status, "code": exc.code,
                            "detail": exc.message[:_MAX_DETAIL], "instance": instance[:_MAX_INSTANCE]}
    if isinstance(exc, ApiError):
        body.update((k, v) for k, v in exc.members.items() if k not in body)
    return status, body


def respond(exc: CodedError, instance: str) -> JSONResponse:
    """The answer to ``exc`` (module notice): an ATIS exception, or a problem."""
    if isinstance(exc, ServiceException):
        return exc.response()
    status, body = problem(exc, instance)
    if status == 500 and exc.code not in HTTP_STATUS and not isinstance(exc, DidError):
        log.error("a coded error without an HTTP status reached %s: %s", instance[:_MAX_INSTANCE], exc)
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def _coded(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CodedError)
    return respond(exc, request.url.path)


async def _routing(request: Request, exc: Exception) -> JSONResponse:
    """The router's own refusals (no such route, a method the route does not take) as problems too, not FastAPI's
    ``{"detail": …}``: ``request.not_found`` (404) and ``request.method_not_allowed`` (405, with its ``Allow``)."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        answer = respond(ApiError(f"{request.method} is not allowed here", code="request.method_not_allowed"),
                         request.url.path)
        if exc.headers and "Allow" in exc.headers:
            answer.headers["Allow"] = exc.headers["Allow"]
        return answer
    if exc.status_code == 404:
        return respond(ApiError("no such resource on this node", code="request.not_found"), request.url.path)
    return JSONResponse({"type": "about:blank", "title": str(exc.detail)[:_MAX_DETAIL], "status": exc.status_code},
                        status_code=exc.status_code, media_type=PROBLEM, headers=exc.headers)


async def _bad_parameters(request: Request, exc: Exception) -> JSONResponse:
    """A query or path parameter FastAPI refuses: an RFC 9457 400, not FastAPI's 422 body."""
    assert isinstance(exc, RequestValidationError)
    where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors())
    return respond(ApiError(where, code="request.bad_parameter"), request.url.path)


async def _defect(request: Request, exc: Exception) -> JSONResponse:
    """A defect, not an input: logged with its trace; the client gets a problem body, never a trace."""
    log.error("unhandled error on %s", request.url.path[:_MAX_INSTANCE], exc_info=exc)
    return respond(ApiError("an internal error; see the node log", code="internal.error"), request.url.path)


def install(app: FastAPI) -> None:
    """Give ``app`` the handlers of the module notice (once; :func:`node.api.create_app` and
    :func:`node.api.stir.add_stir` call it)."""
    if CodedError in app.exception_handlers:
        return
    app.add_exception_handler(CodedError, _coded)
    app.add_exception_handler(StarletteHTTPException, _routing)
    app.add_exception_handler(RequestValidationError, _bad_parameters)
    app.add_exception_handler(Exception, _defect)
