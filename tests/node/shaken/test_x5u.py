"""The x5u certificate fetcher against a real local HTTP server: cache headers, limits, failures, SSRF policy."""

from __future__ import annotations

import email.utils
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from node.shaken.errors import X5U_FETCH_FAILED, X5U_REFUSED, ShakenError
from node.shaken.pki import TestPKI, generate_test_pki
from node.shaken.x5u import CertFetcher, check_url, ttl_from_headers
from tests.node.shaken.test_x5u_concurrency import GatedServer

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class Clock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class CertServer:
    """A ThreadingHTTPServer on 127.0.0.1 serving ``routes``; counts requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: dict[str, int] = {}
        self.hosts: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                outer.requests[self.path] = outer.requests.get(self.path, 0) + 1
                outer.hosts.append(self.headers.get("Host", ""))
                route = outer.routes.get(self.path, Route(b"not found", 404))
                try:
                    self.send_response(route.status)
                    for name, value in route.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(route.body)))
                    self.end_headers()
                    self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def server() -> Iterator[CertServer]:
    srv = CertServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return generate_test_pki(spc="123A", now=NOW)


def chain_pem(pki: TestPKI) -> bytes:
    return pki.pems["sp.pem"] + pki.pems["ca.pem"]


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW.timestamp())


@pytest.fixture
def fetcher(clock: Clock) -> Iterator[CertFetcher]:
    with CertFetcher(allow_insecure=True, clock=clock, timeout=1.0) as f:
        yield f


def failure(fetcher: CertFetcher, url: str) -> str:
    with pytest.raises(ShakenError) as info:
        fetcher.fetch(url)
    return info.value.code


# -- fetching and caching ---------------------------------------------------------------------------------------


def test_fetch_parses_the_whole_chain_and_caches_max_age(
    server: CertServer, fetcher: CertFetcher, clock: Clock, pki: TestPKI
) -> None:
    server.routes["/sp.pem"] = Route(chain_pem(pki), headers={"Cache-Control": "public, max-age=600"})
    url = server.url("/sp.pem")
    chain = fetcher.fetch(url)
    assert chain == (pki.sp_cert, pki.ca_cert)
    assert server.hosts == [f"127.0.0.1:{server.server.server_address[1]}"]
    assert (fetcher.misses, fetcher.hits) == (1, 0)
    clock.now += 599
    assert fetcher.fetch(url) == chain
    assert (fetcher.misses, fetcher.hits, server.requests["/sp.pem"]) == (1, 1, 1)
    clock.now += 1  # expired: fetched again
    assert fetcher.fetch(url) == chain
    assert (fetcher.misses, fetcher.hits, server.requests["/sp.pem"]) == (2, 1, 2)
    assert fetcher.failures == 0 and len(fetcher) == 1


def test_s_maxage_wins_and_no_store_is_not_cached(
    server: CertServer, fetcher: CertFetcher, clock: Clock, pki: TestPKI
) -> None:
    server.routes["/s"] = Route(chain_pem(pki), headers={"Cache-Control": "max-age=5, s-maxage=100"})
    server.routes["/n"] = Route(chain_pem(pki), headers={"Cache-Control": "no-store"})
    server.routes["/c"] = Route(chain_pem(pki), headers={"Cache-Control": "no-cache"})
    for path in ("/s", "/n", "/c"):
        fetcher.fetch(server.url(path))
    clock.now += 50
    for path in ("/s", "/n", "/c"):
        fetcher.fetch(server.url(path))
    assert server.requests == {"/s": 1, "/n": 2, "/c": 2}


def test_expires_and_default_ttl_capped_by_not_after(
    server: CertServer, fetcher: CertFetcher, clock: Clock, pki: TestPKI
) -> None:
    expires = email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=100), usegmt=True)
    server.routes["/e"] = Route(chain_pem(pki), headers={"Expires": expires})  # the server sends its own Date
    server.routes["/d"] = Route(chain_pem(pki))
    fetcher.fetch(server.url("/e"))
    fetcher.fetch(server.url("/d"))
    clock.now += 50
    fetcher.fetch(server.url("/e"))
    assert server.requests["/e"] == 1
    clock.now += 100
    fetcher.fetch(server.url("/e"))
    assert server.requests["/e"] == 2  # about 100 s from Date to Expires
    clock.now += 3400
    fetcher.fetch(server.url("/d"))
    assert server.requests["/d"] == 1  # default 1 h
    clock.now = pki.sp_cert.not_valid_after_utc.timestamp() - 10  # max-age far beyond the leaf's notAfter
    server.routes["/long"] = Route(chain_pem(pki), headers={"Cache-Control": "max-age=86400"})
    fetcher.fetch(server.url("/long"))
    clock.now += 10
    fetcher.fetch(server.url("/long"))
    assert server.requests["/long"] == 2


def test_ttl_from_headers_edge_cases() -> None:
    assert ttl_from_headers(httpx.Headers({"Cache-Control": "max-age=abc"}), 0, 3600) == 0
    assert ttl_from_headers(httpx.Headers({"Expires": "0"}), 0, 3600) == 0
    assert ttl_from_headers(httpx.Headers({"Cache-Control": 'max-age="30"'}), 0, 3600) == 30
    assert ttl_from_headers(httpx.Headers({"Cache-Control": "private"}), 0, 3600) == 3600
    two_dates = httpx.Headers([("Date", "Sat, 01 Jan 2000 00:00:00 GMT"), ("Date", "x"),
                               ("Expires", "Sat, 01 Jan 2000 00:00:20 GMT")])
    assert ttl_from_headers(two_dates, 946684800.0, 3600) == 20  # ambiguous Date: relative to now


def test_failures_are_negatively_cached(server: CertServer, fetcher: CertFetcher, clock: Clock) -> None:
    url = server.url("/missing.pem")
    assert failure(fetcher, url) == X5U_FETCH_FAILED
    assert failure(fetcher, url) == X5U_FETCH_FAILED
    assert server.requests["/missing.pem"] == 1 and fetcher.failures == 1 and fetcher.negative_hits == 1
    clock.now += 30
    assert failure(fetcher, url) == X5U_FETCH_FAILED
    assert server.requests["/missing.pem"] == 2 and fetcher.failures == 2


def test_lru_bound(server: CertServer, clock: Clock, pki: TestPKI) -> None:
    server.routes.update({f"/{i}": Route(chain_pem(pki)) for i in range(3)})
    with CertFetcher(allow_insecure=True, clock=clock, max_entries=2) as f:
        for path in ("/0", "/1", "/0", "/2", "/0", "/1"):
            f.fetch(server.url(path))
        assert len(f) == 2
    assert server.requests == {"/0": 1, "/1": 2, "/2": 1}


def test_prime_needs_no_network(fetcher: CertFetcher, pki: TestPKI) -> None:
    url = "https://certs.example.test/sp.pem"
    assert fetcher.prime(url, chain_pem(pki)) == (pki.sp_cert, pki.ca_cert)
    assert fetcher.fetch(url) == (pki.sp_cert, pki.ca_cert) and fetcher.hits == 1
    with pytest.raises(ShakenError) as info:
        fetcher.prime(url, b"hello")
    assert info.value.code == X5U_FETCH_FAILED


# -- failures -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [
    Route(b"x" * 20000),  # oversize (refused on Content-Length)
    Route(b"hello world"),  # not PEM
    Route(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),  # PEM that does not parse
    Route(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n"),
    Route(b"", 404),
    Route(b"", 500),
    Route(b"", 302, {"Location": "http://127.0.0.1:1/elsewhere"}),
    Route(b"", 200, {"Content-Encoding": "gzip"}),
], ids=["oversize", "not-pem", "bad-pem", "pem-key", "404", "500", "redirect", "gzip"])
def test_bad_responses_fail(server: CertServer, fetcher: CertFetcher, route: Route) -> None:
    server.routes["/x"] = route
    assert failure(fetcher, server.url("/x")) == X5U_FETCH_FAILED


def test_oversize_body_without_length_is_cut(server: CertServer, fetcher: CertFetcher, pki: TestPKI) -> None:
    """Content-Length lies (small); the body read is still bounded by max_bytes."""
    with CertFetcher(allow_insecure=True, max_bytes=100) as small:
        server.routes["/big"] = Route(chain_pem(pki))
        assert failure(small, server.url("/big")) == X5U_FETCH_FAILED


def test_timeout_is_a_hard_deadline(pki: TestPKI) -> None:
    """The caller gives up at its deadline while the server still holds the request (it is never released
    before the fetch has failed): a state, not a stopwatch."""
    held = GatedServer(chain_pem(pki))
    try:
        with CertFetcher(allow_insecure=True, timeout=0.2) as f:
            assert failure(f, held.url("/slow")) == X5U_FETCH_FAILED
            assert held.wait_arrived(1) and not held.released.is_set()
    finally:
        held.close()


def test_connection_refused_and_unresolvable(fetcher: CertFetcher) -> None:
    assert failure(fetcher, "http://127.0.0.1:1/sp.pem") == X5U_FETCH_FAILED
    assert failure(fetcher, "http://no-such-host.invalid/sp.pem") == X5U_FETCH_FAILED


# -- the SSRF policy (production mode) ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://certs.example.com/sp.pem",  # http scheme
    "https://127.0.0.1/sp.pem",
    "https://10.1.2.3/sp.pem",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/sp.pem",
    "https://[::ffff:127.0.0.1]/sp.pem",
    "https://192.168.1.1:8443/sp.pem",
    "https://100.64.0.1/sp.pem",
    "https://224.0.0.1/sp.pem",
    "https://0.0.0.0/sp.pem",
    "https://user:pw@certs.example.com/sp.pem",
    "https://certs.example.com/sp.pem?x=1",
    "https://certs.example.com/sp.pem#frag",
    "https://certs.example.com:8080/sp.pem",
    "https://certs.example.com:99999/sp.pem",
    "ftp://certs.example.com/sp.pem",
    "file:///etc/passwd",
    "https:///nohost",
    "https://certs.example.com/a b",
    "",
])
def test_production_refusals(url: str) -> None:
    with CertFetcher() as f:
        assert failure(f, url) == X5U_REFUSED
        assert f.failures == 1


def test_every_resolved_address_is_checked() -> None:
    """A name resolving to one public and one private address is refused (DNS rebinding / split answers)."""
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.5"]

    with CertFetcher(resolver=resolver) as f:
        assert failure(f, "https://certs.example.com:8443/sp.pem") == X5U_REFUSED


def test_production_accepts_public_https() -> None:
    for url in ("https://certs.example.com/sp.pem", "https://certs.example.com:443/x", "https://c.example.com:8443/"):
        assert check_url(url).scheme == "https"
    assert check_url("http://127.0.0.1:8080/cert.pem", allow_insecure=True).port == 8080
    with pytest.raises(ShakenError):
        check_url("http://u@127.0.0.1:8080/cert.pem", allow_insecure=True)


def test_closed_fetcher_fails_cleanly(pki: TestPKI) -> None:
    f = CertFetcher(allow_insecure=True)
    f.close()
    assert failure(f, "http://127.0.0.1:1/sp.pem") == X5U_FETCH_FAILED


def test_constructor_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        CertFetcher(timeout=0)


def test_expired_leaf_is_not_cached(server: CertServer, clock: Clock) -> None:
    old = generate_test_pki(spc="OLD1", now=NOW - timedelta(days=400))
    server.routes["/old"] = Route(chain_pem(old), headers={"Cache-Control": "max-age=600"})
    with CertFetcher(allow_insecure=True, clock=clock) as f:
        f.fetch(server.url("/old"))
        f.fetch(server.url("/old"))
    assert server.requests["/old"] == 2
