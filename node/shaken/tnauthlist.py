"""RFC 8226 TNAuthList (id-pe-TNAuthList, 1.3.6.1.5.5.7.1.26): the one home of its canonical DER bytes.

ASN.1 (RFC 8226 §9; the module uses EXPLICIT tags, and every third-party vector agrees)::

    TNAuthorizationList ::= SEQUENCE SIZE (1..MAX) OF TNEntry
    TNEntry ::= CHOICE { spc [0] ServiceProviderCode, range [1] TelephoneNumberRange, one [2] TelephoneNumber }
    ServiceProviderCode ::= IA5String
    TelephoneNumberRange ::= SEQUENCE { start TelephoneNumber, count INTEGER (2..MAX), ... }
    TelephoneNumber ::= IA5String (SIZE (1..15)) (FROM ("0123456789#*"))

So ``spc "1001"`` is ``a0 06 16 04 31303031`` (explicit ``[0]`` wrapping an IA5String).

``decode(..., strict=True)`` accepts exactly that DER. ``strict=False`` additionally accepts the real-world
deviations found in the vectors, and records each in :attr:`TNAuthList.deviations`:

* ``"uri_instead_of_list"`` — the extension holds a bare IA5String URI (libstirshaken ``sp.pem``); the result
  has no entries and :attr:`TNAuthList.malformed_uri` set;
* ``"untagged_spc"`` — an entry is an untagged PrintableString/IA5String (Telonium "622K"); read as an SPC;
* ``"implicit_tags"`` — IMPLICIT instead of EXPLICIT tags (``80``/``82`` primitive, or ``a1`` holding start
  and count directly).

Extension additions after ``count`` in a range (the ``...`` marker) are kept verbatim in
:attr:`TNRangeEntry.extensions` so that re-encoding is byte-exact; they are not interpreted (Botan reads the
extra ``"222", 256`` of its test certificate as a second range; RFC 8226 gives it no meaning).
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

from . import _der
from .errors import BAD_CERTIFICATE, BAD_TNAUTHLIST, NO_TNAUTHLIST, ShakenError

__all__ = ["OID_TNAUTHLIST", "SPC", "TNRangeEntry", "TNOne", "TNEntry", "TNAuthList"]

OID_TNAUTHLIST = x509.ObjectIdentifier("1.3.6.1.5.5.7.1.26")
_TN_CHARS = frozenset("0123456789#*")
_TAG_SPC, _TAG_RANGE, _TAG_ONE = 0xA0, 0xA1, 0xA2


def _bad(message: str) -> ShakenError:
    return ShakenError(BAD_TNAUTHLIST, message)


def _check_tn(tn: object) -> None:
    if not isinstance(tn, str) or not 1 <= len(tn) <= 15 or not set(tn) <= _TN_CHARS:
        raise _bad(f"not a TelephoneNumber (1..15 of 0-9#*): {tn!r}")


@dataclass(frozen=True)
class SPC:
    """``spc [0] ServiceProviderCode``: an IA5String (ATIS-1000080 SP certificates carry exactly one)."""

    code: str

    def __post_init__(self) -> None:
        if not isinstance(self.code, str) or not self.code.isascii():
            raise _bad(f"ServiceProviderCode must be an IA5 (ASCII) string: {self.code!r}")

    def _encode(self) -> bytes:
        return _der.tlv(_TAG_SPC, _der.tlv(_der.IA5STRING, self.code.encode("ascii")))


@dataclass(frozen=True)
class TNRangeEntry:
    """``range [1] TelephoneNumberRange``: ``count`` numbers starting at ``start`` (same length)."""

    start: str
    count: int
    extensions: bytes = b""  # raw DER of extension additions after ``count``, re-encoded verbatim

    def __post_init__(self) -> None:
        _check_tn(self.start)
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 2:
            raise _bad(f"range count must be an INTEGER >= 2: {self.count!r}")
        try:
            _der.read_all(self.extensions)
        except (_der.DERError, TypeError) as exc:
            raise _bad(f"range extension additions are not DER: {exc}") from None

    def covers(self, tn: str) -> bool:
        if len(tn) != len(self.start) or not (tn.isdigit() and self.start.isdigit()):
            return False
        return int(self.start) <= int(tn) < int(self.start) + self.count

    def _encode(self) -> bytes:
        body = _der.tlv(_der.IA5STRING, self.start.encode()) + _der.encode_integer(self.count) + self.extensions
        return _der.tlv(_TAG_RANGE, _der.tlv(_der.SEQUENCE, body))


@dataclass(frozen=True)
class TNOne:
    """``one [2] TelephoneNumber``."""

    tn: str

    def __post_init__(self) -> None:
        _check_tn(self.tn)

    def _encode(self) -> bytes:
        return _der.tlv(_TAG_ONE, _der.tlv(_der.IA5STRING, self.tn.encode()))


TNEntry = SPC | TNRangeEntry | TNOne


@dataclass(frozen=True)
class TNAuthList:
    """A decoded TNAuthorizationList. ``malformed_uri``/``deviations`` are only ever set by a lenient decode."""

    entries: tuple[TNEntry, ...]
    malformed_uri: str | None = None
    deviations: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.entries, tuple) or not all(
            isinstance(e, (SPC, TNRangeEntry, TNOne)) for e in self.entries
        ):
            raise TypeError("entries must be a tuple of SPC / TNRangeEntry / TNOne")
        if not self.entries and self.malformed_uri is None:
            raise _bad("a TNAuthList has at least one entry")

    @property
    def spcs(self) -> tuple[str, ...]:
        """The Service Provider Codes, in order."""
        return tuple(e.code for e in self.entries if isinstance(e, SPC))

    def covers(self, tn: str) -> bool:
        """True if a ``one`` or ``range`` entry names ``tn`` (an SPC alone authorizes no specific number)."""
        for e in self.entries:
            if isinstance(e, TNOne) and e.tn == tn:
                return True
            if isinstance(e, TNRangeEntry) and e.covers(tn):
                return True
        return False

    def encode(self) -> bytes:
        """Canonical RFC 8226 DER (EXPLICIT tags). A lenient-only URI form cannot be encoded."""
        if not self.entries:
            raise _bad("a URI-only (malformed) TNAuthList has no DER encoding")
        return _der.tlv(_der.SEQUENCE, b"".join(e._encode() for e in self.entries))

    @classmethod
    def decode(cls, der: bytes, *, strict: bool = True) -> TNAuthList:
        """Parse extnValue bytes. Any malformed input raises ``ShakenError("shaken.bad_tnauthlist")``."""
        if not isinstance(der, (bytes, bytearray, memoryview)):
            raise TypeError("der must be bytes")
        try:
            return _decode(bytes(der), strict)
        except _der.DERError as exc:
            raise _bad(f"not DER: {exc}") from None
        except UnicodeDecodeError:
            raise _bad("string is not IA5 (ASCII)") from None

    @classmethod
    def from_certificate(cls, cert: x509.Certificate, *, strict: bool = True) -> TNAuthList:
        """The TNAuthList extension of ``cert``; missing → ``shaken.no_tnauthlist``."""
        try:
            ext = cert.extensions.get_extension_for_oid(OID_TNAUTHLIST)
        except x509.ExtensionNotFound:
            raise ShakenError(NO_TNAUTHLIST, "certificate has no TNAuthList extension") from None
        except ValueError as exc:
            raise ShakenError(BAD_CERTIFICATE, f"certificate extensions do not parse: {exc}") from None
        value = ext.value
        if not isinstance(value, x509.UnrecognizedExtension):
            raise _bad("unexpected TNAuthList extension type")
        return cls.decode(value.value, strict=strict)

    def to_extension(self) -> x509.UnrecognizedExtension:
        """The extension value to add to a certificate builder."""
        return x509.UnrecognizedExtension(OID_TNAUTHLIST, self.encode())


def _ia5(item: _der.TLV, strict: bool) -> str:
    if item.tag != _der.IA5STRING and not (not strict and item.tag == _der.PRINTABLESTRING):
        raise _bad(f"expected IA5String, got tag 0x{item.tag:02x}")
    return item.body.decode("ascii")


def _only(body: bytes) -> _der.TLV:
    items = _der.read_all(body)
    if len(items) != 1:
        raise _bad("explicit tag must wrap exactly one value")
    return items[0]


def _range(body: bytes, strict: bool) -> TNRangeEntry:
    items = _der.read_all(body)
    if len(items) < 2 or items[1].tag != _der.INTEGER:
        raise _bad("TelephoneNumberRange needs start and count")
    extensions = b"".join(i.raw for i in items[2:])
    return TNRangeEntry(_ia5(items[0], strict), _der.decode_integer(items[1].body), extensions)


def _entry(item: _der.TLV, strict: bool, deviations: list[str]) -> TNEntry:
    if item.tag == _TAG_SPC:
        return SPC(_ia5(_only(item.body), strict))
    if item.tag == _TAG_ONE:
        return TNOne(_ia5(_only(item.body), strict))
    if item.tag == _TAG_RANGE:
        items = _der.read_all(item.body)
        if len(items) == 1 and items[0].tag == _der.SEQUENCE:
            return _range(items[0].body, strict)
        if not strict:
            deviations.append("implicit_tags")
            return _range(item.body, strict)
        raise _bad("range [1] must wrap a SEQUENCE")
    if not strict:
        if item.tag in (_der.IA5STRING, _der.PRINTABLESTRING):
            deviations.append("untagged_spc")
            return SPC(_ia5(item, strict))
        if item.tag in (0x80, 0x82):
            deviations.append("implicit_tags")
            text = item.body.decode("ascii")
            return SPC(text) if item.tag == 0x80 else TNOne(text)
    raise _bad(f"unknown TNEntry tag 0x{item.tag:02x}")


def _decode(der: bytes, strict: bool) -> TNAuthList:
    outer, end = _der.read_one(der)
    if end != len(der):
        raise _bad("trailing bytes after TNAuthList")
    if outer.tag == _der.IA5STRING and not strict:
        return TNAuthList((), malformed_uri=outer.body.decode("ascii"), deviations=("uri_instead_of_list",))
    if outer.tag != _der.SEQUENCE:
        raise _bad(f"TNAuthList must be a SEQUENCE, got tag 0x{outer.tag:02x}")
    deviations: list[str] = []
    entries = tuple(_entry(item, strict, deviations) for item in _der.read_all(outer.body))
    if not entries:
        raise _bad("TNAuthList is empty")
    return TNAuthList(entries, deviations=tuple(dict.fromkeys(deviations)))
