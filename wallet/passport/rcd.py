"""Rich call data (RFC 9795): the one home of the ``rcd``, ``rcdi`` and ``crn`` claim shapes and of the ``rcdi``
integrity strings.

* ``rcd`` (RFC 9795 §5.1) is a JSON object: ``nam`` (the display name, required, a string), ``apn`` (an alternate
  presentation number, a string), ``icn`` (a URI of an icon), ``jcl`` (a URI of a jCard) and ``jcd`` (a jCard, a
  JSON array). Nothing else: a member this code does not know could reference content nobody checked.
* ``rcdi`` (RFC 9795 §6) maps RFC 6901 JSON pointers into ``rcd`` (``/icn``, ``/jcd/1/3/3``) to integrity strings
  in the W3C Subresource Integrity form ``<alg>-<base64 digest>``, ``alg`` one of ``sha256``, ``sha384`` and
  ``sha512`` (:func:`integrity`). For content referenced by URL the digest is over the referenced bytes, not the
  URL; for a value carried inline it is over the value: a string's UTF-8 bytes, anything else its compact JSON
  with sorted member names (JCS, RFC 8785, for the strings and arrays a jCard holds), as the Neustar/TransUnion
  examples computed them (research notes §4.4, recomputed in the tests). Pointers below ``/jcl`` address the jCard
  ``jcl`` references (they cannot be resolved without fetching it).
* ``crn`` (RFC 9795 §7) is the call reason, a non-empty string.

Which members reference content (:func:`url_references`): ``icn`` and ``jcl`` always (whatever the scheme, e.g. the
``cid:`` body part of the Neustar example), and every ``http``/``https`` URI string anywhere inside ``jcd`` (a
logo, a photo, a website). Each of them must be covered by ``rcdi``: a terminating party can show the content only
after checking it against a digest the signer vouched for. The digest binds content, the signature binds the digest.

API: :func:`integrity` / :func:`check_integrity` / :func:`verify_content` for the strings; :func:`rcdi_for` builds
the ``rcdi`` claim for a signer and raises :class:`PassportError` (``passport.bad_rcd``, ``passport.no_integrity``,
``passport.bad_integrity``); :func:`check_rcd` judges received claims and never raises: it returns a frozen
:class:`RcdCheck` whose problems carry codes. Nothing here fetches anything: a display device that fetches ``icn``
checks the bytes with :func:`verify_content` before it shows them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from wallet import strictjson
from wallet.passport.errors import PassportError

__all__ = ["INTEGRITY_ALGORITHMS", "RCD_MEMBERS", "RcdProblem", "RcdCheck", "integrity", "check_integrity",
           "verify_content", "url_references", "rcdi_for", "check_rcd", "check_rcd_shape"]

INTEGRITY_ALGORITHMS = MappingProxyType({"sha256": 32, "sha384": 48, "sha512": 64})  # algorithm -> digest bytes
RCD_MEMBERS = ("nam", "apn", "icn", "jcd", "jcl")
_URI_MEMBERS = ("icn", "jcl")
_INTEGRITY = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")
_WEB = re.compile(r"https?://", re.I)
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")
_BAD_ESCAPE = re.compile(r"~(?![01])")
_MAX_WHERE = 80
_MAX_DEPTH = 32  # the PASSporT decoder's own nesting bound


@dataclass(frozen=True)
class RcdProblem:
    """One reason rich call data is not verified: a ``passport.*`` ``code``, ``where`` (the claim or the JSON
    pointer concerned, shortened) and a sentence that describes the shape, never the value."""

    code: str
    where: str
    detail: str


@dataclass(frozen=True)
class RcdCheck:
    """The verdict of :func:`check_rcd`: no problems means every rule held."""

    problems: tuple[RcdProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def code(self) -> str | None:
        """The first problem's code, or None."""
        return self.problems[0].code if self.problems else None


# ------------------------------------------------------------------------------------------- integrity strings


def integrity(content: bytes, alg: str = "sha256") -> str:
    """The RFC 9795 §6 ``rcdi`` value of ``content``: ``sha256-<base64 of the SHA-256 digest>`` (standard base64
    with padding, as W3C SRI writes it)."""
    if alg not in INTEGRITY_ALGORITHMS:
        raise PassportError(f"integrity algorithm {str(alg)[:20]!r} is not sha256, sha384 or sha512",
                            code="passport.bad_integrity")
    if not isinstance(content, bytes | bytearray | memoryview):
        raise TypeError(f"content must be bytes, not {type(content).__name__}")
    return f"{alg}-{base64.b64encode(hashlib.new(alg, content).digest()).decode('ascii')}"


