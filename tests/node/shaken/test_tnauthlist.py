"""TNAuthList (RFC 8226): third-party vectors, strict vs lenient, byte-exact re-encoding, fuzzing."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import given
from hypothesis import strategies as st

from node.shaken import SPC, ShakenError, TNAuthList, TNOne, TNRangeEntry
from node.shaken.errors import BAD_TNAUTHLIST, NO_TNAUTHLIST

CERTS = Path(__file__).resolve().parents[2] / "vectors" / "shaken" / "certs"
BOTAN_HEX = "3025a006160431303031a1143012160331313102020080160332323202020100a2051603333333"
LSS_URI = "ca.shaken.signalwire.cloud/sti-ca/acme/TNAuthList"


def cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS / name).read_bytes())


def test_botan_entries_decoded_exactly_and_reencoded_byte_exact() -> None:
    tal = TNAuthList.from_certificate(cert("botan_TNAuthList.pem"))
    assert tal.entries == (
        SPC("1001"),
        TNRangeEntry("111", 128, extensions=bytes.fromhex("160332323202020100")),
        TNOne("333"),
    )
    assert tal.encode().hex() == BOTAN_HEX
    assert tal.spcs == ("1001",)
    assert tal.deviations == () and tal.malformed_uri is None


def test_botan_coverage() -> None:
    tal = TNAuthList.decode(bytes.fromhex(BOTAN_HEX))
    assert tal.covers("333") and tal.covers("111") and tal.covers("238")
    assert not tal.covers("239") and not tal.covers("110") and not tal.covers("1001") and not tal.covers("0333")


def test_martini_compliant_strict() -> None:
    tal = TNAuthList.from_certificate(cert("martini_SHAKEN_9627_compliant.pem"))
    assert tal.entries == (SPC("9627"),)
    assert tal.encode().hex() == "3008a006160439363237"


@pytest.mark.parametrize("name", ["asterisk_ts_SPAST1-cert.pem", "asterisk_ts_SPAST2-cert.pem"])
def test_asterisk_sp_certs(name: str) -> None:
    assert TNAuthList.from_certificate(cert(name)).spcs == (name[17],)


@pytest.mark.parametrize(
    "name",
    ["telonium_622K_bad_tnauthlist.pem", "libstirshaken_sp.pem", "asterisk_ts_SPAST1-caexp-cert.pem"],
)
def test_malformed_refused_in_strict_mode(name: str) -> None:
    with pytest.raises(ShakenError) as info:
        TNAuthList.from_certificate(cert(name))
    assert info.value.code == BAD_TNAUTHLIST


def test_telonium_lenient_reads_untagged_spc() -> None:
    tal = TNAuthList.from_certificate(cert("telonium_622K_bad_tnauthlist.pem"), strict=False)
    assert tal.entries == (SPC("622K"),) and tal.deviations == ("untagged_spc",)
    assert tal.encode().hex() == "3008a00616043632324b"  # canonical form, not the input


def test_libstirshaken_lenient_flags_uri() -> None:
    tal = TNAuthList.from_certificate(cert("libstirshaken_sp.pem"), strict=False)
    assert tal.entries == () and tal.malformed_uri == LSS_URI and tal.deviations == ("uri_instead_of_list",)
    assert tal.spcs == () and not tal.covers("1")
    with pytest.raises(ShakenError):
        tal.encode()


def test_garbage_refused_even_lenient() -> None:
    with pytest.raises(ShakenError) as info:
        TNAuthList.from_certificate(cert("asterisk_ts_SPAST1-caexp-cert.pem"), strict=False)
    assert info.value.code == BAD_TNAUTHLIST


def test_missing_extension() -> None:
    with pytest.raises(ShakenError) as info:
        TNAuthList.from_certificate(cert("asterisk_ts_astdev-ca.crt"))
    assert info.value.code == NO_TNAUTHLIST


@pytest.mark.parametrize(
    ("hexder", "entries"),
    [
        ("3006800431303031", (SPC("1001"),)),  # implicit [0]
        ("30058203333333", (TNOne("333"),)),  # implicit [2]
        ("300ba109160331313102020080", (TNRangeEntry("111", 128),)),  # implicit [1]: start, count directly
    ],
)
def test_implicit_tags_strict_vs_lenient(hexder: str, entries: tuple[object, ...]) -> None:
    der = bytes.fromhex(hexder)
    with pytest.raises(ShakenError):
        TNAuthList.decode(der)
    tal = TNAuthList.decode(der, strict=False)
    assert tal.entries == entries and tal.deviations == ("implicit_tags",)


@pytest.mark.parametrize(
    "hexder",
    [
        "",
        "3000",  # empty list
        "3009a00616043936323700",  # junk byte inside the SEQUENCE
        "3008a006160439363237ff",  # trailing byte outside
        "308108a006160439363237",  # non-minimal length
        "3080a006160439363237",  # indefinite length
        "300aa1083006160131020101",  # count 1 (< 2)
        "300ca10a30081601310203000080",  # count not minimally encoded
        "3007a2051603616263",  # 'abc' not a TelephoneNumber
        "3016a2141612313233343536373839303132333435363738",  # 18 digits > 15
        "3008a0061604963a3237",  # non-ASCII
        "300aa0081604393632370500",  # two values in [0]
        "3008a306160439363237",  # unknown tag [3]
    ],
)
def test_strict_rejects(hexder: str) -> None:
    with pytest.raises(ShakenError) as info:
        TNAuthList.decode(bytes.fromhex(hexder))
    assert info.value.code == BAD_TNAUTHLIST


def test_round_trip_delegate_style() -> None:
    tal = TNAuthList((TNRangeEntry("12155550100", 100), TNOne("12155551212")))
    der = tal.encode()
    assert der.hex() == "3023a1123010160b3132313535353530313030020164a20d160b3132313535353531323132"  # research T8
    assert TNAuthList.decode(der) == tal
    assert tal.covers("12155550199") and not tal.covers("12155550200")


def test_constructor_validates() -> None:
    with pytest.raises(ShakenError):
        TNOne("+1215")
    with pytest.raises(ShakenError):
        TNRangeEntry("100", 1)
    with pytest.raises(ShakenError):
        TNAuthList(())


@given(st.binary(max_size=64), st.booleans())
def test_decode_raises_only_shaken_error(data: bytes, strict: bool) -> None:
    try:
        tal = TNAuthList.decode(data, strict=strict)
    except ShakenError as exc:
        assert exc.code == BAD_TNAUTHLIST
        return
    if strict:
        assert tal.encode() == data


tn = st.text(alphabet="0123456789#*", min_size=1, max_size=15)
entry = st.one_of(
    st.builds(SPC, st.text(alphabet=st.characters(max_codepoint=127), max_size=20)),
    st.builds(TNRangeEntry, tn, st.integers(min_value=2, max_value=2**70)),
    st.builds(TNOne, tn),
)


@given(st.lists(entry, min_size=1, max_size=6))
def test_round_trip_property(entries: list[SPC | TNRangeEntry | TNOne]) -> None:
    tal = TNAuthList(tuple(entries))
    assert TNAuthList.decode(tal.encode()) == tal


@given(st.lists(entry, min_size=1, max_size=4), st.data())
def test_mutations_raise_only_shaken_error(entries: list[SPC | TNRangeEntry | TNOne], data: st.DataObject) -> None:
    der = bytearray(TNAuthList(tuple(entries)).encode())
    i = data.draw(st.integers(min_value=0, max_value=len(der) - 1))
    der[i] = data.draw(st.integers(min_value=0, max_value=255))
    for strict in (True, False):
        try:
            TNAuthList.decode(bytes(der), strict=strict)
        except ShakenError:
            pass
