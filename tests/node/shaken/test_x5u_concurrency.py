"""The x5u fetcher under concurrency: one download per URL however many callers wait for it, and a bound on the
downloads in flight that fails further fetches at once. A real local HTTP server holds each request until the
test releases it; the tests wait for states (requests arrived, callers entered), never for time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from node.shaken.errors import X5U_FETCH_FAILED, ShakenError
from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.x5u import CertFetcher

WAIT = 20.0  # an upper bound on waiting for a state, so a broken build fails instead of hanging


class GatedServer:
    """An HTTP server on 127.0.0.1 that accepts every request, reports its arrival, and answers only once
    :meth:`release` is called (``status`` and ``body`` then). Counts requests per path."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status = body, status
        self.requests: dict[str, int] = {}
        self.arrived = 0
        self.released = threading.Event()
        self._cond = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                with outer._cond:
                    outer.requests[self.path] = outer.requests.get(self.path, 0) + 1
                    outer.arrived += 1
                    outer._cond.notify_all()
                outer.released.wait(WAIT * 3)
                try:
                    self.send_response(outer.status)
                    self.send_header("Content-Length", str(len(outer.body)))
                    self.end_headers()
                    self.wfile.write(outer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_arrived(self, n: int) -> bool:
        """True once ``n`` requests have arrived (and wait for the release), False if that never happens."""
        with self._cond:
            return self._cond.wait_for(lambda: self.arrived >= n, timeout=WAIT)

    def release(self) -> None:
        self.released.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class EntryClock:
    """The fetcher's clock, which also tells the test which of its threads have entered ``fetch``."""

    def __init__(self) -> None:
        self.callers: set[str] = set()
        self._cond = threading.Condition()

    def __call__(self) -> float:
        with self._cond:
            self.callers.add(threading.current_thread().name)
            self._cond.notify_all()
        return datetime.now(UTC).timestamp()

    def wait_entered(self, names: set[str]) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: names <= self.callers, timeout=WAIT)


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="123A", now=datetime.now(UTC))


@pytest.fixture
def chain(pki: TestPKI) -> bytes:
    return pki.pems["sp.pem"] + pki.pems["ca.pem"]


@pytest.fixture
def gated(chain: bytes) -> Iterator[GatedServer]:
    srv = GatedServer(chain)
    yield srv
    srv.close()


def in_threads(calls: dict[str, Callable[[], object]]) -> dict[str, Future[object]]:
    """Run each call in a thread named after its key (the names the :class:`EntryClock` reports)."""
    futures: dict[str, Future[object]] = {}
    for name, call in calls.items():
        future: Future[object] = Future()

        def run(call: Callable[[], object] = call, future: Future[object] = future) -> None:
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the test through the future
                future.set_exception(exc)

        threading.Thread(target=run, name=name, daemon=True).start()
        futures[name] = future
    return futures


@pytest.mark.parametrize("status", [200, 404])
def test_concurrent_callers_share_one_download(pki: TestPKI, chain: bytes, status: int) -> None:
    """Five callers ask for the same uncached URL while its server holds the first request: one request is made,
    and all five get its outcome (the chain, or the same failure)."""
    srv = GatedServer(chain, status)
    clock = EntryClock()
    names = {f"caller-{i}" for i in range(5)}
    try:
        with CertFetcher(allow_insecure=True, clock=clock, timeout=WAIT * 2) as fetcher:
            url = srv.url("/sp.pem")
            results = in_threads({name: (lambda: fetcher.fetch(url)) for name in sorted(names)})
            assert srv.wait_arrived(1)
            assert clock.wait_entered(names)  # every caller is inside fetch while the download is held
            srv.release()
            for future in results.values():
                if status == 200:
                    assert future.result(timeout=WAIT) == (pki.sp_cert, pki.ca_cert)
                else:
                    with pytest.raises(ShakenError) as info:
                        future.result(timeout=WAIT)
                    assert info.value.code == X5U_FETCH_FAILED
            assert srv.requests == {"/sp.pem": 1}
            # A caller that entered fetch but looked the URL up only after the release found the cached outcome.
            lookups = fetcher.misses + fetcher.hits + fetcher.negative_hits
            assert lookups == 5 and fetcher.misses >= 1 and fetcher.failures == (0 if status == 200 else 1)
            if status == 200:
                hits = fetcher.hits
                assert fetcher.fetch(url) == (pki.sp_cert, pki.ca_cert) and fetcher.hits == hits + 1
            assert srv.requests == {"/sp.pem": 1}
    finally:
        srv.close()


def test_download_bound_fails_further_urls_at_once(gated: GatedServer, pki: TestPKI) -> None:
    """With ``max_fetches=2`` downloads held by the server, a third URL fails at once (the server never sees it),
    is not negatively cached, and is fetched normally once the bound frees up; the held URLs still complete."""
    with CertFetcher(allow_insecure=True, timeout=WAIT * 2, max_fetches=2) as fetcher, ThreadPoolExecutor(2) as pool:
        held = [pool.submit(fetcher.fetch, gated.url(path)) for path in ("/a.pem", "/b.pem")]
        assert gated.wait_arrived(2)
        with pytest.raises(ShakenError) as info:
            fetcher.fetch(gated.url("/c.pem"))
        assert info.value.code == X5U_FETCH_FAILED and "already in progress" in info.value.message
        assert fetcher.busy == 1 and "/c.pem" not in gated.requests
        assert not any(f.done() for f in held)
        gated.release()
        assert [f.result(timeout=WAIT) for f in held] == [(pki.sp_cert, pki.ca_cert)] * 2
        assert fetcher.fetch(gated.url("/c.pem")) == (pki.sp_cert, pki.ca_cert)  # not negatively cached
        assert gated.requests == {"/a.pem": 1, "/b.pem": 1, "/c.pem": 1} and fetcher.busy == 1


def test_bound_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CertFetcher(max_fetches=0)
