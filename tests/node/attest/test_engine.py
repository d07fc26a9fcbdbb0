"""The attestation engine against a real (embedded) ledger copy: every decision and every bad input."""

from __future__ import annotations

import json
import secrets

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.vocab import Role
from did_method import KeyType, self_certifying_id
from did_method.syntax import format_did
from node.attest import CallRequest, Decision, parse_policy
from node.ledger.client import Action
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import (
    b64url_decode,
    b64url_encode,
    canonical_json,
    decode,
    enterprise_passport,
    format_identity,
    sign_call,
    verify_signature,
)

from .world import World, build

OSP_INFO = "https://osp.test/sp.pem"


@pytest.fixture(scope="module")
def w(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("attest"))


def attest(w: World, *identities: str, orig: str | None = None, dest: str = "13105550000",
           trunk: str = "cc-trunk", date: int | None = None) -> Decision:
    """Attest a call; its calling number is the first PASSporT's orig unless given."""
    assert w.engine is not None
    if orig is None:
        try:
            orig = str(decode(identities[0].split(";")[0]).claims["orig"]["tn"])
        except Exception:
            orig = "12025550142"
    return w.engine.attest(CallRequest(trunk, orig, (dest,), identities, date))


def codes(d: Decision) -> list[str]:
    return [r.code for r in d.reasons]


def check_shaken(w: World, d: Decision) -> dict[str, object]:
    """The OSP's Identity header is a standard SHAKEN one, signed by the OSP key, with the decision's claims."""
    token, rest = d.identity.split(";", 1)
    assert rest == f"info=<{OSP_INFO}>;alg=ES256;ppt=shaken"
    p = decode(token)
    assert verify_signature(p, KeyType.P256, w.osp_key.public_key)
    assert p.header == {"alg": "ES256", "ppt": "shaken", "typ": "passport", "x5u": OSP_INFO}
    want = {"attest": d.attest, "dest": {"tn": list(d.dest)}, "iat": d.iat, "orig": {"tn": d.orig},
            "origid": d.origid, **({"rcd": dict(d.rcd)} if d.rcd is not None else {})}
    assert p.claims == want
    assert b64url_decode(token.split(".")[1]) == canonical_json(want)
    return p.claims


def test_delegated_call_center_gets_a(w: World) -> None:
    d = attest(w, w.call("cc", "cc", rcd={"nam": "Acme"}))
    assert d.attest == "A" and d.mechanism == "ledger", codes(d)
    assert codes(d) == ["ledger.verified", "rcd.not_vetted"] and d.rcd is None  # no vetted brand: no RCD
    ev = d.evidence.to_json() if d.evidence else {}
    assert ev["chain"] == ["0x" + w.creds["cc"].id.hex(), "0x" + w.creds["grant"].id.hex()]
    assert ev["enterprise"] == w.net.did_str(w.dids["ent"]) and ev["signer"] == w.kid("cc")
    assert ev["vettedIdentity"] == w.cid("vet")
    check_shaken(w, d)
    assert d.elapsed < 1.0


def test_p256_call_center_signs_es256(w: World) -> None:
    assert w.p256 is not None
    header = sign_call(w.p256, kid=w.p256_kid, orig="12025550191", dest=["13105550000"], iat=w.now,
                       credential_id=w.cid("p256"))
    assert ";alg=ES256;ppt=eidln" in header
    d = attest(w, header)
    assert (d.attest, codes(d)) == ("A", ["ledger.verified"])
    d = attest(w, sign_call(w.p256, kid=w.p256_kid, orig="12025550192", dest=["13105550000"], iat=w.now,
                            credential_id=w.cid("p256")), trunk="strict-trunk")  # ES256-only trunk
    assert d.attest == "A"


def test_enterprise_itself_gets_a_and_same_call_without_evidence_gets_b(w: World) -> None:
    assert attest(w, w.call("ent", "grant", orig="12025550199")).attest == "A"
    d = attest(w, orig="12025550199")
    assert (d.attest, codes(d)) == ("B", ["evidence.none"])
    check_shaken(w, d)


def test_trunks_unknown_gateway_and_osp_numbers(w: World) -> None:
    d = attest(w, w.call("cc", "cc", iat=w.now - 1), trunk="who")
    assert (d.attest, codes(d)) == ("C", ["trunk.unknown"])
    assert attest(w, trunk="gw").attest == "C"
    d = attest(w, orig="12025559042")
    assert (d.attest, d.mechanism, codes(d)) == ("A", "osp-numbers", ["osp.assigned_number"])
    check_shaken(w, d)


