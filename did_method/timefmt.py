"""Dates and times as the project writes and reads them: the XML Schema ``dateTimeStamp`` of DID Core metadata
(``created``, ``updated``, ``versionTime``), VC Data Model 2.0 ``validFrom`` / ``validUntil``, Data Integrity
``created`` / ``expires`` and DID Auth evidence. The one parser and the one writer; it lives here, the lowest package
that needs it, so that ``wallet`` and ``node`` use the same one.

Decisions:

* **Read exactly the XML Schema form**: ``YYYY-MM-DDThh:mm:ss``, an optional fraction, and a time zone (``Z`` or
  ``±hh:mm``) that is required, with ASCII digits. Not ``datetime.fromisoformat`` alone: since Python 3.11 it also
  reads ISO 8601 forms XML Schema does not have (``20240101T000000Z``, week dates ``2024-W01-1``, a space for
  ``T``, no seconds, ``,5``), and a time without a zone as *local* time, so the same text would mean another
  instant on another machine. A fraction beyond microseconds is cut off (the pattern has no nested repetition:
  matching is linear in the length of untrusted text).
* **Write one form**: UTC, ``Z``, whole seconds (``2026-11-28T17:00:00Z``), so a value we write reads back to the
  same second and compares as text.
* Readers return ``None`` for what is not a ``dateTimeStamp``; callers raise their own typed error
  (``vc.proof_malformed``, ``invalidOptions``, ``wallet.bad_credential``, ``didauth.malformed``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["read_date_time_stamp", "parse_date_time_stamp", "xml_datetime"]

_DATE_TIME_STAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})T(?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?P<fraction>\.[0-9]+)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})")


def read_date_time_stamp(text: object) -> datetime | None:
    """An XML Schema ``dateTimeStamp`` as an aware datetime (in its own offset), or None if ``text`` is not one."""
    match = _DATE_TIME_STAMP.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    fraction = (match["fraction"] or "")[:7]
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    try:
        return datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{zone}")
    except ValueError:  # 2023-02-30, 25:00, an offset of a day or more
        return None


def parse_date_time_stamp(text: object) -> int | None:
    """An XML Schema ``dateTimeStamp`` as Unix seconds (a fraction truncated), or None if ``text`` is not one.
    The inverse of :func:`xml_datetime`."""
    when = read_date_time_stamp(text)
    return None if when is None else int(when.timestamp())


def xml_datetime(when: int | float | datetime) -> str:
    """Unix seconds, or an aware datetime, as an XML Schema ``dateTimeStamp`` in UTC without fractional seconds."""
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("a datetime to write must be aware (have a time zone)")
        moment = when.astimezone(UTC)
    else:
        moment = datetime.fromtimestamp(when, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
