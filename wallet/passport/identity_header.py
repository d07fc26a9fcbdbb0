"""The SIP ``Identity`` header of RFC 8224 §4.1: a strict formatter and a tolerant, bounded parser.

Grammar (RFC 8224 §4.1)::

    Identity = "Identity" HCOLON signed-identity-digest SEMI ident-info *( SEMI ident-info-params )
    signed-identity-digest = 1*(base64-char / ".")
    ident-info = "info" EQUAL ident-info-uri         ; ident-info-uri = LAQUOT absoluteURI RAQUOT
    ident-info-params = ident-info-alg / ident-type / ident-info-extension   ; alg=token, ppt=token

:func:`format_identity` writes exactly that (``<token>;info=<URI>;alg=ES256;ppt=shaken``). :func:`parse_identity`
takes the header *value* and accepts what deployed equipment sends: quoted ``ppt="shaken"``, ``info`` without
angle brackets, whitespace around ``;`` and ``=``, parameter names in any case, and the compact form
(``header..signature``, RFC 8224 §4.1.1) flagged ``compact=True``. It refuses anything ambiguous (a parameter
twice, no ``info``, control characters) with ``passport.bad_header`` and raises nothing but
:class:`PassportError` for any text. It checks syntax only; decoding the token is :func:`wallet.passport.decode`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from wallet.passport.errors import PassportError
from wallet.passport.token import ALLOWED_ALGORITHMS, decode_header

__all__ = ["MAX_HEADER_LENGTH", "IdentityHeader", "format_identity", "parse_identity"]

MAX_HEADER_LENGTH = 16384
_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.([A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+")
_SIP_TOKEN = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")  # RFC 3261 token
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+")  # scheme ":" visible ASCII
_URI_FORBIDDEN = set('<>"')
_PRINTABLE = re.compile(r"[\t\x20-\x7e]*")


@dataclass(frozen=True)
class IdentityHeader:
    """A parsed Identity header value. ``params`` keeps every parameter, names lower-cased, values unquoted."""

    token: str
    info: str
    alg: str | None
    ppt: str | None
    params: tuple[tuple[str, str], ...]
    compact: bool

    def param(self, name: str) -> str | None:
        """The value of parameter ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.params if key == wanted), None)


def _bad(message: str) -> PassportError:
    return PassportError(message, code="passport.bad_header")


def _check_uri(uri: str) -> str:
    if not _URI.fullmatch(uri) or _URI_FORBIDDEN & set(uri):
        raise _bad("info is not an absolute URI")
    return uri


def format_identity(token: str, *, info: str, alg: str = "ES256", ppt: str | None = None) -> str:
    """The strict RFC 8224 header value ``token;info=<info>;alg=<alg>[;ppt=<ppt>]``.

    ``alg`` and ``ppt`` must agree with the token's own JOSE header (RFC 8224 §4.1, RFC 8225 §8).
    """
    match = _TOKEN.fullmatch(token)
    if not match:
        raise _bad("token is not a compact or full-form JWS")
    _check_uri(info)
    if alg not in ALLOWED_ALGORITHMS:
        raise PassportError(f"alg {alg!r} is not allowed", code="passport.alg_not_allowed")
    header = decode_header(token.split(".", 1)[0])
    if header["alg"] != alg:
        raise PassportError(f"alg={alg} but the token says {header['alg']!r}", code="passport.alg_not_allowed")
    if ppt is not None and not _SIP_TOKEN.fullmatch(ppt):
        raise _bad("ppt is not a SIP token")
    if header.get("ppt") != ppt:
        raise _bad(f"ppt={ppt!r} but the token says {header.get('ppt')!r}")
    value = f"{token};info=<{info}>;alg={alg}"
    return value if ppt is None else f"{value};ppt={ppt}"


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, pattern: re.Pattern[str]) -> str:
        match = pattern.match(self.text, self.pos)
        if not match or not match.group(0):
            raise _bad(f"unexpected character at offset {self.pos}")
        self.pos = match.end()
        return match.group(0)

    def until(self, stop: str) -> str:
        end = self.text.find(stop, self.pos)
        if end < 0:
            raise _bad(f"missing {stop!r}")
        value = self.text[self.pos:end]
        self.pos = end + 1
        return value

    def quoted(self) -> str:
        out: list[str] = []
        self.pos += 1  # opening quote
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                if self.pos >= len(self.text):
                    break
                char = self.text[self.pos]
                self.pos += 1
            out.append(char)
        raise _bad("unterminated quoted string")