def test_trunk_mechanisms_and_customers(w: World) -> None:
    d = attest(w, w.call("cc", "cc", iat=w.now - 8), trunk="osp-only")
    assert (d.attest, codes(d)) == ("B", ["mechanism.not_allowed"])
    assert w.engine is not None
    policy = w.engine.policy
    stranger = "did:eidln:local:4pNoqb2Nk7wDyPefj7Yv3g"
    w.engine.policy = parse_policy({"trunks": {"cc-trunk": {"customers": [stranger]}}})
    try:
        d = attest(w, w.call("cc", "cc", iat=w.now - 9))
        assert (d.attest, codes(d)) == ("B", ["trunk.not_customer"])
        w.engine.policy = parse_policy({"trunks": {"cc-trunk": {"customers": [w.net.did_str(w.dids["ent"])]}}})
        assert attest(w, w.call("cc", "cc", iat=w.now - 10)).attest == "A"  # the enterprise is the customer
    finally:
        w.engine.policy = policy


def test_window_edges(w: World) -> None:
    for delta, expect in ((-60, "A"), (-61, "ppt.stale"), (5, "A"), (6, "ppt.future")):
        d = attest(w, w.call("cc", "cc", iat=w.now + delta))
        assert (d.attest if expect == "A" else codes(d)[0]) == expect, (delta, codes(d))


def test_replay_within_window(w: World) -> None:
    header = w.call("cc", "cc", iat=w.now - 3)
    assert attest(w, header).attest == "A"
    d = attest(w, header)
    assert (d.attest, codes(d)) == ("B", ["ppt.replay"])


def test_sip_date_sets_iat_when_fresh(w: World) -> None:
    assert attest(w, date=w.now - 10).iat == w.now - 10
    assert attest(w, date=w.now - 3600).iat == w.now


def _token(w: World, header: dict[str, object], claims: dict[str, object] | None = None, sig: bytes = b"") -> str:
    claims = claims or {"dest": {"tn": ["13105550000"]}, "iat": w.now, "orig": {"tn": "12025550142"},
                        "tnc": w.cid("cc")}
    h = b64url_encode(json.dumps(header).encode())
    c = b64url_encode(json.dumps(claims).encode())
    return f"{h}.{c}.{b64url_encode(sig or bytes(64))}"


@pytest.mark.parametrize("case, expect", [
    ("alg_none", "ppt.alg_not_allowed"), ("hs256", "ppt.alg_not_allowed"), ("kid_not_did", "ppt.bad_kid"),
    ("wrong_ppt", "ppt.wrong_type"), ("garbage", "ppt.malformed"), ("truncated", "ppt.malformed"),
    ("oversized", "ppt.too_large"), ("duplicate_keys", "ppt.malformed"), ("bad_sig", "ppt.bad_signature"),
    ("unknown_claim", "ppt.bad_claims"), ("info_not_kid", "ppt.bad_kid"), ("compact", "ppt.malformed"),
])
def test_bad_tokens(w: World, case: str, expect: str) -> None:
    kid = w.kid("cc")
    good = {"alg": "EdDSA", "kid": kid, "ppt": "eidln", "typ": "passport"}
    suffix = f";info=<{kid}>;alg=EdDSA;ppt=eidln"
    header = {
        "alg_none": _token(w, {**good, "alg": "none"}) + f";info=<{kid}>;ppt=eidln",
        "hs256": _token(w, {**good, "alg": "HS256"}) + f";info=<{kid}>;ppt=eidln",
        "kid_not_did": _token(w, {**good, "kid": "https://evil.example/key"}) + ";info=<https://evil.example/key>",
        "wrong_ppt": _token(w, {**good, "ppt": "shaken"}) + f";info=<{kid}>;alg=EdDSA;ppt=shaken",
        "garbage": "!!!not base64!!!" + suffix,
        "truncated": w.call("cc", "cc")[:40],
        "oversized": "a" * 20000 + suffix,
        "duplicate_keys": b64url_encode(b'{"alg":"EdDSA","alg":"EdDSA","kid":"%s","ppt":"eidln","typ":"passport"}'
                                        % kid.encode()) + ".e30." + b64url_encode(bytes(64)) + suffix,
        "bad_sig": _token(w, good) + suffix,
        "unknown_claim": _token(w, good, {"dest": {"tn": ["13105550000"]}, "iat": w.now, "orig": {"tn": "12025550142"},
                                          "tnc": w.cid("cc"), "admin": True}) + suffix,
        "info_not_kid": w.call("cc", "cc").replace(f"info=<{kid}>", f"info=<{w.kid('ent')}>"),
        "compact": "{0}..{2}".format(*w.call("cc", "cc").split(";")[0].split(".")) + suffix,
    }[case]
    d = attest(w, header)
    assert d.attest == "B" and codes(d) == [expect], codes(d)
    check_shaken(w, d)