def _digest_of(value: object) -> tuple[str, bytes] | None:
    """(algorithm, digest) of a well-formed integrity string, else None."""
    if not isinstance(value, str):
        return None
    m = _INTEGRITY.fullmatch(value)
    if m is None:
        return None
    try:
        digest = base64.b64decode(m[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(digest) != INTEGRITY_ALGORITHMS[m[1]] or base64.b64encode(digest).decode("ascii") != m[2]:
        return None  # a digest of another length, or non-canonical base64
    return m[1], digest


def check_integrity(value: object) -> bool:
    """Whether ``value`` is a well-formed integrity string: ``sha256``/``sha384``/``sha512``, a dash, and the
    canonical padded base64 of exactly that algorithm's digest length. No SRI options (``?…``)."""
    return _digest_of(value) is not None


def verify_content(rcdi_value: str, content: bytes) -> bool:
    """Whether ``content`` (the bytes a device fetched for a member) has the digest ``rcdi_value`` names. A
    malformed ``rcdi_value`` is False."""
    parsed = _digest_of(rcdi_value)
    if parsed is None:
        return False
    alg, digest = parsed
    return hmac.compare_digest(hashlib.new(alg, content).digest(), digest)


def _inline_bytes(value: object) -> bytes | None:
    """The digest input of a value carried inline: a string's UTF-8 bytes, else its canonical JSON
    (:func:`wallet.strictjson.canonical`); None for what is not JSON (a lone surrogate, NaN, a Python object)."""
    try:
        if isinstance(value, str):
            return value.encode("utf-8")
        return strictjson.canonical(value)
    except (TypeError, ValueError):  # JsonError and UnicodeEncodeError are ValueErrors
        return None


# ----------------------------------------------------------------------------------------------------- shapes


def _shallow(value: object, depth: int = 0) -> bool:
    """Whether ``value`` nests at most :data:`_MAX_DEPTH` levels (checked before anything recurses over it)."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, list):
        return all(_shallow(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(_shallow(v, depth + 1) for v in value.values())
    return True


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _web_uris(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if _WEB.match(value):
            yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _web_uris(item, f"{path}/{i}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _web_uris(item, f"{path}/{_escape(str(key))}")


def url_references(rcd: Mapping[str, object]) -> dict[str, str]:
    """JSON pointer -> URI of every member of a well-shaped ``rcd`` that references content (module docstring):
    ``/icn``, ``/jcl`` and the ``http(s)`` URIs inside ``jcd``, in document order."""
    refs = {f"/{name}": str(rcd[name]) for name in _URI_MEMBERS if name in rcd}
    if "jcd" in rcd:
        refs.update(_web_uris(rcd["jcd"], "/jcd"))
    return refs


def _shape(rcd: object) -> list[RcdProblem]:
    def bad(where: str, detail: str) -> RcdProblem:
        return RcdProblem("passport.bad_rcd", where, detail)

    if not isinstance(rcd, Mapping) or not all(isinstance(k, str) for k in rcd):
        return [bad("rcd", "rcd must be a JSON object (RFC 9795 §5.1)")]
    problems = []
    unknown = sorted(set(rcd) - set(RCD_MEMBERS))
    if unknown:
        problems.append(bad("rcd", f"rcd has {len(unknown)} member(s) other than {', '.join(RCD_MEMBERS)}"))
    if "nam" not in rcd:
        problems.append(bad("/nam", "rcd must have nam, the display name (RFC 9795 §5.1.1)"))
    for name in ("nam", "apn"):
        if name in rcd and not isinstance(rcd[name], str):
            problems.append(bad(f"/{name}", f"rcd.{name} must be a string"))
    for name in _URI_MEMBERS:
        if name in rcd and not (isinstance(rcd[name], str) and _URI.fullmatch(rcd[name])):
            problems.append(bad(f"/{name}", f"rcd.{name} must be a URI (scheme:…, printable ASCII)"))
    if "jcd" in rcd and not isinstance(rcd["jcd"], list):
        problems.append(bad("/jcd", "rcd.jcd must be a jCard (a JSON array, RFC 7095)"))
    elif "jcd" in rcd and not _shallow(rcd["jcd"]):
        problems.append(bad("/jcd", f"rcd.jcd nests deeper than {_MAX_DEPTH} levels"))
    return problems


def check_rcd_shape(rcd: object) -> RcdCheck:
    """The shape of an ``rcd`` claim alone (RFC 9795 §5.1 member types), without integrity: for a PASSporT that
    carries no ``rcdi`` by design (the enterprise PASSporT, whose OSP keeps only what it vetted)."""
    return RcdCheck(tuple(_shape(rcd)))


# ----------------------------------------------------------------------------------------------- rcdi


def rcdi_for(rcd: Mapping[str, object], integrities: Mapping[str, str]) -> dict[str, str]:
    """The ``rcdi`` claim for ``rcd``: one entry per member that references content (:func:`url_references`),
    keyed by its JSON pointer, with the integrity string ``integrities`` gives for that member's **URI**.

    Keyed by URI, not by pointer, so a digest vetted for one URL (a vetting credential's ``logo`` and its
    ``logoIntegrity``) can never be put beside another URL. Raises :class:`PassportError`: ``passport.bad_rcd``
    for an ``rcd`` of the wrong shape, ``passport.no_integrity`` for a referenced URI without an integrity string,
    ``passport.bad_integrity`` for one that is not well-formed. Entries of ``integrities`` for URIs ``rcd`` does
    not reference are ignored; members carried inline get no entry (the signature covers them)."""
    problems = _shape(rcd)
    if problems:
        raise PassportError(problems[0].detail, code="passport.bad_rcd")
    out = {}
    for pointer, uri in url_references(rcd).items():
        value = integrities.get(uri)
        if value is None:
            raise PassportError(f"no integrity string for the content {pointer} references (RFC 9795 §6)",
                                code="passport.no_integrity")
        if not check_integrity(value):
            raise PassportError(f"the integrity string for {pointer} is not sha256/384/512-<base64 digest>",
                                code="passport.bad_integrity")
        out[pointer] = value
    return dict(sorted(out.items()))


def _tokens(pointer: str) -> list[str] | None:
    """The unescaped reference tokens of an RFC 6901 pointer naming something inside ``rcd``, else None."""
    if not pointer.startswith("/") or _BAD_ESCAPE.search(pointer):
        return None
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


_MISSING = object()


def _resolve(doc: object, tokens: list[str]) -> object:
    for token in tokens:
        if isinstance(doc, Mapping):
            doc = doc.get(token, _MISSING)
        elif isinstance(doc, list) and _INDEX.fullmatch(token) and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return _MISSING
        if doc is _MISSING:
            return _MISSING
    return doc


def check_rcd(rcd: object, rcdi: object, *, crn: object = None) -> RcdCheck:
    """Judge received RFC 9795 claims (None = the claim is absent); never raises. Rules, each a problem code:

    * ``passport.bad_rcd``: ``rcd`` of the wrong shape (:func:`check_rcd_shape`); integrity is not judged then.
    * ``passport.bad_integrity``: ``rcdi`` not an object, a key that is not a JSON pointer (RFC 6901), a value
      that is not a well-formed integrity string (:func:`check_integrity`).
    * ``passport.dangling_integrity``: an ``rcdi`` pointer that names nothing in ``rcd`` (pointers below ``/jcl``
      need ``jcl``), or ``rcdi`` without ``rcd``.
    * ``passport.integrity_mismatch``: an ``rcdi`` entry for a value carried inline (``/nam``, ``/apn``, ``/jcd``…)
      whose digest differs from the value's.
    * ``passport.no_integrity``: a member that references content (:func:`url_references`) without a well-formed
      ``rcdi`` entry.
    * ``passport.bad_crn``: ``crn`` present and not a non-empty string.

    Digests of referenced content are checked for form only: the content is not fetched here."""
    problems = []
    if crn is not None and not (isinstance(crn, str) and crn):
        problems.append(RcdProblem("passport.bad_crn", "crn", "crn must be a non-empty string (RFC 9795 §7)"))
    if rcd is None:
        if rcdi is not None:
            problems.append(RcdProblem("passport.dangling_integrity", "rcdi", "rcdi without an rcd claim"))
        return RcdCheck(tuple(problems))
    shape = _shape(rcd)
    if shape:
        return RcdCheck(tuple(problems + shape))
    assert isinstance(rcd, Mapping)
    refs = url_references(rcd)
    covered: set[str] = set()
    if rcdi is not None and not (isinstance(rcdi, Mapping) and all(isinstance(k, str) for k in rcdi)):
        problems.append(RcdProblem("passport.bad_integrity", "rcdi",
                                   "rcdi must be an object of JSON pointers to integrity strings (RFC 9795 §6)"))
    elif rcdi is not None:
        for pointer, value in rcdi.items():
            problem = _entry(rcd, refs, pointer, value)
            if problem is None:
                covered.add(pointer)
            else:
                problems.append(problem)
    for pointer in refs:
        if pointer not in covered and not any(p.where == pointer[:_MAX_WHERE] for p in problems):
            problems.append(RcdProblem("passport.no_integrity", pointer[:_MAX_WHERE],
                                       "referenced content without an rcdi digest (RFC 9795 §6)"))
    return RcdCheck(tuple(problems))


def _entry(rcd: Mapping[str, object], refs: Mapping[str, str], pointer: str, value: object) -> RcdProblem | None:
    """The problem with one ``rcdi`` entry, or None."""
    where = pointer[:_MAX_WHERE]
    tokens = _tokens(pointer)
    if tokens is None:
        return RcdProblem("passport.bad_integrity", where, "an rcdi key is not a JSON pointer (RFC 6901)")
    parsed = _digest_of(value)
    if parsed is None:
        return RcdProblem("passport.bad_integrity", where, "an rcdi value is not sha256/384/512-<base64 digest>")
    if tokens[0] == "jcl" and len(tokens) > 1:  # inside the jCard jcl references: not resolvable offline
        return None if "jcl" in rcd else RcdProblem("passport.dangling_integrity", where,
                                                    "an rcdi pointer below /jcl without rcd.jcl")
    target = _resolve(rcd, tokens)
    if target is _MISSING:
        return RcdProblem("passport.dangling_integrity", where, "an rcdi pointer names nothing in rcd")
    if pointer in refs:  # referenced content: the device that fetches it checks the digest
        return None
    alg, digest = parsed
    content = _inline_bytes(target)
    if content is None or not hmac.compare_digest(hashlib.new(alg, content).digest(), digest):
        return RcdProblem("passport.integrity_mismatch", where, "an rcdi digest differs from the inline value's")
    return None
