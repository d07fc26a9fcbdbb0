"""The attestation engine under attack and outage (issue 9): a stale ledger copy never gives A, a re-encoded ECDSA
signature is still a replay, a policy file cannot nest deep enough to hurt the parser."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node.attest import CallRequest, Decision, PolicyError
from node.attest.policy import read_policy_text
from wallet.passport import b64url_decode, b64url_encode

from .world import World, build

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("hardening"))


def attest(w: World, identity: str, orig: str, trunk: str = "cc-trunk") -> Decision:
    assert w.engine is not None
    return w.engine.attest(CallRequest(trunk, orig, ("13105550000",), (identity,), None))


def codes(d: Decision) -> list[str]:
    return [r.code for r in d.reasons]


def test_a_copy_not_confirmed_within_max_staleness_gives_b(w: World) -> None:
    assert w.snapshot is not None
    w.confirm()
    assert attest(w, w.call("cc", "cc", orig="12025550141"), "12025550141").attest == "A"
    w.clock[0] += 15  # the default max_staleness: still fresh at the limit
    assert attest(w, w.call("cc", "cc", orig="12025550142"), "12025550142").attest == "A"
    w.clock[0] += 1  # one second past it: the follower has not confirmed the copy since
    d = attest(w, w.call("cc", "cc", orig="12025550143"), "12025550143")
    assert d.attest == "B" and codes(d) == ["ledger.stale"]
    assert "16 s ago (limit 15 s)" in d.reasons[0].detail
    d = attest(w, "x.y.z;info=<did:eidln:x#k>", "12025550143", trunk="cc-trunk")
    assert d.attest == "B"  # a malformed token is refused for its own reason, before the ledger is asked
    w.confirm()  # the follower catches up: A again
    assert attest(w, w.call("cc", "cc", orig="12025550144"), "12025550144").attest == "A"


def test_a_copy_never_confirmed_gives_b(w: World, tmp_path_factory: pytest.TempPathFactory) -> None:
    fresh = build(tmp_path_factory.mktemp("never"))
    assert fresh.snapshot is not None and fresh.engine is not None
    fresh.snapshot.state = replace(fresh.snapshot.state, confirmed_at=None)  # as a node whose follower never synced
    d = attest(fresh, fresh.call("cc", "cc", orig="12025550145"), "12025550145")
    assert d.attest == "B" and codes(d) == ["ledger.stale"] and "never" in d.reasons[0].detail


def test_trunk_policy_sets_max_staleness() -> None:
    text = "[defaults]\nmax_staleness = 5\n[trunks.a]\n[trunks.b]\nmax_staleness = 120\n"
    p = read_policy_text(text)
    assert (p.trunks["a"].max_staleness, p.trunks["b"].max_staleness) == (5, 120)
    for bad in ("0", "3601", "true", '"15"'):
        with pytest.raises(PolicyError, match="max_staleness"):
            read_policy_text(f"[trunks.a]\nmax_staleness = {bad}\n")


def _flip_s(identity: str) -> str:
    """The same ES256 PASSporT with its signature's s replaced by n - s: as valid to ECDSA, other bytes."""
    token, params = identity.split(";", 1)
    header, claims, sig = token.split(".")
    raw = b64url_decode(sig)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    flipped = b64url_encode(r + (P256_N - s).to_bytes(32, "big"))
    return f"{header}.{claims}.{flipped};{params}"


def test_ecdsa_signature_flipped_is_still_a_replay(w: World) -> None:
    from wallet.passport import sign_call

    assert w.p256 is not None
    w.confirm()
    first = sign_call(w.p256, kid=w.p256_kid, orig="12025550193", dest=["13105550000"], iat=w.now,
                      credential_id=w.cid("p256"))
    assert attest(w, first, "12025550193", trunk="strict-trunk").attest == "A"
    again = _flip_s(first)
    assert again != first
    d = attest(w, again, "12025550193", trunk="strict-trunk")
    assert d.attest == "B" and codes(d) == ["ppt.replay"]


def test_policy_nesting_is_refused_before_the_toml_parser() -> None:
    with pytest.raises(PolicyError, match="nested deeper"):
        read_policy_text("[trunks.a]\nosp_numbers = " + "[" * 100_000)
    with pytest.raises(PolicyError, match="nested deeper"):
        read_policy_text("[trunks.a]\ngateway = " + "{ a = " * 50)
    # brackets inside strings and comments do not count
    p = read_policy_text('[trunks.a]  # [[[[[[[[[[[[[[[[[[[[\nosp_numbers = ["12025550100"]  # ]]]]]]]]]]]\n')
    assert p.trunks["a"].osp_numbers


@pytest.mark.parametrize("number", ["²", "١٢٣", "1" * 5000, "12025550100-1202555019²", "+12025550100"])
def test_policy_numbers_are_ascii_e164_digits(number: str) -> None:
    """str.isdigit() also takes digits int() refuses: a ValueError escaped the policy loader (found by the fuzzer)."""
    with pytest.raises(PolicyError, match="is not a number"):
        read_policy_text(f'[trunks.a]\nosp_numbers = ["{number}"]\n')
