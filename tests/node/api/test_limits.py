"""Request limits on a real uvicorn server, configured as `eidln node serve` configures it (issue 9, items 1, 6–8):
bodies bounded while they stream, header and body read timeouts, header size, connections; deep JSON refused before
any parser recurses (the process does not die); lone surrogates refused with a 400, never a 500."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from node.api.limits import RequestLimits
from tests.serving import served

LIMITS = RequestLimits(max_body=64 * 1024, body_timeout=0.5, header_timeout=0.5, max_connections=4,
                       max_header_bytes=8 * 1024)


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"bytes": len(await request.body())})

    @app.get("/ok")
    def ok() -> dict[str, Any]:
        return {"ok": True}

    return app


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with served(_app(), LIMITS) as url:
        yield url


def _sock(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)  # 30 s: a failure bound, not a wait


def _answer(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def _one_response(s: socket.socket) -> bytes:
    """Read exactly one HTTP response (head and Content-Length body) from a keep-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def test_a_body_within_the_limit_reaches_the_app(base: str) -> None:
    r = httpx.post(base + "/echo", content=b"x" * (64 * 1024))
    assert r.status_code == 200 and r.json() == {"bytes": 64 * 1024}


def test_a_declared_body_over_the_limit_is_refused_unread(base: str) -> None:
    with _sock(base) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 300000000\r\n\r\n")  # and no body at all
        answer = _answer(s)
    assert answer.startswith(b"HTTP/1.1 413 ") and b'"code": "request.too_large"' in answer
    assert b"application/problem+json" in answer


def test_a_chunked_upload_is_refused_at_the_first_byte_over_the_limit(base: str) -> None:
    with _sock(base) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        # 65 KiB sent of a chunked body that never ends (no last chunk): the answer comes without the rest. (Sending
        # more than the server reads before it answers would let the kernel reset the connection over unread data.)
        for _ in range(65):
            s.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        answer = _answer(s)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_a_body_that_stops_arriving_gets_408(base: str) -> None:
    with _sock(base) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65536\r\n\r\n0123456789")
        answer = _answer(s)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"request.body_timeout" in answer


def test_slow_headers_are_closed(base: str) -> None:
    with _sock(base) as s:
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert _answer(s) == b""  # the server closed the connection: nothing to answer
    with _sock(base) as s:  # a silent connection too
        assert _answer(s) == b""


def test_slow_headers_after_a_keep_alive_request_are_closed(base: str) -> None:
    with _sock(base) as s:
        s.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _one_response(s).startswith(b"HTTP/1.1 200 ")
        s.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert _answer(s) == b""


def test_header_fields_over_the_limit_get_431(base: str) -> None:
    r = httpx.get(base + "/ok", headers={"x-filler": "a" * 10_000})
    assert r.status_code == 431 and r.json()["code"] == "request.headers_too_large"


def test_connections_are_bounded(base: str) -> None:
    idle = [_sock(base) for _ in range(LIMITS.max_connections)]
    try:
        with _sock(base) as s:  # one more connection: its request is refused, not queued forever
            s.sendall(b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert _answer(s).startswith(b"HTTP/1.1 503 ")
    finally:
        for s in idle:
            s.close()


@pytest.mark.slow
def test_deep_json_does_not_kill_the_process() -> None:
    """65,536 ``[`` after py-evm and py_ecc raised the recursion limit: a typed error, not SIGSEGV."""
    code = ("import sys, node.api.app, node.chain.embedded; from wallet import strictjson\n"
            "assert sys.getrecursionlimit() >= 12288\n"
            "try:\n    strictjson.loads(b'[' * 65536)\nexcept strictjson.JsonError as e:\n    print(e.code)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert done.stdout.strip() == "json.too_deep"
