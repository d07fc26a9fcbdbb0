"""Bounded resources for every HTTP request the node serves: body size, body and header read time, connections.

Two layers, because neither alone can do it all:

* :class:`BodyLimit`, pure ASGI around the whole app, refuses a request whose header fields add up to more than
  ``max_header_bytes`` (431: h11 bounds only headers that arrive in pieces), and reads each request body before
  the app sees it: a declared
  ``Content-Length`` over ``max_body`` is answered 413 at once, unread; a streamed (chunked) body is counted as it
  arrives and refused at the first byte over the limit, so a 300 MB upload costs 64 KiB of memory, not 300 MB; a
  body that stops arriving (a request declaring 65,536 bytes and sending 10) is answered 408 after
  ``body_timeout`` seconds without data. Answers are RFC 9457 problem bodies (:func:`node.api.errors.problem`, the
  app's one builder, with the status of its table) with ``Connection: close``. The app
  then gets the body in one message (the routes read it whole anyway).
* :func:`guarded_protocol`, a subclass of uvicorn's h11 protocol, closes a connection whose request line and
  headers are not complete within ``header_timeout`` seconds of the connection opening or of the previous
  response (slowloris: 200 sockets trickling headers were held forever). Uvicorn's ``limit_concurrency`` bounds
  connections plus requests in flight (a 503 past it), and ``h11_max_incomplete_event_size`` bounds the header
  bytes (a 400 past it).

:func:`server_config` builds the uvicorn configuration with all of it; ``eidln node serve`` and the tests use it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from node.api.errors import PROBLEM, ApiError, problem

__all__ = ["RequestLimits", "BodyLimit", "guarded_protocol", "server_config", "HEADER_TIMEOUT"]

HEADER_TIMEOUT = "request.header_timeout"  # the metric label of connections closed for slow headers (no answer)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RequestLimits:
    max_body: int = 64 * 1024  # bytes of one request body (every route)
    body_timeout: float = 10.0  # seconds without body data before a 408
    header_timeout: float = 10.0  # seconds to send the request line and headers before the connection is closed
    max_connections: int = 1024  # connections plus requests in flight; 503 beyond
    max_header_bytes: int = 16 * 1024  # request line plus headers
    keep_alive: int = 5  # seconds an idle keep-alive connection stays open


class BodyLimit:
    """ASGI middleware: see the module notice. ``on_refused(code)`` counts refusals (metrics)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], *, limits: RequestLimits,
                 on_refused: Callable[[str], None] | None = None) -> None:
        self.app = app
        self.limits = limits
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive)
        except ApiError as r:
            if self.on_refused is not None:
                self.on_refused(r.code)
            await _problem(send, r, scope.get("path", ""))
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, whenever it comes

        await self.app(scope, replay, send)

    async def _read(self, scope: Scope, receive: Receive) -> bytes:
        limit = self.limits.max_body
        headers = scope.get("headers", ())
        if sum(len(n) + len(v) + 4 for n, v in headers) > self.limits.max_header_bytes:
            raise ApiError(f"the header fields are over {self.limits.max_header_bytes} bytes",
                           code="request.headers_too_large")
        for name, value in headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    raise ApiError("Content-Length is not a number", code="request.bad_length") from None
                if declared > limit:
                    raise ApiError(f"the body is {declared} bytes, over the {limit}-byte limit",
                                   code="request.too_large")
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                message = await asyncio.wait_for(receive(), self.limits.body_timeout)
            except TimeoutError:
                raise ApiError(f"no body data for {self.limits.body_timeout:g} s",
                               code="request.body_timeout") from None
            if message["type"] == "http.disconnect":
                raise ApiError("the client left before sending its body", code="request.disconnected")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ApiError(f"the body is over the {limit}-byte limit", code="request.too_large")
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


async def _problem(send: Send, refused: ApiError, instance: str) -> None:
    status, problem_body = problem(refused, instance)
    body = json.dumps(problem_body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", PROBLEM.encode()),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def guarded_protocol(header_timeout: float, on_timeout: Callable[[], None] | None = None) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a header read timeout (see the module notice)."""

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            self._disarm()
            self._header_timer = self.loop.call_later(header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                if on_timeout is not None:
                    on_timeout()
                self.transport.close()  # no request yet, so there is nobody to answer: close

        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the request line and headers are in; the body has its own timeout

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()  # the next request's headers (or the idle keep-alive) are on the clock

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return GuardedH11Protocol


def server_config(app: Any, *, host: str, port: int, limits: RequestLimits = RequestLimits(),
                  on_refused: Callable[[str], None] | None = None, log_level: str = "warning") -> uvicorn.Config:
    """The uvicorn configuration for the node's app with every limit applied (see the module notice)."""
    def header_timeout() -> None:
        if on_refused is not None:
            on_refused(HEADER_TIMEOUT)

    return uvicorn.Config(BodyLimit(app, limits=limits, on_refused=on_refused), host=host, port=port,
                          log_level=log_level, http=guarded_protocol(limits.header_timeout, header_timeout),
                          limit_concurrency=limits.max_connections, timeout_keep_alive=limits.keep_alive,
                          h11_max_incomplete_event_size=limits.max_header_bytes, lifespan="off",
                          server_header=False)
