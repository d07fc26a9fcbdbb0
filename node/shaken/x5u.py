"""Fetching the STI certificate chain named by a PASSporT's ``x5u`` / the Identity header's ``info`` URL.

Decisions (ATIS-1000074 §5.3.1 step 4, Asterisk ``res_stir_shaken`` defaults, research notes §2.2 and §5):

* **Bounded on the call path.** One fetch never blocks the caller longer than ``timeout`` (default 2 s): the
  download runs on a small worker pool and the caller stops waiting at the deadline. The worker itself gives up
  within about ``2 × timeout`` (httpx timeouts per phase plus a deadline checked between body chunks), so a
  slow server cannot pile up threads for long. Bodies over ``max_bytes`` (16 KiB) are refused while streaming.
* **Single flight per URL.** Callers asking for the same uncached URL wait on the one download already running
  (each for at most its own ``timeout``); the download, not its callers, records the outcome in the cache, so a
  caller that stopped waiting still leaves the result for the next one.
* **At most ``max_fetches`` downloads at once** (distinct URLs, default 8; the worker pool has exactly that many
  threads, so a started download never queues). A download counts until its worker ends, even after its callers
  stopped waiting. A fetch of another uncached URL while the bound is reached fails at once with
  ``shaken.x5u_fetch_failed`` and is *not* negatively cached (else a flood of slow URLs would poison good ones
  for ``negative_ttl``); the counter ``busy`` counts these. Tokens naming slow or dead hosts therefore cost a
  verifier at most ``max_fetches`` threads, never the process.
* **No redirects, no proxies, no content coding.** ``follow_redirects=False``, ``trust_env=False`` and
  ``Accept-Encoding: identity`` (a coded body is refused, so there are no decompression bombs).
* **PEM only.** The body must start (after whitespace) with ``-----BEGIN CERTIFICATE-----`` and hold one or
  more certificates: the leaf first, then intermediates (Asterisk PR #1274).
* **SSRF guard.** In production mode the URL must be ``https`` on port 443 or 8443; userinfo, query and fragment
  are refused in every mode. An IP-literal host is checked with the URL (:func:`check_url`); a name is resolved
  once and *every* resolved address must be public (:func:`check_address`), and the connection goes to the first
  checked address, with the original host name as ``Host`` and TLS SNI (and for certificate name checks), so DNS
  rebinding between check and connect is impossible. ``allow_insecure=True`` (tests, local demos) also allows
  ``http``, any port and any address.
* **Public means** (:func:`check_address`): an IPv4 address that is global and not multicast, reserved or
  unspecified; an IPv6 address outside every range the IANA special-purpose registry marks not globally reachable
  (the list is ours, :data:`_NOT_GLOBAL_V6`, on top of :mod:`ipaddress`, whose tables differ between Python
  releases). IPv6 forms that carry an IPv4 address are judged by it: IPv4-mapped ``::ffff:0:0/96``, the NAT64
  well-known prefix ``64:ff9b::/96`` (RFC 6052: never used for non-global IPv4, and what DNS64 answers on an
  IPv6-only node) and 6to4 ``2002::/16`` (the relay delivers to the embedded address) are allowed when the IPv4
  is public. Refused whatever they carry: Teredo ``2001::/32`` (inside the not-globally-reachable ``2001::/23``;
  a NAT-traversal client address is never a certificate repository; both the server and the de-obfuscated client
  IPv4 are named in the message), NAT64 local-use ``64:ff9b:1::/48`` (RFC 8215, not global), IPv4-compatible
  ``::/96`` (deprecated by RFC 4291) and IPv4-translated ``::ffff:0:0:0/96`` (RFC 2765, not routable).
* **Cache** keyed by the exact URL, LRU-bounded (``max_entries``), thread-safe, on an injected ``clock``. TTL
  from ``Cache-Control`` (``no-store``/``no-cache`` → not stored; ``s-maxage`` over ``max-age``), else
  ``Expires`` (relative to the response ``Date`` when present), else ``default_ttl`` (1 h); at most ``max_ttl``
  (24 h, Asterisk's ``max_cache_entry_age``) and never past the leaf's ``notAfter``. Failures are cached for
  ``negative_ttl`` (30 s) so a dead URL is not hammered on every call. :meth:`CertFetcher.prime` pre-loads PEM.
* Counters ``hits``, ``misses``, ``failures``, ``negative_hits`` and ``busy`` are plain attributes for metrics.

Every failure is a :class:`~node.shaken.errors.ShakenError`: ``shaken.x5u_refused`` (URL policy) or
``shaken.x5u_fetch_failed`` (DNS, connect, timeout, HTTP status, size, not PEM, too many downloads at once).
"""

from __future__ import annotations

import concurrent.futures
import email.utils
import ipaddress
import re
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx
from cryptography import x509

