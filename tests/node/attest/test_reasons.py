"""Reason codes: the one translation of the PASSporT codec's codes into decision reasons is total and keeps the
raised code."""

from __future__ import annotations

import pytest

from node.attest.reasons import FROM_PASSPORT, REASONS, Reason
from wallet.passport import CODES as PASSPORT_CODES
from wallet.passport import PassportError, parse_call


def test_every_passport_code_has_exactly_one_reason() -> None:
    assert set(FROM_PASSPORT) == PASSPORT_CODES
    assert set(FROM_PASSPORT.values()) <= set(REASONS)
    assert all(reason.startswith("ppt.") for reason in FROM_PASSPORT.values())


@pytest.mark.parametrize("header, raised, reason", [
    ("!!!not base64!!!;info=<did:eidln:local:x#key-1>;alg=EdDSA;ppt=eidln", "passport.bad_header", "ppt.malformed"),
    ("e30.e30.AAAA;info=<did:eidln:local:x#key-1>", "passport.alg_not_allowed", "ppt.alg_not_allowed"),
    ("a" * 20000, "passport.too_large", "ppt.too_large"),
])
def test_a_refused_passport_keeps_its_code_in_the_detail(header: str, raised: str, reason: str) -> None:
    with pytest.raises(PassportError) as info:
        parse_call(header)
    assert info.value.code == raised
    r = Reason.refused(info.value)
    assert r.code == reason and r.detail.startswith(f"{raised}: ")
    assert r.to_json()["code"] == reason and r.to_json()["detail"] == r.detail
