"""Canonical bytes for Data Integrity proofs: RDFC-1.0 N-Quads, RFC 8785 JCS, and the undefined-term check.

Decisions:

* RDFC-1.0 is PyLD's URDNA2015, named explicitly (``jsonld.normalize`` defaults to URGNA2012). We run the two
  steps ``normalize`` runs (``to_rdf``, then ``URDNA2015().main``) ourselves so that the canonicalizer works
  under a **work budget**: PyLD has none; a clique of eight blank nodes takes it about 45 s, and 111
  identical nested blank nodes (a 1 kB document) run for minutes. The budget charges each Hash N-Degree
  Quads call plus the permutations it may try; beyond ``RDFC_WORK_BASE + RDFC_WORK_PER_BLANK_NODE * blank
  nodes`` the document is refused (``vc.canonicalization_too_complex``). Documents with at most a handful of
  identical sibling blank nodes fit; the output is byte-identical to ``jsonld.normalize`` with URDNA2015.
* ``base`` is ``None``. PyLD 3.3 otherwise resolves relative IRIs against ``http://example.org/base/``,
  so a bare ``"type": "Foo"`` would be signed as ``<http://example.org/base/Foo>``; jsonld.js leaves it
  relative and drops it.
* PyLD has no "safe mode", and silently drops what no context defines, so it would not be signed. PyLD 3.x
  calls a handler, ``JsonLdProcessor(on_property_dropped=...)``, for every key expansion drops: a term no
  context defines, a term defined as ``null``, a keyword-like ``@foo``. :func:`check_all_terms_defined`
  expands with that handler, then walks the expanded form for the rest of what ``to_rdf`` drops or cannot
  write: types and properties that are not absolute IRIs (``vc.undefined_term``), and ``@id``
  values that are neither absolute IRIs nor blank nodes, or hold characters N-Quads IRIs cannot
  (``vc.invalid_iri``). Not covered, as in jsonld.js safe mode: ``@index`` keys and ``@direction``, which
  RDF does not carry; ``null`` values, which JSON-LD defines as absent.
* JCS is RFC 8785 as the ``rfc8785`` package writes it (Trail of Bits; keys sorted by UTF-16 code units,
  strings escaped as ECMAScript ``JSON.stringify`` does, numbers printed as ECMAScript
  ``Number.prototype.toString`` from Python's shortest round-tripping ``repr``). It replaced a hand-written
  serializer that gave the same bytes on the W3C vectors, RFC 8785 Appendix B and 200,000 random doubles
  (``docs/dependencies.md``). Around it: nesting is bounded by :data:`MAX_DEPTH` before it recurses; integers
  beyond 2**53 that are exactly a double are written as that double (``rfc8785`` refuses them all); integers
  that are not, NaN, infinities, lone surrogates and non-JSON types are refused (``vc.jcs_unsupported_value``):
  their canonical form would not be the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TypeVar, cast

import rfc8785
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.context_resolver import ContextResolver

from wallet.dataintegrity.errors import DataIntegrityError, ProofError

__all__ = [
    "Loader",
    "MAX_DEPTH",
    "MAX_NODES",
    "RDFC_WORK_BASE",
    "RDFC_WORK_PER_BLANK_NODE",
    "canonize_jcs",
    "canonize_rdfc",
    "check_all_terms_defined",
    "check_json",
    "jsonld_options",
]

Loader = Callable[..., dict[str, Any]]
"""A PyLD document loader: ``loader(url, options) -> {"contextUrl", "documentUrl", "document"}``."""

MAX_DEPTH = 32  # nesting of objects and arrays in a document
MAX_NODES = 50_000  # objects, arrays and scalars in a document
RDFC_WORK_BASE = 1_000
RDFC_WORK_PER_BLANK_NODE = 10
_MAX_NAMES = 5

if "on_property_dropped" not in jsonld.JsonLdProcessor.__init__.__code__.co_varnames:  # pragma: no cover
    raise ImportError("wallet.dataintegrity needs a PyLD with JsonLdProcessor(on_property_dropped=...) (3.x)")

_T = TypeVar("_T")


# ------------------------------------------------------------------------------------------------ shape


def check_json(value: Any, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
    """Refuse anything but a JSON object of JSON values within the size bounds (``vc.malformed_document``)."""
    if not isinstance(value, dict):
        raise ProofError(f"a document is a JSON object, not {type(value).__name__}", code="vc.malformed_document")
    stack: list[tuple[Any, int]] = [(value, 0)]
    count = 0
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > max_nodes:
            raise ProofError(f"the document has more than {max_nodes} values", code="vc.malformed_document")
        if isinstance(item, dict):
            children: list[Any] = []
            for key, child in item.items():
                if not isinstance(key, str):
                    raise ProofError("object keys are strings", code="vc.malformed_document")
                children.append(child)
        elif isinstance(item, list):
            children = item
        elif item is None or isinstance(item, str | int | float):
            continue
        else:
            raise ProofError(f"{type(item).__name__} is not a JSON value", code="vc.malformed_document")
        if children and depth >= max_depth:
            raise ProofError(f"the document nests deeper than {max_depth}", code="vc.malformed_document")
        stack.extend((child, depth + 1) for child in children)


# ------------------------------------------------------------------------------------------------ PyLD glue


def jsonld_options(loader: Loader) -> dict[str, Any]:
    """PyLD options for one operation: our loader, its context cache, no base IRI, JSON-LD 1.1."""
    cache = getattr(loader, "resolved_contexts", None)
    return {
        "documentLoader": loader,
        "contextResolver": ContextResolver({} if cache is None else cache, loader),
        "base": None,
        "processingMode": "json-ld-1.1",
    }


def _exclusive(loader: Loader) -> AbstractContextManager[Any]:
    """The loader's lock around a PyLD operation (its context caches are shared), if it has one."""
    lock = getattr(loader, "pyld_lock", None)
    return nullcontext() if lock is None else cast(AbstractContextManager[Any], lock)


