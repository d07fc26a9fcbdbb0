"""contracts.vocab: every number it names is the Vyper source's own, and the one telephone-number canonicalizer."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts import source_path
from contracts.vocab import (
    BLOCK,
    MAX_CHAIN_DEPTH,
    MAX_CREDENTIAL,
    MAX_RANGE_COUNT,
    MAX_TN,
    MIN_TN,
    NUMBER_HOLDER_ROLES,
    Flags,
    Kind,
    Role,
    Status,
    VocabError,
    parse_tn,
    strip_tn,
)

_CONSTANT = re.compile(r"^([A-Z_][A-Z0-9_]*): constant\([a-z0-9]+\) = ([0-9]+)", re.M)


def constants(contract: str) -> dict[str, int]:
    return {name: int(value) for name, value in _CONSTANT.findall(source_path(contract).read_text())}


@pytest.mark.parametrize(("contract", "python", "names"), [
    ("CredentialRegistry", Kind, {"ENTERPRISE_IDENTITY", "TN_RIGHT_TO_USE", "TN_DELEGATION"}),
    ("CredentialRegistry", Flags, {"MAY_ORIGINATE", "MAY_DELEGATE"}),
    ("CredentialRegistry", Status, {"ACTIVE", "REVOKED", "SUSPENDED"}),
    ("Members", Role, {"GOVERNOR", "TNSP", "RESP_ORG", "TN_RESELLER", "VETTER", "OSP"}),
])
def test_enums_are_the_contracts_constants(contract: str, python: type, names: set[str]) -> None:
    source = constants(contract)
    assert {name: int(python[name]) for name in names} == {name: source[name] for name in names}


def test_numbers_are_the_contracts_constants() -> None:
    numbers, credentials, members = (constants(c) for c in ("NumberAuthority", "CredentialRegistry", "Members"))
    assert (BLOCK, MIN_TN, MAX_TN, MAX_RANGE_COUNT) == (numbers["BLOCK"], numbers["MIN_TN"], numbers["MAX_TN"],
                                                         numbers["MAX_RANGE_COUNT"])
    assert (MAX_CREDENTIAL, MAX_CHAIN_DEPTH) == (credentials["MAX_CREDENTIAL"], credentials["MAX_DEPTH"])
    assert int(Role.TNSP | Role.RESP_ORG) == credentials["TNSP"] | credentials["RESP_ORG"] == NUMBER_HOLDER_ROLES
    assert sum(Role) == members["ALL_ROLES"] and int(Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE) == credentials[
        "ALL_FLAGS"]


@pytest.mark.parametrize(("text", "expected"), [
    ("12025550100", "12025550100"), ("+1 (202) 555-0100", "12025550100"), ("+1.202.555.0100", "12025550100"),
    (" +12025550100\t", "12025550100"), ("*67", "*67"), ("#31#", "#31#"), ("1+202", "1+202"), ("++1", "+1"), ("", ""),
])
def test_strip_tn(text: str, expected: str) -> None:
    assert strip_tn(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("12025550100", 12025550100), ("+12025550100", 12025550100), ("+1 202-555-0100", 12025550100),
    ("1000000", MIN_TN), ("999999999999999", MAX_TN), ("(202) 555.0100", 2025550100),
])
def test_parse_tn(text: str, expected: int) -> None:
    assert parse_tn(text) == expected


@pytest.mark.parametrize("text", [
    "", "+", "123456", "0123456", "1234567890123456", "12ab", "+1202555010x", "*67", "1+2025550100", "²²²²²²²²",
    "١٢٠٢٥٥٥٠١٠٠", "12025550100\x00", 12025550100, None,
])
def test_parse_tn_refuses(text: object) -> None:
    with pytest.raises(VocabError) as info:
        parse_tn(text)
    assert info.value.code == "numbers.bad_number"


@given(st.integers(MIN_TN, MAX_TN))
def test_parse_tn_round_trips(n: int) -> None:
    assert parse_tn(str(n)) == parse_tn(f"+{n}") == n
