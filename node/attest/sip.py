"""From the SIP request to a :class:`CallRequest`: calling and called numbers, Date, the Identity headers.

``orig`` is taken from P-Asserted-Identity when it carries a number, else from From (ATIS-1000074 §5.2.3; an
anonymous From with a PAI number is the usual withheld-caller case). ``dest`` is the To number. Both are
canonicalized as PASSporTs carry them (digits, ``*``, ``#``; ``+`` and visual separators dropped). Accepted URI
forms: ``sip:``/``sips:`` user parts (``user=phone`` or not) and ``tel:``, in name-addr (``"Name" <uri>;tag=…``) or
addr-spec form. Anything else raises :class:`SipInputError` with a ``sip.*`` code.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

from node.errors import NodeError
from wallet.passport import PassportError, canonical_tn

__all__ = ["CallRequest", "SipInputError", "tn_of", "parse_date", "MAX_IDENTITIES"]

MAX_IDENTITIES = 8
_ANONYMOUS = re.compile(r"anonymous|unavailable|restricted|private", re.I)


class SipInputError(NodeError):
    code = "sip.bad_header"


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What the OSP knows about one call: the customer trunk it came in on and the SIP facts."""

    trunk: str
    orig: str
    dest: tuple[str, ...]
    identities: tuple[str, ...] = ()
    date: int | None = None

    @classmethod
    def from_sip(cls, *, trunk: str, from_: str | None, to: str, pai: str | None = None, date: str | None = None,
                 identities: tuple[str, ...] = ()) -> CallRequest:
        if not isinstance(trunk, str) or not 0 < len(trunk) <= 64:
            raise SipInputError("the trunk id must be 1 to 64 characters", code="sip.bad_trunk")
        orig = tn_of(pai, "P-Asserted-Identity") if pai else None
        if orig is None and from_:
            orig = tn_of(from_, "From")
        if orig is None:
            raise SipInputError("neither P-Asserted-Identity nor From carries a calling number", code="sip.no_orig")
        dest = tn_of(to, "To")
        if dest is None:
            raise SipInputError("To carries no called number", code="sip.bad_uri")
        if len(identities) > MAX_IDENTITIES:
            raise SipInputError(f"at most {MAX_IDENTITIES} Identity headers per call", code="sip.too_many_identities")
        return cls(trunk, orig, (dest,), tuple(identities), parse_date(date) if date else None)


def _uri(value: str) -> str:
    if "<" in value:
        start, end = value.find("<"), value.find(">")
        if end < start:
            raise SipInputError(f"unbalanced <> in {value[:60]!r}", code="sip.bad_uri")
        return value[start + 1:end].strip()
    return value.split(";", 1)[0].strip()


def tn_of(value: str | None, what: str) -> str | None:
    """The telephone number a From / PAI / To value carries; None for an anonymous identity."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 1024 or any(ord(c) < 0x20 for c in value):
        raise SipInputError(f"{what} is not a SIP header value", code="sip.bad_uri")
    uri = _uri(value)
    scheme, sep, rest = uri.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise SipInputError(f"{what} {uri[:60]!r} is not a sip:, sips: or tel: URI", code="sip.bad_uri")
    if scheme == "tel":
        user = rest.split(";", 1)[0]
    elif scheme in ("sip", "sips"):
        if "@" not in rest:
            raise SipInputError(f"{what} {uri[:60]!r} has no user part", code="sip.bad_uri")
        user = rest.rsplit("@", 1)[0].split(";", 1)[0]
    else:
        raise SipInputError(f"{what}: scheme {scheme[:10]!r} is not sip, sips or tel", code="sip.bad_uri")
    if _ANONYMOUS.fullmatch(user):
        return None
    try:
        return canonical_tn(user, what)
    except PassportError:
        raise SipInputError(f"{what} user part {user[:40]!r} is not a telephone number", code="sip.bad_uri") from None


def parse_date(value: str) -> int:
    """The SIP Date header (RFC 3261 §20.17, an RFC 1123 date in GMT) as Unix seconds."""
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: a field too large for datetime
        dt = None
    if dt is None or dt.tzinfo is None:
        raise SipInputError(f"Date {str(value)[:40]!r} is not an RFC 1123 date (e.g. Sat, 28 Nov 2026 19:00:00 GMT)",
                            code="sip.bad_date")
    return int(dt.timestamp())