def _our_error(exc: BaseException) -> DataIntegrityError | None:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, DataIntegrityError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def _describe(exc: BaseException) -> str:
    """The innermost PyLD error's code and message (the outer ones only say 'could not expand')."""
    best = f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"
    cur: BaseException | None = exc
    for _ in range(16):
        if cur is None:
            break
        if isinstance(cur, jsonld.JsonLdError):
            best = f"{cur.code or cur.type}: {cur.args[0] if cur.args else ''}"
        cur = cur.__cause__ or cur.__context__
    return best[:300]


def _pyld(call: Callable[[], _T]) -> _T:
    """Run a PyLD call; every failure becomes a :class:`DataIntegrityError` (ours if ours is in the chain)."""
    try:
        return call()
    except DataIntegrityError:
        raise
    except (jsonld.JsonLdError, TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError) as exc:
        # Anything but JsonLdError is PyLD tripping over an odd (JSON-valid) document: still not valid JSON-LD.
        ours = _our_error(exc)
        if ours is not None:
            raise ours from None
        raise ProofError(f"JSON-LD processing failed: {_describe(exc)}", code="vc.invalid_jsonld") from exc


# ------------------------------------------------------------------------------------------------ terms

_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|^`\\]*")
_BLANK_NODE = re.compile(r"_:[^\x00-\x20<>\"{}|^`\\]+")
_CONTAINERS = ("@list", "@set", "@graph", "@included", "@reverse")


def _names(items: list[str]) -> str:
    unique = sorted(set(items))
    shown = ", ".join(unique[:_MAX_NAMES])
    return shown + (f" and {len(unique) - _MAX_NAMES} more" if len(unique) > _MAX_NAMES else "")


def _is_iri(value: object) -> bool:
    return isinstance(value, str) and _ABSOLUTE_IRI.fullmatch(value) is not None


def _is_node_ref(value: object) -> bool:
    return isinstance(value, str) and (_ABSOLUTE_IRI.fullmatch(value) or _BLANK_NODE.fullmatch(value)) is not None


def _check_expanded(expanded: Any) -> None:
    stack = [expanded]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "@value" in item:
            continue  # a value object: PyLD itself refuses a datatype that is not an absolute IRI
        for key, value in item.items():
            if key == "@id":
                if not _is_node_ref(value):
                    raise ProofError(f"id {str(value)[:100]!r} is not an absolute IRI (RDFC would drop it)",
                                     code="vc.invalid_iri")
            elif key == "@type":
                bad = [t for t in (value if isinstance(value, list) else [value]) if not _is_node_ref(t)]
                if bad:
                    raise ProofError(f"type {_names([str(t)[:100] for t in bad])} is not defined by any context",
                                     code="vc.undefined_term")
            elif key.startswith("@"):
                if key in _CONTAINERS:
                    stack.append(value)
            elif not _is_iri(key):
                raise ProofError(f"property {key[:100]!r} is not an absolute IRI (RDFC would drop it)",
                                 code="vc.undefined_term")
            else:
                stack.append(value)


def check_all_terms_defined(document: dict[str, Any], loader: Loader) -> list[Any]:
    """Expand ``document`` and refuse it if expansion dropped or left unresolved any term; returns the expansion.

    Raises :class:`ProofError`: ``vc.undefined_term`` naming the terms, ``vc.invalid_iri``, ``vc.invalid_jsonld``,
    or the loader's :class:`~wallet.dataintegrity.errors.LoaderError` (``vc.context_not_allowed``, ...).
    """
    if not isinstance(document, dict):
        raise TypeError(f"document must be a dict, not {type(document).__name__}")
    dropped: list[str | None] = []
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped.append)
    with _exclusive(loader):
        expanded: list[Any] = _pyld(lambda: processor.expand(document, jsonld_options(loader)))
    if dropped:
        names = [term if term is not None else "(a keyword-like key or a term defined as null)" for term in dropped]
        raise ProofError(f"not defined by any context, so it would not be signed: {_names(names)}",
                         code="vc.undefined_term")
    _check_expanded(expanded)
    return expanded