from .errors import X5U_FETCH_FAILED, X5U_REFUSED, ShakenError

__all__ = ["CertFetcher", "Chain", "check_address", "check_url", "parse_chain", "ttl_from_headers"]

Chain = tuple[x509.Certificate, ...]
PEM_PREFIX = b"-----BEGIN CERTIFICATE-----"
_PRODUCTION_PORTS = frozenset({443, 8443})
_Resolver = Callable[[str, int], Sequence[str]]


def _refused(message: str) -> ShakenError:
    return ShakenError(X5U_REFUSED, message)


def _failed(message: str) -> ShakenError:
    return ShakenError(X5U_FETCH_FAILED, message)


def check_url(url: str, *, allow_insecure: bool = False) -> SplitResult:
    """The URL policy without DNS (see the module docstring); the parsed URL, or ``shaken.x5u_refused``."""
    if not isinstance(url, str) or not url or len(url) > 2048 or not url.isascii() or any(c in url for c in " <>\"\\"):
        raise _refused("not a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refused("not a URL (bad port or host)") from None
    schemes = ("https", "http") if allow_insecure else ("https",)
    if parts.scheme not in schemes:
        raise _refused(f"scheme {parts.scheme!r} is not allowed (https only)")
    if "@" in parts.netloc:
        raise _refused("userinfo in the URL is not allowed")
    if "?" in url or "#" in url:
        raise _refused("query and fragment are not allowed")
    if not parts.hostname:
        raise _refused("no host")
    if not allow_insecure and port is not None and port not in _PRODUCTION_PORTS:
        raise _refused(f"port {port} is not allowed (443 or 8443)")
    if not allow_insecure and _is_ip_literal(parts.hostname):
        check_address(parts.hostname)
    return parts


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


_V6 = ipaddress.IPv6Network
_NAT64 = _V6("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 address is the last 32 bits
_IPV4_COMPATIBLE = _V6("::/96")
_IPV4_TRANSLATED = _V6("::ffff:0:0:0/96")
# IANA IPv6 special-purpose registry, "globally reachable: false" (NAT64 local-use 64:ff9b:1::/48 included), plus
# multicast and the deprecated site-local range; stated here because ipaddress's tables change between Python
# releases (3.11.7 calls fec0::/10 and 3fff::/20 global).
_NOT_GLOBAL_V6 = tuple(_V6(n) for n in (
    "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "100:0:0:1::/64", "2001::/23", "2001:db8::/32",
    "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
))  # 2001::/23 whole: its few globally reachable exceptions (AMT, AS112, ORCHIDv2) serve no certificates


def _public_v4(ip: ipaddress.IPv4Address) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _why_not_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``ip`` is not a public address (see the module docstring; ``""`` needs no more words), or ``None``."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None if _public_v4(ip) else ""
    carried: tuple[str, ipaddress.IPv4Address] | None = None
    if ip.ipv4_mapped is not None:
        carried = ("IPv4-mapped", ip.ipv4_mapped)
    elif ip in _NAT64:
        carried = ("NAT64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    elif ip.sixtofour is not None:
        carried = ("6to4", ip.sixtofour)
    if carried is not None:
        form, v4 = carried
        return None if _public_v4(v4) else f"{form} form of {v4}"
    if ip.teredo is not None:
        server, client = ip.teredo
        return f"Teredo, server {server}, client {client}"
    if ip in _IPV4_TRANSLATED:
        return f"IPv4-translated form of {ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)}"
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are named below
        return f"deprecated IPv4-compatible form of {ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)}"
    if any(ip in net for net in _NOT_GLOBAL_V6) or not ip.is_global or ip.is_reserved:
        return ""
    return None


def _non_public(address: str) -> str | None:
    """``address`` described for a refusal if it is not public (or not an IP address), else ``None``."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address[:64]!r}, not an IP address"
    why = _why_not_public(ip)
    if why is None:
        return None
    return f"{address[:64]}, {why}" if why else address[:64]


def check_address(address: str) -> None:
    """``shaken.x5u_refused`` unless ``address`` (an IP address; an IPv6 zone is ignored) is public. IPv6 forms
    that carry an IPv4 address are judged by it (see the module docstring)."""
    described = _non_public(address)
    if described is not None:
        raise _refused(f"non-public address ({described})")


def _system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _seconds(value: str) -> int | None:
    value = value.strip().strip('"')
    return int(value) if value.isdigit() else None


def _http_date(values: list[str]) -> float | None:
    """The one HTTP-date of a header (none, several or an unparsable one → ``None``)."""
    if len(values) != 1:
        return None
    try:
        return email.utils.parsedate_to_datetime(values[0]).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def ttl_from_headers(headers: httpx.Headers, now: float, default_ttl: int) -> int:
    """Seconds a response may be cached per RFC 9111 (see the module docstring); 0 means "do not store"."""
    directives: dict[str, str] = {}
    for item in ",".join(headers.get_list("cache-control")).split(","):
        name, _, value = item.strip().partition("=")
        if name:
            directives[name.lower()] = value
    if "no-store" in directives or "no-cache" in directives:
        return 0
    for name in ("s-maxage", "max-age"):
        if name in directives:
            seconds = _seconds(directives[name])
            return seconds if seconds is not None else 0
    if "expires" in headers:
        expires = _http_date(headers.get_list("expires"))
        if expires is None:
            return 0  # an invalid Expires means "already expired" (RFC 9111 §5.3)
        date = _http_date(headers.get_list("date"))
        return max(0, int(expires - (now if date is None else date)))
    return default_ttl


@dataclass(frozen=True)
class _Entry:
    expires: float
    chain: Chain | None
    error: ShakenError | None = None


class CertFetcher:
    """Fetches, checks and caches certificate chains by URL. Use as a context manager, or call :meth:`close`."""

    def __init__(
        self,
        *,
        allow_insecure: bool = False,
        timeout: float = 2.0,
        max_bytes: int = 16384,
        default_ttl: int = 3600,
        max_ttl: int = 86400,
        negative_ttl: int = 30,
        max_entries: int = 1024,
        clock: Callable[[], float] = time.time,
        resolver: _Resolver = _system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        max_fetches: int = 8,
    ) -> None:
        if timeout <= 0 or max_bytes <= 0 or max_entries <= 0 or max_fetches <= 0:
            raise ValueError("timeout, max_bytes, max_entries and max_fetches must be positive")
        self.allow_insecure = allow_insecure
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.negative_ttl = negative_ttl
        self.max_entries = max_entries
        self.max_fetches = max_fetches
        self.clock = clock
        self.hits = self.misses = self.failures = self.negative_hits = self.busy = 0
        self._resolver = resolver
        self._ssl = ssl_context if ssl_context is not None else ssl.create_default_context()
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._inflight: dict[str, concurrent.futures.Future[_Entry]] = {}
        self._closed = False
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max_fetches, thread_name_prefix="x5u")

    def __enter__(self) -> CertFetcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker pool (downloads still running finish on their own timeouts); later fetches of uncached
        URLs fail."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    # -- cache -----------------------------------------------------------------------------------------------

    def _store_locked(self, url: str, entry: _Entry) -> None:
        self._cache[url] = entry
        self._cache.move_to_end(url)
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)

    def _store(self, url: str, entry: _Entry) -> None:
        with self._lock:
            self._store_locked(url, entry)

    def _lookup(self, url: str, now: float) -> _Entry | None:
        with self._lock:
            entry = self._cache.get(url)
            if entry is None or now >= entry.expires:
                if entry is not None:
                    del self._cache[url]
                self.misses += 1
                return None
            self._cache.move_to_end(url)
            if entry.error is not None:
                self.negative_hits += 1
            else:
                self.hits += 1
            return entry

    def _expiry(self, chain: Chain, ttl: float, now: float) -> float:
        ttl = min(ttl, self.max_ttl)
        return min(now + ttl, chain[0].not_valid_after_utc.timestamp())

    def _failure(self, now: float, exc: ShakenError) -> _Entry:
        with self._lock:
            self.failures += 1
        return _Entry(now + self.negative_ttl, None, exc)

    def prime(self, url: str, pem: bytes, *, ttl: int | None = None) -> Chain:
        """Pre-load ``url`` with ``pem`` (policy-checked URL, parsed chain); cached ``ttl`` or ``max_ttl``."""
        check_url(url, allow_insecure=self.allow_insecure)
        chain = parse_chain(pem)
        now = self.clock()
        self._store(url, _Entry(self._expiry(chain, self.max_ttl if ttl is None else ttl, now), chain))
        return chain

    # -- fetch -----------------------------------------------------------------------------------------------

    def fetch(self, url: str) -> Chain:
        """The chain at ``url`` (leaf first), from the cache or the network; ``ShakenError`` on any failure."""
        now = self.clock()
        entry = self._lookup(url, now)
        if entry is None:
            try:
                parts = check_url(url, allow_insecure=self.allow_insecure)
            except ShakenError as exc:
                self._store(url, self._failure(now, exc))
                raise
            joined = self._join(url, parts, now)
            try:
                entry = joined if isinstance(joined, _Entry) else joined.result(timeout=self.timeout)
            except concurrent.futures.TimeoutError:
                raise _failed(f"no certificate within {self.timeout:g} s") from None
            except concurrent.futures.CancelledError:  # queued when the pool was closed
                raise _failed("the fetcher is closed") from None
        if entry.error is not None:  # a fresh exception per caller: one download may answer many threads
            raise ShakenError(entry.error.code, entry.error.message)
        assert entry.chain is not None
        return entry.chain

    def _join(self, url: str, parts: SplitResult, now: float) -> _Entry | concurrent.futures.Future[_Entry]:
        """The download of ``url`` in flight, or a new one if the bound allows; ``shaken.x5u_fetch_failed`` else.
        The outcome itself if a download ended since the caller's cache lookup (no second download)."""
        with self._lock:
            future = self._inflight.get(url)
            if future is not None:
                return future
            entry = self._cache.get(url)
            if entry is not None and now < entry.expires:
                return entry
            if self._closed:
                raise _failed("the fetcher is closed")
            if len(self._inflight) >= self.max_fetches:
                self.busy += 1
                raise _failed(f"{self.max_fetches} certificate downloads are already in progress")
            # Submitted under the lock: the worker removes its entry under the same lock, so never before it exists.
            future = self._pool.submit(self._fill, url, parts)
            self._inflight[url] = future
            return future

    def _fill(self, url: str, parts: SplitResult) -> _Entry:
        """Worker: download ``url``, cache the outcome (negatively on failure) and leave the in-flight table."""
        now = self.clock()
        entry: _Entry | None = None
        try:
            try:
                chain, ttl = self._download(parts)
                entry = _Entry(self._expiry(chain, ttl, now) if ttl > 0 else now, chain)
            except ShakenError as exc:
                entry = self._failure(now, exc)
            except (ValueError, TypeError, UnicodeError) as exc:  # e.g. an odd address from the resolver
                entry = self._failure(now, _failed(f"download failed: {exc.__class__.__name__}"))
            return entry
        finally:
            with self._lock:  # cache and in-flight table change together: no window for a second download
                if entry is not None and (entry.error is not None or entry.expires > now):
                    self._store_locked(url, entry)
                self._inflight.pop(url, None)

    def _address(self, host: str, port: int) -> str:
        try:
            addresses = list(self._resolver(host, port))
        except (OSError, UnicodeError) as exc:
            raise _failed(f"cannot resolve the host: {exc.__class__.__name__}") from None
        if not addresses:
            raise _failed("the host has no address")
        if not self.allow_insecure:
            for address in addresses:
                described = _non_public(address)
                if described is not None:
                    raise _refused(f"the host resolves to a non-public address ({described})")
        return addresses[0]

    def _download(self, parts: SplitResult) -> tuple[Chain, int]:
        deadline = time.monotonic() + self.timeout
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = self._address(host, port)
        literal = f"[{address}]" if ":" in address else address
        target = f"{parts.scheme}://{literal}:{port}{parts.path or '/'}"
        headers = {"Host": parts.netloc, "Accept": "application/pem-certificate-chain, */*",
                   "Accept-Encoding": "identity", "User-Agent": "eidln-sti-vs"}
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        try:
            with httpx.Client(timeout=httpx.Timeout(self.timeout), follow_redirects=False, trust_env=False,
                              verify=self._ssl) as client:
                with client.stream("GET", target, headers=headers, extensions=extensions) as response:
                    if response.status_code != 200:
                        raise _failed(f"HTTP {response.status_code}")
                    if response.headers.get("content-encoding", "identity").lower() != "identity":
                        raise _failed("content-encoded bodies are not accepted")
                    declared = response.headers.get("content-length", "0")
                    if declared.isdigit() and int(declared) > self.max_bytes:
                        raise _failed(f"body larger than {self.max_bytes} bytes")
                    body = bytearray()
                    for chunk in response.iter_raw():
                        body += chunk
                        if len(body) > self.max_bytes:
                            raise _failed(f"body larger than {self.max_bytes} bytes")
                        if time.monotonic() > deadline:
                            raise _failed("download exceeded the deadline")
                    ttl = ttl_from_headers(response.headers, self.clock(), self.default_ttl)
        except (httpx.HTTPError, OSError) as exc:  # connect, TLS, read errors and timeouts
            raise _failed(f"download failed: {exc.__class__.__name__}") from None
        return parse_chain(bytes(body)), ttl


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


def parse_chain(pem: bytes) -> Chain:
    """PEM certificates, leaf first; anything else (or another PEM block type) is ``shaken.x5u_fetch_failed``."""
    if not isinstance(pem, bytes | bytearray) or not bytes(pem).lstrip().startswith(PEM_PREFIX):
        raise _failed("the body is not a PEM certificate")
    if any(kind != b"CERTIFICATE" for kind in _PEM_BLOCK.findall(pem)):
        raise _failed("the body holds PEM blocks that are not certificates")
    try:
        chain = tuple(x509.load_pem_x509_certificates(bytes(pem)))
    except ValueError:
        raise _failed("the PEM certificates do not parse") from None
    if not chain:
        raise _failed("no certificate in the body")
    return chain