_NAME = re.compile(r"[A-Za-z0-9.!%*_+`'~-]+")
_BARE_VALUE = re.compile(r"[^;\s\"<>]+")
# The strict form, exactly as format_identity writes it; anything else takes the tolerant scanner. Both give the
# same IdentityHeader for a strict value (tests/wallet/passport/test_identity_header.py checks this).
_STRICT = re.compile(r"([A-Za-z0-9_-]+\.([A-Za-z0-9_-]*)\.[A-Za-z0-9_-]+);info=<([A-Za-z][A-Za-z0-9+.-]*:"
                     r"[\x21\x23-\x3b\x3d\x3f-\x7e]+)>;alg=([A-Za-z0-9.!%*_+`'~-]+)(?:;ppt=([A-Za-z0-9.!%*_+`'~-]+))?")


def _param_value(scan: _Scanner) -> str:
    char = scan.peek()
    if char == "<":
        scan.pos += 1
        return scan.until(">")
    if char == '"':
        return scan.quoted()
    return scan.take(_BARE_VALUE)


def _params(scan: _Scanner) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    while True:
        scan.skip_ws()
        if scan.at_end():
            return params
        if scan.peek() != ";":
            raise _bad(f"expected ';' at offset {scan.pos}")
        scan.pos += 1
        scan.skip_ws()
        name = scan.take(_NAME).lower()
        scan.skip_ws()
        value = ""
        if scan.peek() == "=":
            scan.pos += 1
            scan.skip_ws()
            value = _param_value(scan)
        if any(name == seen for seen, _ in params):
            raise _bad(f"parameter {name!r} appears twice")
        params.append((name, value))


def parse_identity(value: str, *, max_len: int = MAX_HEADER_LENGTH) -> IdentityHeader:
    """Parse an Identity header value tolerantly (see the module docstring). Raises only :class:`PassportError`."""
    if not isinstance(value, str):
        raise TypeError(f"value must be str, not {type(value).__name__}")
    if len(value) > max_len:
        raise PassportError(f"header is {len(value)} characters, limit {max_len}", code="passport.too_large")
    if not _PRINTABLE.fullmatch(value):
        raise _bad("control or non-ASCII characters in the header")
    strict = _STRICT.fullmatch(value)
    if strict is not None:  # what format_identity writes: the common case, parsed in one regex match
        token, payload, info, alg, ppt = strict.groups()
        params = (("info", info), ("alg", alg)) + ((("ppt", ppt),) if ppt is not None else ())
        return IdentityHeader(token=token, info=info, alg=alg, ppt=ppt, params=params, compact=payload == "")
    return _tolerant(value)


def _tolerant(value: str) -> IdentityHeader:
    scan = _Scanner(value.strip(" \t"))
    match = _TOKEN.match(scan.text)
    if not match:
        raise _bad("no compact or full-form JWS at the start")
    scan.pos = match.end()
    params = _params(scan)
    found = dict(params)
    if "info" not in found:
        raise _bad("no info parameter")
    info = _check_uri(found["info"].strip(" \t"))
    return IdentityHeader(
        token=match.group(0),
        info=info,
        alg=found.get("alg"),
        ppt=found.get("ppt"),
        params=tuple(params),
        compact=match.group(1) == "",
    )
