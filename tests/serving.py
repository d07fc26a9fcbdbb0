"""Test helper: run an ASGI app under a real uvicorn server on a free local port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from node.api.limits import RequestLimits, server_config


@contextmanager
def served(app: Any, limits: RequestLimits | None = None) -> Iterator[str]:
    """The base URL of ``app`` served by uvicorn, configured as ``eidln node serve`` configures it (every request
    limit of :mod:`node.api.limits`), until the block ends."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, limits=limits or RequestLimits()))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        t.join(timeout=10)
