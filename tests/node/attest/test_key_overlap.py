"""An overlapping key rotation keeps in-flight calls at A (issue 10, item 6): add the new key, move the dialers to
it, and revoke the old one only after a freshness window; a call signed with the old key is A while that key is
active and B (``key.revoked``) once it is revoked, whatever its ``iat`` (the call-time rule)."""

from __future__ import annotations

from pathlib import Path

from did_method import KeyType
from node.attest import CallRequest, Decision
from wallet.keys import Ed25519Key
from wallet.passport import sign_call

from .world import World, build


def _attest(w: World, header: str, orig: str) -> Decision:
    assert w.engine is not None
    return w.engine.attest(CallRequest("cc-trunk", orig, ("13105550000",), (header,), None))


def test_in_flight_calls_stay_a_through_an_overlapping_rotation(tmp_path: Path) -> None:
    w = build(tmp_path)
    d = w.dids["rotating"]
    old = w.signer("rotating")
    old_kid = w.kid("rotating")
    before = sign_call(old, kid=old_kid, orig="12025550171", dest=["13105550000"], iat=w.now,
                       credential_id=w.cid("rotating"))  # signed before the new key exists
    new = Ed25519Key.generate()
    w.net.ledger.transact(d.controller, "DIDRegistry", "add_key", d.id, "key-2", int(KeyType.ED25519),
                          new.public_key, 3)
    w.sync()
    assert _attest(w, before, "12025550171").attest == "A"  # in flight across the add: still A
    new_kid = w.kid("rotating", "key-2")
    after = sign_call(new, kid=new_kid, orig="12025550172", dest=["13105550000"], iat=w.now,
                      credential_id=w.cid("rotating"))
    assert _attest(w, after, "12025550172").attest == "A"
    late_old = sign_call(old, kid=old_kid, orig="12025550173", dest=["13105550000"], iat=w.now,
                         credential_id=w.cid("rotating"))  # a dialer not moved yet: still A, both keys are live
    assert _attest(w, late_old, "12025550173").attest == "A"

    w.net.ledger.transact(d.controller, "DIDRegistry", "revoke_key", d.id, "key-1")
    w.sync()
    stale = sign_call(old, kid=old_kid, orig="12025550174", dest=["13105550000"], iat=w.now,
                      credential_id=w.cid("rotating"))
    refused = _attest(w, stale, "12025550174")
    assert refused.attest == "B" and [r.code for r in refused.reasons] == ["key.revoked"]
    fresh = sign_call(new, kid=new_kid, orig="12025550175", dest=["13105550000"], iat=w.now,
                      credential_id=w.cid("rotating"))
    assert _attest(w, fresh, "12025550175").attest == "A"
