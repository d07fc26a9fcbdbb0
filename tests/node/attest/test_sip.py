"""From SIP header values to a CallRequest: URI forms, PAI over From, anonymous callers, Date."""

from __future__ import annotations

import pytest

from node.attest import CallRequest, SipInputError
from node.attest.sip import parse_date, tn_of


@pytest.mark.parametrize("value, tn", [
    ('"Acme" <sip:+12025550142@pbx.example;user=phone>;tag=1', "12025550142"),
    ("<sip:12025550142@pbx.example>", "12025550142"),
    ("sip:+1-202-555-0142@pbx.example;tag=x", "12025550142"),
    ("<sips:+12025550142;npdi@pbx.example>", "12025550142"),
    ("<tel:+1-202-555-0142;phone-context=example.com>", "12025550142"),
    ("tel:+12025550142", "12025550142"),
    ("<sip:anonymous@anonymous.invalid>", None),
    ('"Anonymous" <sip:Restricted@x>', None),
])
def test_uri_forms(value: str, tn: str | None) -> None:
    assert tn_of(value, "From") == tn


@pytest.mark.parametrize("value", ["<mailto:a@b>", "<sip:pbx.example>", "<sip:alice@pbx.example>", "12025550142",
                                   "<sip:+1202@x", "x\x00y", "a" * 2000, "<>;"])
def test_bad_uris(value: str) -> None:
    with pytest.raises(SipInputError) as info:
        tn_of(value, "From")
    assert info.value.code == "sip.bad_uri"


def test_pai_wins_and_anonymous_without_pai_fails() -> None:
    req = CallRequest.from_sip(trunk="t", from_="<sip:anonymous@x>", pai="<tel:+12025550143>", to="<sip:+1310@x>")
    assert (req.orig, req.dest) == ("12025550143", ("1310",))
    assert CallRequest.from_sip(trunk="t", from_="<sip:+12025550142@x>", pai="<sip:anonymous@x>",
                                to="<tel:1310>").orig == "12025550142"
    for kw, code in (({"from_": "<sip:anonymous@x>"}, "sip.no_orig"), ({"from_": None}, "sip.no_orig"),
                     ({"from_": "<tel:1202>", "trunk": ""}, "sip.bad_trunk"),
                     ({"from_": "<tel:1202>", "identities": ("x",) * 9}, "sip.too_many_identities")):
        args = {"trunk": "t", "to": "<tel:1310>", **kw}
        with pytest.raises(SipInputError) as info:
            CallRequest.from_sip(**args)  # type: ignore[arg-type]
        assert info.value.code == code


def test_date() -> None:
    assert parse_date("Sat, 28 Nov 2026 19:00:00 GMT") == 1795892400
    for bad in ("yesterday", "", "Sat, 28 Nov 2026", "32 Nov 2026 19:00:00 GMT",
                # found by tests/fuzz: numbers too large for datetime raised OverflowError
                "28 Nov 26 15555555555555555555555555:55:00 -0500", "Sat, 28 Nov 99999999999999999999 19:00:00 GMT",
                "Sat, 28 Nov 2026 19:00:00 +99999999999999999999"):
        with pytest.raises(SipInputError) as info:
            parse_date(bad)
        assert info.value.code == "sip.bad_date"
