"""The SIP Identity header: strict formatting, tolerant parsing of real-world quirks, refusal of garbage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.keys import Ed25519Key, P256Key
from wallet.passport import CODES, PassportError, decode, encode, format_identity, parse_identity

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "shaken"
TOKENS: dict[str, dict[str, str]] = json.loads((VECTORS / "tokens.json").read_text())
NEUSTAR = [line for line in (VECTORS / "neustar_examples.txt").read_text().splitlines()
           if line and not line.startswith("#")]
RFC_VALUE = TOKENS["RFC8224_sec4_example"]["value"]
RFC_TOKEN = RFC_VALUE.split(";", 1)[0]


def bad(value: str, **kwargs: int) -> str:
    with pytest.raises(PassportError) as info:
        parse_identity(value, **kwargs)
    assert info.value.code in CODES
    return info.value.code


# -- vectors ----------------------------------------------------------------------------------------------------


def test_rfc8224_example() -> None:
    header = parse_identity(RFC_VALUE)
    assert header.token == RFC_TOKEN
    assert header.info == "https://biloxi.example.org/biloxi.cert"
    assert (header.alg, header.ppt, header.compact) == (None, None, False)
    assert decode(header.token).header["x5u"] != header.info  # the RFC's own info/x5u mismatch


@pytest.mark.parametrize("name", [n for n in sorted(TOKENS) if ";" in TOKENS[n]["value"]])
def test_third_party_sip_identity_values(name: str) -> None:
    header = parse_identity(TOKENS[name]["value"])
    assert decode(header.token).alg == "ES256"
    assert header.info.startswith("http")


def test_neustar_examples_parse_with_their_quirks() -> None:
    assert len(NEUSTAR) == 13
    ppts = set()
    for value in NEUSTAR:
        header = parse_identity(value)
        parsed = decode(header.token)
        assert header.alg == "ES256" and not header.compact
        assert header.ppt == parsed.header.get("ppt")  # quoted ppt="shaken" is unquoted
        ppts.add(header.ppt)
    assert ppts == {"shaken", "div", "rph", "rcd", None}


def test_neustar_info_without_angle_brackets() -> None:
    [value] = [v for v in NEUSTAR if ";info=https:" in v]
    header = parse_identity(value)
    assert header.info == "https://cr-uat.ccid.neustar.biz/ccid/authn/v2/certs/11479.10001"
    assert header.ppt == "shaken"


def test_compact_form() -> None:
    first, _, last = RFC_TOKEN.split(".")
    header = parse_identity(f"{first}..{last};info=<https://biloxi.example.org/biloxi.cert>;alg=ES256")
    assert header.compact and header.token == f"{first}..{last}"
    with pytest.raises(PassportError):
        decode(header.token)  # the payload must be rebuilt from the SIP message first


# -- tolerance --------------------------------------------------------------------------------------------------


def test_whitespace_case_and_quotes() -> None:
    value = (f"  {RFC_TOKEN} ; INFO = <https://x.example/c.pem> ;Alg= \"ES256\" ; PPT=\"shaken\" ;"
             " Extra ; foo=\"a;b\\\"c\"  ")
    header = parse_identity(value)
    assert (header.token, header.info, header.alg, header.ppt) == (RFC_TOKEN, "https://x.example/c.pem", "ES256",
                                                                  "shaken")
    assert header.params == (("info", "https://x.example/c.pem"), ("alg", "ES256"), ("ppt", "shaken"), ("extra", ""),
                             ("foo", 'a;b"c'))
    assert header.param("FOO") == 'a;b"c' and header.param("missing") is None


def test_info_with_semicolon_inside_brackets() -> None:
    assert parse_identity(f"{RFC_TOKEN};info=<sip:cert@example.org;transport=tls>").info == (
        "sip:cert@example.org;transport=tls")


# -- garbage ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [
    "",
    "   ",
    "Identity: " + RFC_VALUE,  # the header name is not part of the value
    RFC_TOKEN,  # no info
    f"{RFC_TOKEN};alg=ES256",  # no info
    f"{RFC_TOKEN};info=",
    f"{RFC_TOKEN};info=<>",
    f"{RFC_TOKEN};info=<https://x/c",  # unterminated
    f"{RFC_TOKEN};info=not a uri",
    f"{RFC_TOKEN};info=relative/path",
    f"{RFC_TOKEN};info=<https://x/c>;ppt=\"shaken",  # unterminated quote
    f"{RFC_TOKEN};info=<https://x/c>;info=<https://y/c>",  # duplicate parameter
    f"{RFC_TOKEN};info=<https://x/c>;PPT=shaken;ppt=div",
    f"{RFC_TOKEN};info=<https://x/c>;;alg=ES256",
    f"{RFC_TOKEN};info=<https://x/c> alg=ES256",
    f"{RFC_TOKEN} junk;info=<https://x/c>",
    f"{RFC_TOKEN};info=<https://x/c>\r\n;alg=ES256",  # CR LF inside the value
    f"{RFC_TOKEN};info=<https://x/c>;alg=ES256;ppt=shaken\x00",
    f"{RFC_TOKEN};info=<https://x/é>",
    "a.b;info=<https://x/c>",  # two segments
    "a.b.c.d;info=<https://x/c>",
    ".b.c;info=<https://x/c>",
    "a+b.c.d;info=<https://x/c>",
])
def test_garbage_is_bad_header(value: str) -> None:
    assert bad(value) == "passport.bad_header"


def test_oversized() -> None:
    assert bad(RFC_VALUE, max_len=len(RFC_VALUE) - 1) == "passport.too_large"
    assert parse_identity(RFC_VALUE, max_len=len(RFC_VALUE)).token == RFC_TOKEN
    assert bad(f"{RFC_TOKEN};info=<https://x/c>;x={'a' * 20000}") == "passport.too_large"


def test_misuse_raises_type_error() -> None:
    with pytest.raises(TypeError):
        parse_identity(b"x")  # type: ignore[arg-type]


@given(st.text(max_size=300))
def test_parse_raises_only_passport_errors(text: str) -> None:
    try:
        parse_identity(text)
    except PassportError as exc:
        assert exc.code in CODES


_PIECES = st.sampled_from([RFC_TOKEN, ";", "=", " ", '"', "\\", "<", ">", "info", "ppt", "alg", "https://x/c",
                           "shaken", "ES256", ".", "..", "a"])


@given(st.lists(_PIECES, max_size=12))
def test_parse_raises_only_passport_errors_on_header_shaped_text(pieces: list[str]) -> None:
    try:
        parse_identity("".join(pieces))
    except PassportError as exc:
        assert exc.code in CODES


# -- strict formatting ------------------------------------------------------------------------------------------


def test_format_is_strict_rfc8224_and_parses_back() -> None:
    signer = P256Key.generate()
    token = encode({"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": "https://cert.example.org/p.cer"},
                   {"attest": "A", "dest": {"tn": ["12155550131"]}, "iat": 1443208345, "orig": {"tn": "12155550121"},
                    "origid": "123e4567-e89b-12d3-a456-426655440000"}, signer)
    value = format_identity(token, info="https://cert.example.org/p.cer", alg="ES256", ppt="shaken")
    assert value == f"{token};info=<https://cert.example.org/p.cer>;alg=ES256;ppt=shaken"
    header = parse_identity(value)
    assert (header.token, header.info, header.alg, header.ppt) == (token, "https://cert.example.org/p.cer", "ES256",
                                                                  "shaken")


def test_format_without_ppt_reproduces_base_passport_form() -> None:
    assert format_identity(RFC_TOKEN, info="https://biloxi.example.org/biloxi.cert") == (
        f"{RFC_TOKEN};info=<https://biloxi.example.org/biloxi.cert>;alg=ES256")


def test_format_eddsa() -> None:
    token = encode({"alg": "EdDSA", "ppt": "shaken"}, {"iat": 1}, Ed25519Key.generate())
    assert format_identity(token, info="https://x/c", alg="EdDSA", ppt="shaken").endswith(";alg=EdDSA;ppt=shaken")


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"info": "https://x/c", "alg": "ES256", "ppt": "shaken"}, "passport.bad_header"),  # token has no ppt
    ({"info": "https://x/c", "alg": "EdDSA"}, "passport.alg_not_allowed"),  # token says ES256
    ({"info": "https://x/c", "alg": "none"}, "passport.alg_not_allowed"),
    ({"info": "https://x/c>;ppt=div", "alg": "ES256"}, "passport.bad_header"),  # injection through info
    ({"info": "no uri", "alg": "ES256"}, "passport.bad_header"),
])
def test_format_refusals(kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(PassportError) as info:
        format_identity(RFC_TOKEN, **kwargs)
    assert info.value.code == code


def test_format_refuses_bad_tokens_and_ppt() -> None:
    with pytest.raises(PassportError):
        format_identity("a.b", info="https://x/c")
    with pytest.raises(PassportError):
        format_identity(RFC_TOKEN + ";ppt=div", info="https://x/c")
    token = encode({"alg": "ES256", "ppt": "sha ken"}, {"iat": 1}, P256Key.generate())
    with pytest.raises(PassportError):
        format_identity(token, info="https://x/c", ppt="sha ken")


@given(st.sampled_from(["ES256", "EdDSA"]), st.one_of(st.none(), st.sampled_from(["shaken", "eidln", "div"])),
       st.sampled_from(["https://cert.example.org/passport.cer", "did:eidln:local:4pNoqb2Nk7wDyPefj7Yv3g#key-1",
                        "http://127.0.0.1:8444/sp-chain.pem?x=1&y=%20"]),
       st.text(alphabet="abcXYZ019_-", min_size=1, max_size=40), st.booleans())
def test_strict_fast_path_equals_tolerant_scanner(alg: str, ppt: str | None, info: str, seg: str,
                                                  compact: bool) -> None:
    from wallet.passport.identity_header import _tolerant

    token = f"{seg}.{'' if compact else seg}.{seg}"
    value = f"{token};info=<{info}>;alg={alg}" + (f";ppt={ppt}" if ppt else "")
    assert parse_identity(value) == _tolerant(value)