def test_algorithm_key_type_mismatch_and_trunk_allow_list(w: World) -> None:
    token = enterprise_passport(P256Key.generate(), kid=w.kid("cc"), orig="12025550142", dest=["13105550000"],
                                iat=w.now, credential_id=w.cid("cc"))
    d = attest(w, format_identity(token, info=w.kid("cc"), alg="ES256", ppt="eidln"))
    assert codes(d) == ["ppt.alg_key_mismatch"]
    d = attest(w, w.call("cc", "cc", iat=w.now - 2), trunk="strict-trunk")
    assert codes(d) == ["ppt.alg_not_allowed"]


def test_signer_problems(w: World) -> None:
    stranger = Ed25519Key.generate()
    kid = format_did(w.net.ledger.deployment.network, self_certifying_id(KeyType.ED25519, stranger.public_key))
    token = enterprise_passport(stranger, kid=kid + "#key-1", orig="12025550142", dest=["13105550000"], iat=w.now,
                                credential_id=w.cid("cc"))
    assert codes(attest(w, format_identity(token, info=kid + "#key-1", alg="EdDSA", ppt="eidln"))) == ["did.not_found"]
    elsewhere = w.kid("cc").replace(":local:", ":elsewhere:")
    token = enterprise_passport(w.signer("cc"), kid=elsewhere, orig="12025550142", dest=["13105550000"], iat=w.now,
                                credential_id=w.cid("cc"))
    assert codes(attest(w, format_identity(token, info=elsewhere, alg="EdDSA", ppt="eidln"))) == ["did.not_found"]
    token = enterprise_passport(w.signer("cc"), kid=w.kid("cc", "key-9"), orig="12025550142", dest=["13105550000"],
                                iat=w.now, credential_id=w.cid("cc"))
    assert codes(attest(w, format_identity(token, info=w.kid("cc", "key-9"), alg="EdDSA", ppt="eidln"))) == [
        "key.not_found"]


def test_chain_problems(w: World) -> None:
    cases = {
        "tnc.not_holder": w.call("cc", "grant"),  # someone else's credential (the enterprise's grant)
        "tn.not_in_range": w.call("cc", "cc", orig="12025550150"),  # in the grant, not in the delegation
        "tnc.relay_only": w.call("relay", "relay", orig="12025550161"),
        "enterprise.unvetted": w.call("unvetted", "unvetted", orig="12025550301"),
        "tnc.unknown": sign_unknown(w),
    }
    for expect, header in cases.items():
        d = attest(w, header)
        assert (d.attest, codes(d)) == ("B", [expect]), expect
    assert attest(w, w.call("unvetted", "unvetted", orig="12025550302"), trunk="lax-trunk").attest == "A"


def sign_unknown(w: World) -> str:
    return sign_call(w.signer("cc"), kid=w.kid("cc"), orig="12025550142", dest=["13105550000"], iat=w.now,
                     credential_id=f"urn:uuid:{secrets.token_hex(8)}")


def test_feature_code_caller_is_b_not_an_engine_error(w: World) -> None:
    """``*67`` is a valid SHAKEN TN string but no ledger number: a reason, never the engine's error path."""
    token = sign_call(w.signer("cc"), kid=w.kid("cc"), orig="*67", dest=["13105550000"], iat=w.now,
                      credential_id=w.cid("cc"))
    d = attest(w, token)
    assert (d.attest, codes(d)) == ("B", ["tn.not_in_range"])
    d = attest(w, orig="#31#")
    assert (d.attest, codes(d)) == ("B", ["evidence.none"])
    check_shaken(w, d)


def test_orig_and_dest_must_match_the_call(w: World) -> None:
    assert codes(attest(w, w.call("cc", "cc"), orig="12025550143")) == ["ppt.orig_mismatch"]
    assert codes(attest(w, w.call("cc", "cc"), dest="13105559999")) == ["ppt.dest_mismatch"]


def test_first_good_identity_wins_and_refusals_are_kept(w: World) -> None:
    d = attest(w, "garbage;info=<x:y>", w.call("cc", "cc", iat=w.now - 4))
    assert d.attest == "A" and codes(d) == ["ppt.malformed", "ledger.verified"]


def test_audit_log_by_origid_and_number(w: World) -> None:
    d = attest(w, w.call("cc", "cc", iat=w.now - 5))
    assert w.audit is not None
    rec = w.audit.by_origid(d.origid)
    assert rec is not None and rec["attest"] == "A" and rec["mechanism"] == "ledger"
    assert rec["evidence"]["credential"] == w.cid("cc") and rec["reasons"][0]["code"] == "ledger.verified"
    assert rec["ledger_position"] is not None
    assert d.origid in {r["origid"] for r in w.audit.query(orig="12025550142", attest="A")}
    assert w.audit.by_origid("nope") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_never_raises(w: World, text: str) -> None:
    d = attest(w, text)
    assert d.attest == "B" and len(d.reasons) == 1


# Ledger changes last: they change the world for the tests above.

