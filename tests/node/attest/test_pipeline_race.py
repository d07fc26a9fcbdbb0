"""The OSP attests continuously while its ledger copy is updated under it (issue 9, item 10): every decision is
compared with a brute-force model of the exact ledger position the decision names.

The chain's whole history is written first (the parties, then grants, suspensions, reinstatements and
revocations); the parties are synced; then the test thread syncs the rest into the index one block at a time and
publishes each new snapshot version, while a reader thread attests calls naming every grant in turn. The model
replays the index's ``events`` table up to a decision's ``ledgerPosition`` and says whether the grant covered the
number there; A must mean it did, and every B must carry the reason the model gives.
"""

from __future__ import annotations

import threading
from pathlib import Path

from contracts.vocab import Flags, Kind, Role, Status, TNRange
from node.attest import AttestationEngine, CallRequest, LedgerMechanism, LedgerSnapshot, parse_policy
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.shaken.sign import ShakenSigner
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import sign_call

GRANTS = 6


def _model(store: Store, position: tuple[int, int], grant_ids: list[bytes]) -> dict[bytes, str]:
    """Brute force: each grant's state at ``position`` from the raw events ("active", "suspended", "revoked" or
    "unknown" when not anchored yet)."""
    state = {g: "unknown" for g in grant_ids}
    names = {int(Status.ACTIVE): "active", int(Status.SUSPENDED): "suspended", int(Status.REVOKED): "revoked"}
    for ev in store.events():
        if (ev["block"], ev["log_index"]) > position:
            break
        if ev["contract"] != "CredentialRegistry":
            continue
        cid = bytes.fromhex(ev["args"]["id"][2:])
        if cid not in state:
            continue
        if ev["name"] == "CredentialAnchored":
            state[cid] = "active"
        elif ev["name"] == "StatusChanged":
            state[cid] = names[ev["args"]["new_status"]]
    return state


_EXPECT = {"active": "ledger.verified", "suspended": "tn.suspended", "revoked": "tn.revoked", "unknown": "tnc.unknown"}


def test_decisions_match_the_ledger_version_they_name(tmp_path: Path) -> None:
    chain = EmbeddedChain(None)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
    vetter = net.did(net.member("vetter", Role.VETTER))
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_acct.address))
    tnsp, ent = net.did(tnsp_acct), net.did(net.onboarded("ent", tnsp_acct))
    net.anchor(vetter, net.anchor_for(Kind.ENTERPRISE_IDENTITY, vetter, ent))
    parties_ready = chain.head()  # members, DIDs and the vetting: synced before the race starts
    grants = [net.anchor(tnsp, net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp, ent, flags=Flags.MAY_ORIGINATE,
                                              tns=(TNRange(12025550100 + 10 * i, 10),))) for i in range(GRANTS)]
    ids = [g.id for g in grants]
    suspended = [False] * GRANTS
    for rnd in range(5):  # a history of status changes, one transaction (one block) each
        for i, g in enumerate(grants):
            if (i + rnd) % 2 == 0:
                net.ledger.transact(tnsp_acct, "CredentialRegistry", "reinstate" if suspended[i] else "suspend", g.id)
                suspended[i] = not suspended[i]
    for g in grants[:2]:
        net.ledger.transact(tnsp_acct, "CredentialRegistry", "revoke", g.id)

    store = Store(tmp_path / "index.sqlite")
    follower = Follower(chain, store, net.ledger.deployment, batch_blocks=1)
    while follower.synced < parties_ready:
        follower.step()
    now = chain.block(chain.head()).timestamp + 100
    snapshot = LedgerSnapshot(tmp_path / "index.sqlite", network=net.ledger.deployment.network, chain_id=1337)
    snapshot.refresh(confirmed_at=now)
    engine = AttestationEngine(policy=parse_policy({"trunks": {"t": {}}}), signer=ShakenSigner(
        P256Key.generate(), "https://osp.test/sp.pem"), mechanisms=[LedgerMechanism(snapshot)], clock=lambda: now,
        snapshot=snapshot)
    signer = Ed25519Key.from_seed(ent.key.encode())
    kid = f"{net.did_str(ent)}#key-1"
    done = threading.Event()
    decisions: list[tuple[int, dict[str, object]]] = []

    def attester() -> None:
        n = 0
        while not done.is_set() or n < 300:
            i = n % GRANTS
            orig = str(12025550100 + 10 * i + n % 10)
            dest = f"1310{n:07d}"
            header = sign_call(signer, kid=kid, orig=orig, dest=[dest], iat=now, credential_id=net.cids[ids[i]])
            d = engine.attest(CallRequest("t", orig, (dest,), (header,), None))
            decisions.append((i, d.to_json()))
            n += 1

    reader = threading.Thread(target=attester)
    reader.start()
    while follower.step() is not None:  # one block at a time, each published as a new version
        snapshot.refresh(confirmed_at=now)
    done.set()
    reader.join(timeout=300)

    positions = {tuple(d["ledgerPosition"]) for _, d in decisions}  # type: ignore[arg-type]
    assert len(positions) > 10, "the reader did not see the ledger move"
    models = {p: _model(store, p, ids) for p in positions}  # type: ignore[arg-type]
    wrong = []
    for i, d in decisions:
        expected = _EXPECT[models[tuple(d["ledgerPosition"])][ids[i]]]  # type: ignore[arg-type, index]
        got = d["reasons"][0]["code"]  # type: ignore[index]
        if got != expected or (d["attest"] == "A") != (expected == "ledger.verified"):
            wrong.append((i, d["ledgerPosition"], d["attest"], got, expected))
    assert not wrong, wrong[:5]
    assert {d["attest"] for _, d in decisions} == {"A", "B"}
