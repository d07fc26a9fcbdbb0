"""A small real network for the attestation tests: embedded chain, a TNSP, a vetting agency, an enterprise that
is vetted and granted numbers, a call center it delegated to, and the odd cases (relay-only, unvetted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from contracts.vocab import Anchor, Flags, Kind, Role, TNRange
from did_method import KeyType, self_certifying_id
from node.attest import AttestationEngine, AuditLog, LedgerMechanism, LedgerSnapshot, parse_policy
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.shaken.sign import ShakenSigner
from node.sync.follower import Follower
from node.sync.pipeline import Pipeline
from node.sync.store import Store
from tests.netkit import Did, Net
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import sign_call

BOTH = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE
POLICY = {
    "defaults": {"freshness": 60, "future_skew": 5},
    "trunks": {
        "cc-trunk": {"osp_numbers": ["12025559000-12025559099"]},
        "strict-trunk": {"mechanisms": ["ledger"], "algorithms": ["ES256"]},
        "gw": {"gateway": True},
        "lax-trunk": {"require_vetted": False},
        "osp-only": {"mechanisms": ["osp-numbers"]},
    },
}


@dataclass
class World:
    net: Net
    index: Path
    store: Store
    dids: dict[str, Did]
    creds: dict[str, Anchor]
    osp_key: P256Key
    clock: list[float] = field(default_factory=lambda: [0.0])
    engine: AttestationEngine | None = None
    snapshot: LedgerSnapshot | None = None
    pipeline: Pipeline | None = None
    audit: AuditLog | None = None
    rotated_key: Ed25519Key | None = None
    p256: P256Key | None = None  # the P-256 call center's key and its DID URL
    p256_kid: str = ""  # the rotating DID's key-2, once test_engine rotated it

    @property
    def now(self) -> int:
        return int(self.clock[0])

    def kid(self, name: str, fragment: str = "key-1") -> str:
        return f"{self.net.did_str(self.dids[name])}#{fragment}"

    def signer(self, name: str) -> Ed25519Key:
        return Ed25519Key.from_seed(self.dids[name].key.encode())

    def cid(self, name: str) -> str:
        return self.net.cids[self.creds[name].id]

    def call(self, who: str, cred: str, *, orig: str = "12025550142", dest: str = "13105550000",
             iat: int | None = None, **kw: object) -> str:
        return sign_call(self.signer(who), kid=self.kid(who), orig=orig, dest=[dest],
                         iat=self.now if iat is None else iat, credential_id=self.cid(cred), **kw)  # type: ignore[arg-type]

    def sync(self) -> None:
        """As the node does: the follower applies the new blocks and publishes them through the pipeline."""
        assert self.pipeline is not None
        self.pipeline.attach(Follower(self.net.backend, self.store, self.net.ledger.deployment)).sync()
        assert self.snapshot is not None
        self.clock[0] = self.net.backend.block(self.net.backend.head()).timestamp + 100
        self.snapshot.refresh(confirmed_at=self.clock[0])  # as the node's follower does after each sync

    def confirm(self) -> None:
        """The follower confirms the ledger copy current now (it is: the embedded chain is in this process)."""
        assert self.snapshot is not None
        self.snapshot.refresh(confirmed_at=self.clock[0])


def build(tmp: Path) -> World:
    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp_a = net.member("tnsp", Role.TNSP, "1234")
    vetter_a = net.member("vetter", Role.VETTER)
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_a.address))
    dids = {"tnsp": net.did(tnsp_a), "vetter": net.did(vetter_a)}
    for name in ("ent", "cc", "relay", "unvetted", "rotating", "gone"):
        dids[name] = net.did(net.onboarded(name, tnsp_a))
    p256 = P256Key.generate()  # a call center whose DID key is P-256: it signs ES256 enterprise PASSporTs
    p256_acct = net.onboarded("p256", tnsp_a)
    p256_id = self_certifying_id(KeyType.P256, p256.public_key)
    net.ledger.transact(p256_acct, "DIDRegistry", "create", p256_id, "key-1", int(KeyType.P256), p256.public_key, 3)
    t, v, e = dids["tnsp"], dids["vetter"], dids["ent"]
    creds: dict[str, Anchor] = {}
    creds["vet"] = net.anchor(v, net.anchor_for(Kind.ENTERPRISE_IDENTITY, v, e))
    for name in ("cc", "rotating", "gone"):  # the signers other than the enterprise are vetted too (policy "parties")
        creds[f"vet-{name}"] = net.anchor(v, net.anchor_for(Kind.ENTERPRISE_IDENTITY, v, dids[name]))
    creds["grant"] = net.anchor(t, net.anchor_for(Kind.TN_RIGHT_TO_USE, t, e, tns=(TNRange(12025550100, 100),),
                                                  flags=BOTH))
    g = creds["grant"].id
    for name, tns, flags in (("cc", TNRange(12025550140, 10), Flags.MAY_ORIGINATE),
                             ("relay", TNRange(12025550160, 10), Flags.MAY_DELEGATE),
                             ("rotating", TNRange(12025550170, 10), Flags.MAY_ORIGINATE),
                             ("gone", TNRange(12025550180, 10), Flags.MAY_ORIGINATE)):
        creds[name] = net.anchor(e, net.anchor_for(Kind.TN_DELEGATION, e, dids[name], tns=(tns,), parent=g,
                                                   flags=flags))
    creds["p256"] = net.anchor(e, net.anchor_for(Kind.TN_DELEGATION, e, Did(p256_id, dids["cc"].key, p256_acct),
                                                 tns=(TNRange(12025550190, 10),), parent=g, flags=Flags.MAY_ORIGINATE))
    creds["vet-p256"] = net.anchor(v, net.anchor_for(Kind.ENTERPRISE_IDENTITY, v, Did(p256_id, dids["cc"].key,
                                                                                       p256_acct)))
    creds["unvetted"] = net.anchor(t, net.anchor_for(Kind.TN_RIGHT_TO_USE, t, dids["unvetted"],
                                                     tns=(TNRange(12025550300, 10),), flags=BOTH))
    store = Store(tmp / "index.sqlite")
    Follower(net.backend, store, net.ledger.deployment).sync()
    osp_key = P256Key.generate()
    w = World(net, tmp / "index.sqlite", store, dids, creds, osp_key)
    w.p256 = p256
    w.p256_kid = f"{net.did_str(Did(p256_id, dids['cc'].key, p256_acct))}#key-1"
    w.clock[0] = net.backend.block(net.backend.head()).timestamp + 100  # keys older than the window
    w.snapshot = LedgerSnapshot(w.index, network=net.ledger.deployment.network,
                                chain_id=net.ledger.deployment.chain_id)
    w.pipeline = Pipeline(w.snapshot.view, listeners=(w.snapshot.applied,))
    w.audit = AuditLog(tmp / "audit.sqlite")
    w.engine = AttestationEngine(policy=parse_policy(POLICY), signer=ShakenSigner(osp_key, "https://osp.test/sp.pem"),
                                 mechanisms=[LedgerMechanism(w.snapshot)], audit=w.audit, clock=lambda: w.clock[0],
                                 snapshot=w.snapshot)
    w.confirm()
    return w
