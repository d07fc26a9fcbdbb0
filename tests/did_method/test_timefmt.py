"""did_method.timefmt: the one reader and writer of XML Schema dateTimeStamp values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from did_method.timefmt import parse_date_time_stamp, read_date_time_stamp, xml_datetime

T = 1_800_000_000  # 2027-01-15T08:00:00Z


@pytest.mark.parametrize(("text", "expected"), [
    ("2027-01-15T08:00:00Z", T),
    ("2027-01-15T09:30:00+01:30", T),
    ("2027-01-15T03:00:00-05:00", T),
    ("2027-01-15T08:00:00.999999999Z", T),  # a fraction is cut, not rounded
    ("2024-02-29T23:59:59Z", 1_709_251_199),
])
def test_reads_xml_schema_date_time_stamps(text: str, expected: int) -> None:
    assert parse_date_time_stamp(text) == expected


def test_keeps_the_fraction_and_the_offset() -> None:
    when = read_date_time_stamp("2027-01-15T09:30:00.25+01:30")
    assert when == datetime(2027, 1, 15, 8, 0, 0, 250_000, tzinfo=UTC)
    assert when is not None and when.utcoffset() == timedelta(hours=1, minutes=30)


@pytest.mark.parametrize("text", [
    "2027-01-15T08:00:00",  # no time zone: fromisoformat would read local time
    "20270115T080000Z", "2027-W03-5T08:00:00Z", "2027-01-15 08:00:00Z", "2027-01-15T08:00Z",
    "2027-01-15T08:00:00,5Z", "2027-01-15T08:00:00.Z", "2027-01-15",  # ISO 8601 forms XML Schema does not have
    "2027-02-30T08:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:60Z", "2027-01-15T08:00:00+24:00",
    "２０２７-01-15T08:00:00Z", "2027-01-15T08:00:00z", " 2027-01-15T08:00:00Z", "2027-01-15T08:00:00Z\n",
    "", "yesterday", None, T, b"2027-01-15T08:00:00Z",
])
def test_refuses_everything_else(text: object) -> None:
    assert read_date_time_stamp(text) is None and parse_date_time_stamp(text) is None


def test_writes_utc_whole_seconds() -> None:
    assert xml_datetime(T) == "2027-01-15T08:00:00Z"
    assert xml_datetime(T + 0.9) == "2027-01-15T08:00:00Z"
    assert xml_datetime(datetime(2027, 1, 15, 3, 0, 0, 500, tzinfo=timezone(timedelta(hours=-5)))) == \
        "2027-01-15T08:00:00Z"
    with pytest.raises(ValueError):
        xml_datetime(datetime(2027, 1, 15, 8, 0, 0))  # naive: which instant?


@given(st.integers(0, 253_402_300_799))  # up to 9999-12-31T23:59:59Z
def test_round_trip(ts: int) -> None:
    assert parse_date_time_stamp(xml_datetime(ts)) == ts