def rotated(w: World) -> Ed25519Key:
    """The "rotating" DID's key-2, rotated in once per world (a test that needs it does not rely on another test having
    run first on the same worker)."""
    if w.rotated_key is None:
        rot = w.dids["rotating"]
        w.rotated_key = Ed25519Key.generate()
        w.net.ledger.transact(rot.controller, "DIDRegistry", "rotate_key", rot.id, "key-1", "key-2",
                              int(KeyType.ED25519), w.rotated_key.public_key, 3)
    return w.rotated_key


def test_key_rotation_revocation_deactivation_and_status(w: World) -> None:
    gone = w.dids["gone"]
    before = w.call("rotating", "rotating", orig="12025550171")
    new = rotated(w)
    w.net.ledger.transact(gone.controller, "DIDRegistry", "deactivate", gone.id)
    w.net.ledger.transact(w.dids["ent"].controller, "CredentialRegistry", "revoke", w.creds["cc"].id)
    w.sync()
    assert codes(attest(w, before)) == ["key.revoked"]
    fresh = enterprise_passport(new, kid=w.kid("rotating", "key-2"), orig="12025550172", dest=["13105550000"],
                                iat=w.now, credential_id=w.cid("rotating"))
    d = attest(w, format_identity(fresh, info=w.kid("rotating", "key-2"), alg="EdDSA", ppt="eidln"))
    assert d.attest == "A", codes(d)
    assert codes(attest(w, w.call("gone", "gone", orig="12025550181"))) == ["did.deactivated"]
    d = attest(w, w.call("cc", "cc"))
    assert (d.attest, codes(d)) == ("B", ["tn.revoked"])


def test_ported_number(w: World) -> None:
    other = w.net.member("other", Role.TNSP, "5678")
    assert attest(w, w.call("ent", "grant", orig="12025550110")).attest == "A"
    w.net.govern(Action.port(12025550110, 1, other.address))
    w.sync()
    d = attest(w, w.call("ent", "grant", orig="12025550110", iat=w.now - 1))
    assert (d.attest, codes(d)) == ("B", ["tn.ported"])
    assert attest(w, w.call("ent", "grant", orig="12025550111")).attest == "A"


def test_snapshot_refresh_is_incremental(w: World) -> None:
    assert w.snapshot is not None
    assert w.snapshot.refresh() is False  # nothing new since the last sync


def test_issuers_up_the_chain_and_the_holder_role(w: World) -> None:
    """What the registry's covers() leaves to the verifier: issuer DIDs active, the grant's holder a TNSP."""
    assert attest(w, w.call("unvetted", "unvetted", orig="12025550303"), trunk="lax-trunk").attest == "A"
    w.net.govern(Action.set_roles(w.net.accounts["tnsp"].address, Role.VETTER))
    w.sync()
    d = attest(w, w.call("unvetted", "unvetted", orig="12025550304"), trunk="lax-trunk")
    assert (d.attest, codes(d)) == ("B", ["tnc.holder_not_member"])
    w.net.govern(Action.set_roles(w.net.accounts["tnsp"].address, Role.TNSP, "1234"))
    key = rotated(w)
    ent = w.dids["ent"]
    w.net.ledger.transact(ent.controller, "DIDRegistry", "deactivate", ent.id)
    w.sync()
    key2 = w.kid("rotating", "key-2")
    d = attest(w, w.call("unvetted", "unvetted", orig="12025550305"), trunk="lax-trunk")
    assert d.attest == "A", codes(d)  # the TNSP is a TNSP again
    token = enterprise_passport(key, kid=key2, orig="12025550173", dest=["13105550000"], iat=w.now,
                                credential_id=w.cid("rotating"))
    d = attest(w, format_identity(token, info=key2, alg="EdDSA", ppt="eidln"))
    assert (d.attest, codes(d)) == ("B", ["tnc.issuer_deactivated"])


def test_unknown_did_becomes_known_after_sync(w: World) -> None:
    """The negative cache forgets a DID as soon as the ledger has it."""
    late = Ed25519Key.generate()
    ident = self_certifying_id(KeyType.ED25519, late.public_key)
    kid = format_did(w.net.ledger.deployment.network, ident) + "#key-1"

    def call() -> str:
        token = enterprise_passport(late, kid=kid, orig="12025550142", dest=["13105550000"], iat=w.now,
                                    credential_id=w.cid("cc"))
        return format_identity(token, info=kid, alg="EdDSA", ppt="eidln")

    assert codes(attest(w, call())) == ["did.not_found"]
    acct = w.net.onboarded("late", w.net.accounts["tnsp"])
    w.net.ledger.transact(acct, "DIDRegistry", "create", ident, "key-1", int(KeyType.ED25519), late.public_key, 3)
    w.sync()
    assert codes(attest(w, call())) == ["tnc.not_holder"]  # known now; the credential is the call center's
