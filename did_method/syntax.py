"""did:eidln syntax: DIDs, DID URLs and the base58btc alphabet they use (SPEC.md §3, DID Core 1.0 §3).

Decisions:

* Checks run in a fixed order so that each input gets the most useful error: the generic DID Core ABNF
  first (anything that is not a DID at all is ``invalidDid``), then the method name (another method is
  ``methodNotSupported``), then the did:eidln rules (``invalidDid`` again, with a message naming the rule).
* One spelling per DID. ``did:`` and the network are lower case and are never case-folded; the id is the
  base58btc (Bitcoin alphabet, no multibase prefix) encoding of exactly 16 bytes, and must be the canonical
  encoding: decoding then re-encoding gives the same text. This rejects extra leading ``1`` characters
  (each would decode to a leading zero byte) however a decoder pads.
* Size limits are checked before any base58 arithmetic (which is quadratic): a DID is at most 64
  characters, a DID URL at most 2048.
* DID URL query values are percent-decoded once (RFC 3986, UTF-8; ``+`` is a plus, not a space) and kept in
  order. The DID Core parameters ``versionId``, ``versionTime``, ``service``, ``relativeRef`` and ``hl`` may
  appear once each and their values are checked; unknown parameters are kept as given.
* Every fragment a did:eidln document uses is a ledger fragment (``String[32]`` on-chain), so a DID URL
  fragment must match ``[A-Za-z0-9._-]{1,32}``; anything else is ``invalidDidUrl``.
* The base58 codec is a dozen lines here rather than a dependency. py-multibase is not a dependency
  of the project (docs/dependencies.md): its base58btc codec (2.0.0) drops leading zero bytes both ways
  (``encode(bytes(16))`` gives ``"z1"``; ``"z11233QC4"`` decodes to 4 bytes, not 6), which would merge distinct
  ids. Leading zero bytes are exactly what the canonical-id rule is about, so the codec is ours and tested on
  the base58 draft's vectors (draft-msporny-base58) and the did:key vectors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, unquote

from did_method.errors import InvalidDid, InvalidDidUrl, MethodNotSupported
from did_method.ident import KeyType, self_certifying_id
from did_method.timefmt import parse_date_time_stamp

__all__ = [
    "METHOD",
    "ID_BYTES",
    "MAX_DID_LENGTH",
    "MAX_DID_URL_LENGTH",
    "MAX_FRAGMENT_LENGTH",
    "DID_PARAMETERS",
    "Did",
    "DidUrl",
    "parse_did",
    "format_did",
    "parse_did_url",
    "is_valid_fragment",
    "is_valid_network",
    "b58encode",
    "b58decode",
]

METHOD = "eidln"
ID_BYTES = 16
MAX_DID_LENGTH = 64
MAX_DID_URL_LENGTH = 2048
MAX_FRAGMENT_LENGTH = 32
DID_PARAMETERS = ("versionId", "versionTime", "service", "relativeRef", "hl")

# ------------------------------------------------------------------------------------------ base58btc

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58)}


def b58encode(data: bytes) -> str:
    """Base58 with the Bitcoin alphabet; each leading zero byte becomes one ``1``."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Inverse of :func:`b58encode`. ``ValueError`` on a character outside the alphabet.

    Quadratic in the length: callers bound the length first.
    """
    n = 0
    for c in text:
        i = _B58_INDEX.get(c)
        if i is None:
            raise ValueError(f"{c!r} is not a base58btc character")
        n = n * 58 + i
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + n.to_bytes((n.bit_length() + 7) // 8, "big")


# ------------------------------------------------------------------------------------------ grammar

_PCT = r"%[0-9A-Fa-f]{2}"
_IDCHAR = rf"(?:[A-Za-z0-9._-]|{_PCT})"
# DID Core 1.0 §3.1: did = "did:" method-name ":" method-specific-id
_GENERIC_DID = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)")
# RFC 3986 §3.3 pchar, §3.4 query, §3.5 fragment
_PCHAR = rf"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|{_PCT})"
_PATH_ABEMPTY = re.compile(rf"(?:/{_PCHAR}*)*")
_QUERY_OR_FRAGMENT = re.compile(rf"(?:{_PCHAR}|[/?])*")

_NETWORK = re.compile(r"[a-z][a-z0-9]{0,15}")
_FRAGMENT = re.compile(r"[A-Za-z0-9._-]{1,32}")
_VERSION_ID = re.compile(r"0|[1-9][0-9]{0,19}")
_VERSION_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_ASCII_PRINTABLE = re.compile(r"[!-~]*")
_URI_REFERENCE = re.compile(rf"(?:{_PCHAR}|[/?#])*")
_QUERY_SAFE = ":@!$'()*,;/?"
_BAD_NETWORK = "network {!r} is not 1-16 lower-case letters or digits starting with a letter"


def is_valid_network(network: str) -> bool:
    """1–16 characters, lower-case letters and digits, the first a letter."""
    return isinstance(network, str) and _NETWORK.fullmatch(network) is not None


def is_valid_fragment(fragment: str) -> bool:
    """A did:eidln fragment: 1–32 characters from ``A-Z a-z 0-9 . _ -`` (the ledger's ``String[32]``)."""
    return isinstance(fragment, str) and _FRAGMENT.fullmatch(fragment) is not None


# ------------------------------------------------------------------------------------------ DIDs


@dataclass(frozen=True)
class Did:
    """A did:eidln DID: the network name and the 16-byte self-certifying id. ``str()`` gives its one spelling.

    Constructing one with a bad network or id raises :class:`InvalidDid`; wrong types raise ``TypeError``.
    """

    network: str
    ident: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.network, str) or not isinstance(self.ident, bytes):
            raise TypeError("Did(network: str, ident: bytes)")
        if not is_valid_network(self.network):
            raise InvalidDid(_BAD_NETWORK.format(self.network))
        if len(self.ident) != ID_BYTES:
            raise InvalidDid(f"a did:eidln id is {ID_BYTES} bytes, not {len(self.ident)}")

    @classmethod
    def for_key(cls, network: str, key_type: KeyType, public_key: bytes) -> Did:
        """The DID whose first key is ``public_key``: the id ``DIDRegistry.create`` will accept for it."""
        return cls(network, self_certifying_id(key_type, public_key))

    def __str__(self) -> str:
        return _spell(self.network, self.ident)


