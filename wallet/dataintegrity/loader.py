"""The offline JSON-LD document loader: a fixed table of context URLs, each served from a pinned local file.

Decisions:

* Nothing is ever fetched. A URL outside the table is a :class:`LoaderError` with code
  ``vc.context_not_allowed``; the Data Integrity spec accepts "a document loader ... to use only local copies
  of approved context files" in place of context validation.
* Each file is pinned by the SHA-256 of its **bytes**, checked the first time the URL is served (or for all
  URLs at once by :meth:`DocumentLoader.check_all`, for start-up). A mismatch is ``vc.context_digest_mismatch``;
  so is a file over 256 KiB (the largest pinned context is 10 KB) or one :func:`wallet.strictjson.loads` refuses.
  The W3C files are byte-exact copies of the published contexts (``/work/shared/contexts/SOURCES.md``); the
  copies bundled by PyLD and npm are JSON-equal but byte-different, so they are not used.
* Our own contexts, ``https://eidln.example/ns/tn/v1`` and ``.../v2`` (files ``contexts/eidln-tn-v1.jsonld`` and
  ``-v2.jsonld``), are published byte-identical under ``docs/contexts/``. A published context never changes: v2
  is v1 plus new terms (``role``, ``logoIntegrity``, the DID Auth evidence terms) and ``callReason`` as a set, and
  v1 stays pinned so that credentials anchored with it keep verifying. New credentials use v2
  (:data:`TN_CONTEXT_URL`). Every term is ``@protected`` and lives under ``https://eidln.example/ns/tn#``; neither
  has an ``@vocab``, so a misspelt term stays undefined and is refused. The rich call data terms follow RFC 9795:
  ``brandName`` is the display name (``nam``), ``logo`` the icon (``icn``) with its ``logoIntegrity`` (the
  ``rcdi`` digest), ``callReason`` the vetted call reasons (``crn``).
* Parsed documents are cached per loader, and the loader carries the cache PyLD's ``ContextResolver`` keeps
  processed contexts in (``resolved_contexts``; see :func:`wallet.dataintegrity.canon.jsonld_options`). That
  cache belongs to the loader, not to PyLD's module-global cache, so a context another loader resolved in the
  same process can never stand in for a pinned one. Results carry ``"tag": "static"``, which is what makes
  PyLD keep a remote context across operations. PyLD's caches are not thread-safe, so operations through one
  loader take turns on its ``pyld_lock``.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wallet import strictjson
from wallet.dataintegrity.errors import LoaderError

__all__ = [
    "CONTEXT_DIR",
    "CREDENTIALS_V2_URL",
    "CREDENTIALS_EXAMPLES_V2_URL",
    "DATA_INTEGRITY_V2_URL",
    "TN_CONTEXT_URL",
    "TN_CONTEXT_V1_URL",
    "CONTEXTS",
    "PinnedContext",
    "DocumentLoader",
    "document_loader",
]

CONTEXT_DIR = Path(__file__).resolve().parent / "contexts"

CREDENTIALS_V2_URL = "https://www.w3.org/ns/credentials/v2"
CREDENTIALS_EXAMPLES_V2_URL = "https://www.w3.org/ns/credentials/examples/v2"
DATA_INTEGRITY_V2_URL = "https://w3id.org/security/data-integrity/v2"
TN_CONTEXT_V1_URL = "https://eidln.example/ns/tn/v1"
TN_CONTEXT_URL = "https://eidln.example/ns/tn/v2"  # the current one: what new credentials use
_MAX_URL_IN_MESSAGE = 200
_MAX_CONTEXT_BYTES = 256 * 1024


@dataclass(frozen=True)
class PinnedContext:
    """A local file and the SHA-256 (hex) its bytes must have."""

    path: Path
    sha256: str


def _pin(name: str, digest: str) -> PinnedContext:
    return PinnedContext(CONTEXT_DIR / name, digest)


CONTEXTS: Mapping[str, PinnedContext] = MappingProxyType({
    CREDENTIALS_V2_URL: _pin(
        "credentials-v2.jsonld", "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"),
    CREDENTIALS_EXAMPLES_V2_URL: _pin(
        "credentials-examples-v2.jsonld", "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"),
    DATA_INTEGRITY_V2_URL: _pin(
        "data-integrity-v2.jsonld", "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4"),
    "https://w3id.org/security/multikey/v1": _pin(
        "multikey-v1.jsonld", "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597"),
    "https://www.w3.org/ns/cid/v1": _pin(
        "cid-v1.jsonld", "ea216ecc1cb02cd39b693dba2250141e270ba0bf95890be107dd9a9e8e43de85"),
    "https://www.w3.org/ns/did/v1": _pin(
        "did-v1.jsonld", "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f"),
    "https://w3id.org/security/suites/ed25519-2020/v1": _pin(
        "ed25519-2020-v1.jsonld", "3db5c19efb0047a6edfd3b36e24346a8a3caad369d749e3c2d69e862696403e5"),
    TN_CONTEXT_V1_URL: _pin(
        "eidln-tn-v1.jsonld", "bac5f3f6438e61ae204a73d82ce15785b792fa5d9268d1922348076702527f91"),
    TN_CONTEXT_URL: _pin(
        "eidln-tn-v2.jsonld", "4bc9590ebbc5eab75b94f2a2d0ca25e73a37ec9e6086162e28df87227ef343e3"),
})


class BoundedCache:
    """A small thread-safe LRU map with the two methods PyLD's ``ContextResolver`` uses (``get``, ``[]=``).

    Bounded because documents may carry inline contexts, which PyLD caches under their canonical JSON.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


