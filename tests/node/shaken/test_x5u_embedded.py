"""The x5u SSRF guard on IPv6 forms that carry an IPv4 address (issue 9): 6to4, Teredo, NAT64 (well-known and
local-use prefixes), IPv4-mapped, IPv4-compatible and IPv4-translated, each with a non-public and a public IPv4,
as a URL literal and as a DNS answer. Nothing here opens a connection: refusals come before any."""

from __future__ import annotations

import ipaddress

import pytest

from node.shaken.errors import X5U_REFUSED, ShakenError
from node.shaken.x5u import CertFetcher, check_address, check_url

PUBLIC_V4 = "93.184.215.14"

# (address, embedded IPv4 named in the refusal or None when the address is public)
REFUSED = [
    ("2002:7f00:1::", "127.0.0.1"),  # the report: 6to4 form of 127.0.0.1
    ("2002:a00:1::1", "10.0.0.1"),
    ("2002:a9fe:a9fe::", "169.254.169.254"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # Teredo (RFC 4380 example): client TEST-NET-1
    ("2001:0:7f00:1:8000:63bf:a247:28f1", "127.0.0.1"),  # Teredo server 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:a247:28f1", "65.54.227.120"),  # Teredo with both public: refused as a range
    ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64 well-known prefix
    ("64:ff9b::a9fe:a9fe", "169.254.169.254"),
    ("64:ff9b::10.1.2.3", "10.1.2.3"),
    ("64:ff9b:1::7f00:1", None),  # NAT64 local-use (RFC 8215): never global
    ("64:ff9b:1::5db8:d70e", None),
    ("::ffff:127.0.0.1", "127.0.0.1"),  # IPv4-mapped
    ("::ffff:192.168.1.1", "192.168.1.1"),
    ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible (deprecated)
    ("::93.184.215.14", "93.184.215.14"),
    ("::ffff:0:127.0.0.1", "127.0.0.1"),  # IPv4-translated (RFC 2765)
    ("::ffff:0:93.184.215.14", "93.184.215.14"),
    ("fec0::1", None),  # deprecated site-local; ipaddress 3.11 calls it global
    ("3fff::1", None),  # documentation (RFC 9637); ipaddress 3.11 calls it global
    ("5f00::1", None),  # SRv6 SIDs (RFC 9602)
    ("2001:db8::1", None),
    ("fd00::1", None),
    ("fe80::1%eth0", None),
    ("ff0e::1", None),
    ("::1", None),
    ("::", None),
    ("127.0.0.1", None),
    ("100.64.0.1", None),
]
PUBLIC = [
    "2002:5db8:d70e::",  # 6to4 of a public address
    "64:ff9b::5db8:d70e",  # NAT64 (DNS64 answer on an IPv6-only node) of a public address
    "64:ff9b::93.184.215.14",
    "::ffff:93.184.215.14",  # IPv4-mapped public
    "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    PUBLIC_V4,
]


def test_the_table_is_what_it_says() -> None:
    """The test addresses are the forms they are named after (the Teredo rows de-obfuscate as stated)."""
    assert ipaddress.IPv6Address("2002:7f00:1::").sixtofour == ipaddress.IPv4Address("127.0.0.1")
    server, client = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:a247:28f1").teredo or (None, None)
    assert (str(server), str(client)) == ("65.54.227.120", PUBLIC_V4)
    assert ipaddress.IPv6Address("2002:5db8:d70e::").sixtofour == ipaddress.IPv4Address(PUBLIC_V4)


@pytest.mark.parametrize(("address", "embedded"), REFUSED, ids=[a for a, _ in REFUSED])
def test_check_address_refuses(address: str, embedded: str | None) -> None:
    with pytest.raises(ShakenError) as info:
        check_address(address)
    assert info.value.code == X5U_REFUSED
    if embedded is not None:
        assert embedded in info.value.message


@pytest.mark.parametrize("address", PUBLIC)
def test_check_address_allows_public(address: str) -> None:
    check_address(address)


def test_check_address_refuses_what_is_not_an_address() -> None:
    with pytest.raises(ShakenError) as info:
        check_address("certs.example.com")
    assert info.value.code == X5U_REFUSED


def _literal(address: str) -> str:
    host = address.replace("%", "%25")
    return f"[{host}]" if ":" in address else host


@pytest.mark.parametrize(("address", "embedded"), REFUSED, ids=[a for a, _ in REFUSED])
def test_literal_hosts_are_refused_before_any_lookup(address: str, embedded: str | None) -> None:
    """As a URL literal (production mode) the address is refused with the URL: no resolver call, no connection."""
    asked: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        return [host]

    url = f"https://{_literal(address)}/sp.pem"
    with pytest.raises(ShakenError) as info:
        check_url(url)
    assert info.value.code == X5U_REFUSED
    with CertFetcher(resolver=resolver, timeout=5.0) as fetcher:
        with pytest.raises(ShakenError) as info:
            fetcher.fetch(url)
        assert info.value.code == X5U_REFUSED and asked == []
        assert fetcher.failures == 1


def test_the_reported_literal() -> None:
    """Issue 9's URL, verbatim."""
    with CertFetcher(resolver=lambda host, port: [host], timeout=5.0) as fetcher:
        with pytest.raises(ShakenError) as info:
            fetcher.fetch("https://[2002:7f00:1::]/")
    assert info.value.code == X5U_REFUSED and "127.0.0.1" in info.value.message


@pytest.mark.parametrize(("address", "embedded"), REFUSED, ids=[a for a, _ in REFUSED])
def test_dns_answers_are_refused(address: str, embedded: str | None) -> None:
    """The same addresses as the DNS answer for a name (alone, or after a public one) are refused."""
    for answer in ([address], [PUBLIC_V4, address]):
        def resolver(host: str, port: int, answer: list[str] = answer) -> list[str]:
            return answer

        with CertFetcher(resolver=resolver, timeout=5.0) as fetcher:
            with pytest.raises(ShakenError) as info:
                fetcher.fetch("https://certs.example.com/sp.pem")
        assert info.value.code == X5U_REFUSED and "resolves to" in info.value.message
        if embedded is not None:
            assert embedded in info.value.message


def test_insecure_mode_still_allows_local_literals() -> None:
    assert check_url("http://[::ffff:127.0.0.1]:8080/sp.pem", allow_insecure=True).hostname == "::ffff:127.0.0.1"
    assert check_url("http://[2002:7f00:1::]:8080/sp.pem", allow_insecure=True).port == 8080