@lru_cache(maxsize=1 << 16)
def _spell(network: str, ident: bytes) -> str:
    """The DID string (memoized: base58 is the cost of the call-time path's DID handling)."""
    return f"did:{METHOD}:{network}:{b58encode(ident)}"


@lru_cache(maxsize=1 << 16)
def format_did(network: str, ident: bytes) -> str:
    """The DID string for a network and a 16-byte id (memoized; bad values raise and are not cached)."""
    return str(Did(network, ident))


def parse_did(text: str) -> Did:
    """Parse a did:eidln DID (no path, query or fragment).

    Raises :class:`InvalidDid` (not a DID, or breaks a did:eidln rule) or :class:`MethodNotSupported`.
    Successful parses are memoized (a :class:`Did` is immutable; failures are not cached).
    """
    if not isinstance(text, str):
        raise TypeError(f"a DID is a str, not {type(text).__name__}")
    return _parse_did(text)


@lru_cache(maxsize=1 << 16)
def _parse_did(text: str) -> Did:
    m = _GENERIC_DID.fullmatch(text)
    if m is None:
        raise InvalidDid(f"{_show(text)} is not a DID (did:<method>:<method-specific-id>, DID Core 1.0 §3.1)")
    method, specific = m.group(1), m.group(2)
    if method != METHOD:
        raise MethodNotSupported(f"DID method {method!r} is not supported; this resolver handles did:{METHOD}")
    if len(text) > MAX_DID_LENGTH:
        raise InvalidDid(f"a did:eidln DID is at most {MAX_DID_LENGTH} characters, this one has {len(text)}")
    parts = specific.split(":")
    if len(parts) != 2:
        raise InvalidDid("a did:eidln DID is did:eidln:<network>:<id>")
    network, encoded = parts
    if not is_valid_network(network):
        raise InvalidDid(_BAD_NETWORK.format(network))
    try:
        ident = b58decode(encoded)
    except ValueError as exc:
        raise InvalidDid(f"the id {encoded!r} is not base58btc: {exc}") from None
    if len(ident) != ID_BYTES:
        raise InvalidDid(f"the id must encode {ID_BYTES} bytes, {encoded!r} encodes {len(ident)}")
    if b58encode(ident) != encoded:  # the canonical-form rule; this codec never decodes two spellings alike
        raise InvalidDid(f"the id {encoded!r} is not in canonical base58btc form")
    return Did(network, ident)


# ------------------------------------------------------------------------------------------ DID URLs