def _short(url: object) -> str:
    text = repr(url)
    return text if len(text) <= _MAX_URL_IN_MESSAGE else text[:_MAX_URL_IN_MESSAGE] + "...'"


class DocumentLoader:
    """A PyLD document loader that serves only the pinned contexts of ``table`` (default :data:`CONTEXTS`).

    Call it as PyLD does: ``loader(url, options)`` returns ``{"contextUrl": None, "documentUrl": url,
    "document": {...}, "tag": "static"}``; the document is a fresh copy each time.
    """

    def __init__(self, table: Mapping[str, PinnedContext] | None = None, *, max_cached_contexts: int = 256) -> None:
        self._table = dict(CONTEXTS if table is None else table)
        self._documents: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.resolved_contexts = BoundedCache(max_cached_contexts)
        # PyLD's processed-context caches (cachetools LRUs inside the cached contexts) are not thread-safe, so
        # operations through one loader take turns (they hold the GIL for nearly all their time anyway).
        self.pyld_lock = threading.RLock()

    @property
    def urls(self) -> frozenset[str]:
        """The URLs this loader serves."""
        return frozenset(self._table)

    def __call__(self, url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
        pinned = self._table.get(url) if isinstance(url, str) else None
        if pinned is None:
            raise LoaderError(f"context {_short(url)} is not in the offline allow-list (nothing is fetched)",
                              code="vc.context_not_allowed")
        return {"contextUrl": None, "documentUrl": url, "document": copy.deepcopy(self._document(url, pinned)),
                "tag": "static"}

    def check_all(self) -> None:
        """Read and check every file of the table now (instead of at first use)."""
        for url, pinned in self._table.items():
            self._document(url, pinned)

    def _document(self, url: str, pinned: PinnedContext) -> dict[str, Any]:
        with self._lock:
            doc = self._documents.get(url)
            if doc is None:
                doc = self._documents[url] = _read_pinned(url, pinned)
            return doc


def _read_pinned(url: str, pinned: PinnedContext) -> dict[str, Any]:
    try:
        with open(pinned.path, "rb") as f:
            data = f.read(_MAX_CONTEXT_BYTES + 1)
    except OSError as exc:
        raise LoaderError(f"context {url} is pinned to {pinned.path}, which cannot be read: {exc.strerror}",
                          code="vc.context_digest_mismatch") from None
    if len(data) > _MAX_CONTEXT_BYTES:
        raise LoaderError(f"context file {pinned.path.name} for {url} is over {_MAX_CONTEXT_BYTES} bytes",
                          code="vc.context_digest_mismatch")
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned.sha256.lower():
        raise LoaderError(f"context file {pinned.path.name} for {url} has sha256 {digest}, "
                          f"not the pinned {pinned.sha256}", code="vc.context_digest_mismatch")
    try:
        doc = strictjson.loads(data, max_bytes=_MAX_CONTEXT_BYTES)
    except strictjson.JsonError as exc:
        raise LoaderError(f"context file {pinned.path.name} for {url} is not strict JSON ({exc.code})",
                          code="vc.context_digest_mismatch") from None
    if not isinstance(doc, dict) or "@context" not in doc:
        raise LoaderError(f"context file {pinned.path.name} has no @context", code="vc.context_digest_mismatch")
    return doc


document_loader = DocumentLoader()
"""The default loader: the W3C contexts and our TN context, pinned. Pass it as ``loader=`` or ``documentLoader``."""
