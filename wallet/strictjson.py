"""The one bounded, strict JSON reader for everything the project reads from outside (HTTP bodies, PASSporT
segments, wallet files, anchored credentials, JSON-LD contexts), and the one writer of canonical JSON.

Before anything recurses on the input it is checked, in this order:

1. **size** — at most ``max_bytes`` bytes (UTF-8) (``json.too_large``);
2. **encoding** — valid UTF-8, and (for ``str`` input) no lone surrogates (``json.not_utf8``);
3. **depth** — at most ``max_depth`` nested arrays / objects, measured by an iterative scan, so a document of
   65,536 ``[`` is refused in microseconds instead of overflowing the C stack (``json.too_deep``). Importing
   py-evm / py_ecc raises the interpreter's recursion limit to 100,000, which disables the decoder's own guard;
   this check does not depend on that limit;

then decoded strictly: duplicate member names (``json.duplicate_key``), ``NaN`` / ``Infinity``
(``json.invalid``), and strings that decode to lone surrogates (``"\\ud800"``: not Unicode text, and SQLite,
UTF-8 encoders and other parsers would each treat them differently) (``json.bad_string``) are errors.

Written, :func:`canonical` is the one compact form the project signs, anchors and digests: member names sorted (by
code point), no insignificant white space, UTF-8 with ``/`` and non-ASCII characters left as they are (RFC 8225 §9),
and nothing that is not JSON (``NaN``, lone surrogates: ``json.invalid``, ``json.not_utf8``). The Data Integrity
``eddsa-jcs-2022`` suite uses RFC 8785 (:func:`wallet.dataintegrity.canon.canonize_jcs`) instead; the two agree on
every value without floats, non-BMP member names or integers beyond 2**53.

:class:`JsonError` is a :class:`ValueError` (callers that catch ``ValueError`` keep working) and a
:class:`~wallet.errors.CodedError` with one of :data:`CODES`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from wallet.errors import CodedError

__all__ = ["loads", "canonical", "JsonError", "CODES", "MAX_DEPTH", "MAX_BYTES", "check_depth",
           "restore_recursion_limit", "RECURSION_LIMIT"]

MAX_DEPTH = 32  # deep enough for every document we read (a VC with its proof is < 10), far below any stack limit
MAX_BYTES = 1 << 20
RECURSION_LIMIT = 1000  # CPython's default


def restore_recursion_limit() -> None:
    """Put the interpreter's recursion limit back to CPython's default.

    Importing py-evm (12,288) or py_ecc (100,000) raises it for the whole process, which turns every recursive parser
    into a way to overflow the C stack (SIGSEGV) instead of a ``RecursionError``. The process edges (the CLI, the
    node server, the test session) call this after their imports; :func:`loads` does not depend on it."""
    import sys

    if sys.getrecursionlimit() != RECURSION_LIMIT:
        sys.setrecursionlimit(RECURSION_LIMIT)

CODES = frozenset({
    "json.too_large",  # more bytes than the reader allows
    "json.not_utf8",  # not UTF-8 (or a str holding lone surrogates)
    "json.too_deep",  # arrays / objects nested deeper than the reader allows
    "json.duplicate_key",  # an object names a member twice
    "json.bad_string",  # a string escape that decodes to a lone surrogate
    "json.invalid",  # not JSON (syntax, NaN / Infinity, a number too long to read)
})


class JsonError(CodedError, ValueError):
    """Input that is not bounded, strict JSON. ``code`` is one of :data:`CODES`."""

    CODES = CODES


# A JSON string as the decoder sees it (from an opening quote, escapes skipped). Unterminated strings are not
# matched, so brackets after them still count: the depth check errs on the side of refusing.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check_depth(text: str, max_depth: int, *, strings: re.Pattern[str] = _STRING) -> None:
    """Raise ``json.too_deep`` if ``text`` nests ``[`` / ``{`` deeper than ``max_depth`` outside ``strings``.

    Iterative, and in C loops: when the document holds no more brackets than the limit it cannot nest deeper (two
    ``str.count`` calls, the common case). Otherwise only the brackets are kept, as ``(`` and ``)``, and innermost
    pairs are removed one level per pass; more than ``max_depth`` passes means deeper. What is left after the last
    pass is unmatched (``)))(((``, invalid JSON anyway), and its openers count on top: a decoder would recurse into
    them before failing. At most ``max_depth + 1`` linear passes: a 64 KiB body costs about a millisecond at worst.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return
    brackets = strings.sub("", text).encode("utf-8", "surrogatepass").translate(_PARENS, _NOT_BRACKETS)
    passes = 0
    while b"()" in brackets:
        passes += 1
        if passes > max_depth:
            raise JsonError(f"nested deeper than {max_depth} levels", code="json.too_deep")
        brackets = brackets.replace(b"()", b"")
    if passes + brackets.count(b"(") > max_depth:
        raise JsonError(f"nested deeper than {max_depth} levels", code="json.too_deep")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise JsonError(f"duplicate member name {key[:40]!r}", code="json.duplicate_key")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise JsonError(f"{name} is not JSON", code="json.invalid")


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)


def _has_lone_surrogate(value: Any) -> bool:
    """True if any string (member names included) in a decoded value is not encodable as UTF-8. Iterative."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def loads(raw: bytes | bytearray | memoryview | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH
          ) -> Any:
    """Parse bounded, strict JSON (see the module notice); :class:`JsonError` for anything else."""
    if isinstance(raw, str):
        if len(raw) > max_bytes:  # each character is at least one byte
            raise JsonError(f"the document is over {max_bytes} bytes", code="json.too_large")
        try:
            size = len(raw.encode("utf-8"))
        except UnicodeEncodeError:
            raise JsonError("the text holds a lone surrogate (not Unicode text)", code="json.not_utf8") from None
        text = raw
    else:
        size = len(raw)
        if size > max_bytes:
            raise JsonError(f"the document is {size} bytes, over {max_bytes}", code="json.too_large")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8 (byte {exc.start})", code="json.not_utf8") from None
    if size > max_bytes:
        raise JsonError(f"the document is {size} bytes, over {max_bytes}", code="json.too_large")
    check_depth(text, max_depth)
    try:
        value = _DECODER.decode(text)
    except JsonError:
        raise
    except RecursionError:  # cannot happen after check_depth; kept so that no parser error escapes untyped
        raise JsonError("nested too deeply", code="json.too_deep") from None
    except ValueError as exc:  # JSONDecodeError; int() refusing more than sys.get_int_max_str_digits() digits
        raise JsonError(f"not JSON: {str(exc)[:120]}", code="json.invalid") from None
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise JsonError("a string escape decodes to a lone surrogate (not Unicode text)", code="json.bad_string")
    return value


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_CANONICAL_ASCII = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical(value: Any, *, ascii_only: bool = False) -> bytes:
    """The canonical bytes of a JSON value (see the module notice). ``ascii_only`` escapes every non-ASCII character
    as ``\\uXXXX`` instead (the wallet file's form). :class:`JsonError` for ``NaN`` / ``Infinity`` or a lone
    surrogate; ``TypeError`` for what is not a JSON value at all (a set, bytes, an object)."""
    try:
        text = (_CANONICAL_ASCII if ascii_only else _CANONICAL).encode(value)
    except ValueError as exc:  # NaN / Infinity, a circular reference
        raise JsonError(f"not JSON: {exc}", code="json.invalid") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonError("a string holds a lone surrogate (not Unicode text)", code="json.not_utf8") from None