@dataclass(frozen=True)
class DidUrl:
    """A did:eidln DID URL: ``did path-abempty [ "?" query ] [ "#" fragment ]`` (DID Core 1.0 §3.2).

    ``path`` is the raw (validated) path, ``""`` when absent. ``query`` holds percent-decoded
    ``(name, value)`` pairs in order (a parameter without ``=`` has value ``""``). ``fragment`` is ``None``
    when there is no ``#``. ``str()`` gives the canonical spelling (``name=value`` pairs re-encoded).
    """

    did: Did
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()
    fragment: str | None = None

    def param(self, name: str) -> str | None:
        """The value of the first query parameter called ``name``, or ``None``."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def __str__(self) -> str:
        out = str(self.did) + self.path
        if self.query:
            out += "?" + "&".join(f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}"
                                  for k, v in self.query)
        if self.fragment is not None:
            out += "#" + self.fragment
        return out


def parse_did_url(text: str) -> DidUrl:
    """Parse a did:eidln DID URL (a bare DID is a DID URL too).

    Raises :class:`InvalidDidUrl` (including for a DID part that is not a valid did:eidln DID) or
    :class:`MethodNotSupported`. Successful parses are memoized (a :class:`DidUrl` is immutable).
    """
    if not isinstance(text, str):
        raise TypeError(f"a DID URL is a str, not {type(text).__name__}")
    return _parse_did_url(text)


@lru_cache(maxsize=1 << 16)
def _parse_did_url(text: str) -> DidUrl:
    if len(text) > MAX_DID_URL_LENGTH:
        raise InvalidDidUrl(f"a DID URL is at most {MAX_DID_URL_LENGTH} characters, this one has {len(text)}")
    cut = re.search(r"[/?#]", text)
    did_text, rest = (text[:cut.start()], text[cut.start():]) if cut else (text, "")
    try:
        did = parse_did(did_text)
    except InvalidDid as exc:
        raise InvalidDidUrl(exc.message) from None
    before, hash_sign, fragment = rest.partition("#")
    path, question, query = before.partition("?")
    if not _PATH_ABEMPTY.fullmatch(path):
        raise InvalidDidUrl(f"the path {_show(path)} is not an RFC 3986 path (check percent-encoding)")
    if not _QUERY_OR_FRAGMENT.fullmatch(query):
        raise InvalidDidUrl(f"the query {_show(query)} is not an RFC 3986 query (check percent-encoding)")
    if hash_sign:
        if not _QUERY_OR_FRAGMENT.fullmatch(fragment):
            raise InvalidDidUrl(f"the fragment {_show(fragment)} is not an RFC 3986 fragment")
        if not is_valid_fragment(fragment):
            raise InvalidDidUrl(f"the fragment {_show(fragment)} is not a did:eidln fragment: 1-{MAX_FRAGMENT_LENGTH}"
                                " characters from A-Z a-z 0-9 . _ -")
    params = _parse_query(query) if question else ()
    return DidUrl(did, path, params, fragment if hash_sign else None)


def _parse_query(query: str) -> tuple[tuple[str, str], ...]:
    if query == "":
        return ()
    params: list[tuple[str, str]] = []
    for part in query.split("&"):
        raw_name, _eq, raw_value = part.partition("=")
        name, value = _pct_decode(raw_name), _pct_decode(raw_value)
        if not name:
            raise InvalidDidUrl(f"the query {_show(query)} has a parameter without a name")
        params.append((name, value))
    names = [n for n, _v in params]
    for name in DID_PARAMETERS:
        if names.count(name) > 1:
            raise InvalidDidUrl(f"the DID parameter {name!r} appears more than once")
    _check_parameters(dict(params))
    return tuple(params)


def _check_parameters(params: dict[str, str]) -> None:
    """Value rules for the DID Core parameters, as did:eidln defines them (SPEC.md §3.4)."""
    version_id, version_time = params.get("versionId"), params.get("versionTime")
    if version_id is not None and not _VERSION_ID.fullmatch(version_id):
        raise InvalidDidUrl(f"versionId {_show(version_id)} is not a block number in decimal")
    if version_time is not None:
        if not _VERSION_TIME.fullmatch(version_time) or parse_date_time_stamp(version_time) is None:
            raise InvalidDidUrl(f"versionTime {_show(version_time)} is not a UTC time like 2026-01-31T12:00:00Z")
    if version_id is not None and version_time is not None:
        raise InvalidDidUrl("versionId and versionTime cannot be used together")
    service = params.get("service")
    if service is not None and not is_valid_fragment(service):
        raise InvalidDidUrl(f"service {_show(service)} is not a did:eidln service fragment")
    relative_ref = params.get("relativeRef")
    if relative_ref is not None:
        if service is None:
            raise InvalidDidUrl("relativeRef needs a service parameter")
        first_segment = re.split(r"[/?#]", relative_ref, maxsplit=1)[0]
        if not _URI_REFERENCE.fullmatch(relative_ref) or ":" in first_segment:
            raise InvalidDidUrl(f"relativeRef {_show(relative_ref)} is not an RFC 3986 relative reference")
    hashlink = params.get("hl")
    if hashlink is not None and (not hashlink or not _ASCII_PRINTABLE.fullmatch(hashlink)):
        raise InvalidDidUrl("hl must be a non-empty ASCII hashlink")


def _pct_decode(text: str) -> str:
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidDidUrl(f"{_show(text)} percent-encodes bytes that are not UTF-8") from None


def _show(text: str, limit: int = 80) -> str:
    """``repr`` of untrusted text, shortened for error messages."""
    return repr(text if len(text) <= limit else text[:limit] + "...")