# ------------------------------------------------------------------------------------------------ RDFC


class _BudgetedURDNA2015(URDNA2015):  # type: ignore[misc]
    """PyLD's URDNA2015 that gives up when Hash N-Degree Quads would do too much work."""

    def __init__(self) -> None:
        super().__init__()
        self._work = 0

    def create_hash_to_related(self, id_: str, issuer: Any) -> dict[str, list[str]]:
        # Called once at the start of each Hash N-Degree Quads: charge the call and the permutations it may try.
        groups: dict[str, list[str]] = super().create_hash_to_related(id_, issuer)
        self._work += 1 + sum(math.factorial(min(len(group), 13)) for group in groups.values())
        limit = RDFC_WORK_BASE + RDFC_WORK_PER_BLANK_NODE * len(self.blank_node_info)
        if self._work > limit:
            raise ProofError(f"canonicalization needs more than {limit} steps: the document has many "
                             "indistinguishable blank nodes (give them ids or different content)",
                             code="vc.canonicalization_too_complex")
        return groups


def canonize_rdfc(document: dict[str, Any] | list[Any], loader: Loader, *, check_terms: bool = True) -> str:
    """The RDFC-1.0 (URDNA2015) canonical N-Quads of a JSON-LD document; every quad ends with ``\\n``.

    With ``check_terms`` (the default) the document first passes :func:`check_all_terms_defined`.
    """
    if not isinstance(document, dict | list):
        raise TypeError(f"document must be a dict, not {type(document).__name__}")
    if check_terms:
        if not isinstance(document, dict):
            raise TypeError("check_terms needs a document object")
        data: Any = check_all_terms_defined(document, loader)
    else:
        data = document
    options = {**jsonld_options(loader), "produceGeneralizedRdf": False}
    with _exclusive(loader):
        dataset = _pyld(lambda: jsonld.JsonLdProcessor().to_rdf(data, options))
    nquads: str = _pyld(lambda: _BudgetedURDNA2015().main(dataset, {"format": "application/n-quads"}))
    return nquads


# ------------------------------------------------------------------------------------------------ JCS

_JSON_CONTAINERS = (dict, list, tuple)
_SAFE_INTEGER = 2**53 - 1  # rfc8785 writes integers up to this; beyond, the double they name


def _jcs_refuse(message: str) -> ProofError:
    return ProofError(message, code="vc.jcs_unsupported_value")


def _as_double(value: int) -> float:
    """An integer beyond 2**53 - 1 as the double it names exactly; refused if no double does (RFC 8785 §3.2.2.3)."""
    try:
        as_double = float(value)
    except OverflowError:
        as_double = math.inf
    if not math.isfinite(as_double) or int(as_double) != value:
        raise _jcs_refuse(f"the integer {value} is not exactly an IEEE 754 double (RFC 8785 §3.2.2.3)")
    return as_double


def _doubles(value: Any) -> Any:
    """``value`` with every integer beyond 2**53 - 1 written as its double (depth already bounded by the caller)."""
    if isinstance(value, dict):
        return {key: _doubles(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_doubles(item) for item in value]
    if isinstance(value, int) and not -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
        return _as_double(value)
    return value


def _check_depth(value: list[Any] | tuple[Any, ...] | dict[Any, Any]) -> None:
    """Refuse a value that nests deeper than :data:`MAX_DEPTH`, level by level (iterative: before the serializer
    recurses, whatever the interpreter's recursion limit)."""
    level = [value]
    for _ in range(MAX_DEPTH):
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)
                 if isinstance(child, _JSON_CONTAINERS)]
        if not level:
            return
    if any(level):  # a non-empty container at MAX_DEPTH: its items are deeper
        raise _jcs_refuse(f"the value nests deeper than {MAX_DEPTH}")


def _dumps(value: Any) -> bytes:
    """``rfc8785.dumps``; its refusals as ``vc.jcs_unsupported_value``, but for ``IntegerDomainError``."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.IntegerDomainError:
        raise
    except rfc8785.FloatDomainError:
        raise _jcs_refuse("NaN and infinities are not JSON numbers") from None
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:  # a key with a lone surrogate fails to sort
        if isinstance(exc, UnicodeEncodeError) or isinstance(exc.__cause__, UnicodeEncodeError):
            raise _jcs_refuse("a string holds a lone UTF-16 surrogate, which is not Unicode text") from None
        raise _jcs_refuse(f"not a JSON value ({exc})") from None


def canonize_jcs(value: Any) -> bytes:
    """The RFC 8785 (JCS) canonical UTF-8 bytes of a JSON value. No trailing newline."""
    if isinstance(value, _JSON_CONTAINERS):
        _check_depth(value)
    try:
        return _dumps(value)
    except rfc8785.IntegerDomainError:
        pass  # an integer beyond 2**53 - 1: JCS writes the double it names, if one does
    return _dumps(_doubles(value))
