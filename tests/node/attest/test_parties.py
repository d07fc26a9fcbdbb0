"""The parties a call is about (issue 10): roles in a chain, the enterprise of record, vetting by party, trunk
customers anywhere in the chain, and the rich call data the OSP passes on, through the report's use cases:

* a hosted PBX whose tenant calls on the platform's numbers;
* a BYON call center reached through a reseller chain;
* enterprise → vendor → CPaaS;
* a chain whose enterprise is not vetted under a vetted reseller (it used to get A, naming the reseller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contracts.vocab import Anchor, Flags, Kind, Role, TNRange
from node.attest import (
    AttestationEngine,
    CallRequest,
    Decision,
    LedgerMechanism,
    LedgerSnapshot,
    parse_policy,
)
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Action
from node.shaken.sign import ShakenSigner
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Did, Net
from wallet.keys import Ed25519Key, P256Key
from wallet.passport import decode, sign_call
from wallet.passport.rcd import integrity

BOTH = Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE
LOGO = "https://tenant.example/logo.png"
LOGO_SRI = integrity(b"the tenant's logo, as vetted")


@dataclass
class Parties:
    net: Net
    tmp: Path
    dids: dict[str, Did] = field(default_factory=dict)
    creds: dict[str, Anchor] = field(default_factory=dict)
    now: int = 0
    snapshot: LedgerSnapshot | None = None

    def did(self, name: str) -> str:
        return self.net.did_str(self.dids[name])

    def engine(self, trunk: dict[str, object] | None = None) -> AttestationEngine:
        assert self.snapshot is not None
        policy = parse_policy({"trunks": {"t": trunk or {}}})
        return AttestationEngine(policy=policy, signer=ShakenSigner(P256Key.generate(), "https://osp.test/sp.pem"),
                                 mechanisms=[LedgerMechanism(self.snapshot)], clock=lambda: float(self.now),
                                 snapshot=self.snapshot)

    def call(self, who: str, cred: str, orig: int, *, engine: AttestationEngine | None = None,
             trunk: dict[str, object] | None = None, **kw: object) -> Decision:
        dest = f"1310555{orig % 10000:04d}"
        header = sign_call(Ed25519Key.from_seed(self.dids[who].key.encode()), kid=f"{self.did(who)}#key-1",
                           orig=str(orig), dest=[dest], iat=self.now,
                           credential_id=self.net.cids[self.creds[cred].id], **kw)  # type: ignore[arg-type]
        return (engine or self.engine(trunk)).attest(CallRequest("t", str(orig), (dest,), (header,), None))


def codes(d: Decision) -> list[str]:
    return [r.code for r in d.reasons]


@pytest.fixture(scope="module")
def p(tmp_path_factory: pytest.TempPathFactory) -> Parties:
    tmp = tmp_path_factory.mktemp("parties")
    net = Net.create(EmbeddedChain(None), governors=1, threshold=1)
    tnsp_acct = net.member("tnsp", Role.TNSP, "1234")
    w = Parties(net, tmp)
    w.dids["vetter"] = net.did(net.member("vetter", Role.VETTER))
    w.dids["other-vetter"] = net.did(net.member("other-vetter", Role.VETTER))
    net.govern(Action.assign_blocks(12025550000, 1000, tnsp_acct.address))
    w.dids["tnsp"] = net.did(tnsp_acct)
    for name in ("platform", "tenant", "reseller", "byon", "cc", "cc2", "unvetted-ent", "unvetted-cc", "vendor",
                 "cpaas", "relay", "sub-platform", "vreseller"):
        w.dids[name] = net.did(net.onboarded(name, tnsp_acct))
    d, c = w.dids, w.creds

    def vet(name: str, vetter: str = "vetter", **kw: object) -> None:
        c[f"vet-{name}"] = net.anchor(d[vetter], net.anchor_for(Kind.ENTERPRISE_IDENTITY, d[vetter], d[name], **kw))

    def grant(name: str, start: int, count: int, role: str, flags: Flags = BOTH) -> None:
        c[name] = net.anchor(d["tnsp"], net.anchor_for(Kind.TN_RIGHT_TO_USE, d["tnsp"], d[name],
                                                       tns=(TNRange(start, count),), flags=flags, role=role))

    def delegate(name: str, parent: str, issuer: str, start: int, count: int, role: str,
                 flags: Flags = Flags.MAY_ORIGINATE) -> None:
        c[name] = net.anchor(d[issuer], net.anchor_for(Kind.TN_DELEGATION, d[issuer], d[name],
                                                       tns=(TNRange(start, count),), parent=c[parent].id,
                                                       flags=flags, role=role))

    # hosted PBX: the platform holds the numbers, its tenant (an enterprise) calls on some of them
    vet("platform", brand_name="Cloud PBX Inc")
    vet("tenant", brand_name="Tenant Co", logo=LOGO, logo_integrity=LOGO_SRI, call_reason=["billing", "delivery"])
    grant("platform", 12025550100, 100, "platform")
    delegate("tenant", "platform", "platform", 12025550110, 10, "enterprise", BOTH)
    # BYON through a reseller chain: TNSP → reseller (unvetted) → enterprise (vetted) → call center (vetted)
    vet("byon", brand_name="Byon Corp")
    vet("cc", brand_name="Call Center LLC")
    grant("reseller", 12025550200, 50, "reseller")
    delegate("byon", "reseller", "reseller", 12025550200, 50, "enterprise", BOTH)
    delegate("cc", "byon", "byon", 12025550210, 10, "vendor")
    delegate("cc2", "byon", "byon", 12025550220, 10, "vendor")  # a second call center, not vetted
    # the same shape with an unvetted enterprise and an unvetted call center under a *vetted* reseller
    vet("vreseller", brand_name="Reseller Brand")
    grant("vreseller", 12025550250, 50, "reseller")
    delegate("unvetted-ent", "vreseller", "vreseller", 12025550260, 20, "enterprise", BOTH)
    delegate("unvetted-cc", "unvetted-ent", "unvetted-ent", 12025550265, 5, "vendor")
    # enterprise → vendor → CPaaS: the CPaaS originates (vetted by another agency)
    vet("vendor", "other-vetter", brand_name="Vendor Inc", vetting_level="basic")
    vet("cpaas", brand_name="CPaaS Co")
    c["ent-grant"] = net.anchor(d["tnsp"], net.anchor_for(Kind.TN_RIGHT_TO_USE, d["tnsp"], d["byon"],
                                                          tns=(TNRange(12025550300, 100),), flags=BOTH,
                                                          role="enterprise"))
    delegate("vendor", "ent-grant", "byon", 12025550300, 50, "vendor", BOTH)
    delegate("cpaas", "vendor", "vendor", 12025550310, 10, "platform")
    # a relay-only vendor under the tenant, and a chain with no enterprise at all
    delegate("relay", "tenant", "tenant", 12025550118, 2, "vendor", Flags.MAY_DELEGATE)
    delegate("sub-platform", "platform", "platform", 12025550150, 10, "platform")  # no enterprise in this chain
    store = Store(tmp / "index.sqlite")
    Follower(net.backend, store, net.ledger.deployment).sync()
    w.now = net.backend.block(net.backend.head()).timestamp + 100
    w.snapshot = LedgerSnapshot(tmp / "index.sqlite", network=net.ledger.deployment.network, chain_id=1337)
    w.snapshot.refresh(confirmed_at=w.now)
    return w


def test_hosted_pbx_tenant_on_the_platforms_numbers(p: Parties) -> None:
    d = p.call("tenant", "tenant", 12025550111, rcd={"nam": "Tenant Co"})
    assert d.attest == "A", codes(d)
    ev = d.evidence.to_json() if d.evidence else {}
    assert ev["enterprise"] == p.did("tenant") and d.rcd == {"nam": "Tenant Co"}  # the tenant's brand
    assert [(link["subject"], link["role"]) for link in ev["links"]] == [  # type: ignore[index, union-attr]
        (p.did("tenant"), "enterprise"), (p.did("platform"), "platform")]
    assert [link["issuer"] for link in ev["links"]] == [p.did("platform"), p.did("tnsp")]  # type: ignore[index, union-attr]
    platform_brand = p.call("tenant", "tenant", 12025550112, rcd={"nam": "Cloud PBX Inc"})
    assert platform_brand.attest == "A" and platform_brand.rcd is None  # the platform's brand never rides on it
    assert "rcd.not_vetted" in codes(platform_brand)


def test_byon_call_center_through_a_reseller(p: Parties) -> None:
    d = p.call("cc", "cc", 12025550212, rcd={"nam": "Byon Corp"})
    assert d.attest == "A", codes(d)
    ev = d.evidence.to_json() if d.evidence else {}
    assert ev["enterprise"] == p.did("byon") and d.rcd == {"nam": "Byon Corp"}
    assert set(ev["vetted"]) == {p.did("byon"), p.did("cc")}  # type: ignore[arg-type]  # not the reseller
    assert [link["role"] for link in ev["links"]] == ["vendor", "enterprise", "reseller"]  # type: ignore[index, union-attr]


def test_an_unvetted_enterprise_under_a_vetted_reseller_gets_b(p: Parties) -> None:
    d = p.call("unvetted-cc", "unvetted-cc", 12025550266)
    assert d.attest == "B" and codes(d) == ["enterprise.unvetted"]
    assert d.reasons[0].detail == p.did("unvetted-ent")  # the enterprise of record, not the reseller


def test_an_unvetted_signer_gets_b_naming_it(p: Parties) -> None:
    d = p.call("cc2", "cc2", 12025550221)
    assert d.attest == "B" and codes(d) == ["signer.unvetted"] and d.reasons[0].detail == p.did("cc2")
    lax = p.call("unvetted-cc", "unvetted-cc", 12025550267, trunk={"vetting": "none"})
    assert lax.attest == "A"  # a trunk that vets nobody


def test_a_chain_with_no_enterprise_gets_b(p: Parties) -> None:
    d = p.call("sub-platform", "sub-platform", 12025550151, trunk={"vetting": "none"})
    assert d.attest == "B" and codes(d) == ["enterprise.none"]


def test_vetting_every_link(p: Parties) -> None:
    d = p.call("cc", "cc", 12025550213, trunk={"vetting": "every-link"})
    assert d.attest == "B" and codes(d) == ["party.unvetted"] and d.reasons[0].detail == p.did("reseller")
    tenant = p.call("tenant", "tenant", 12025550113, trunk={"vetting": "every-link"})
    assert tenant.attest == "A"  # the platform is vetted too


def test_vetting_agencies_and_levels(p: Parties) -> None:
    assert p.call("cpaas", "cpaas", 12025550311).attest == "A"  # vendor vetted by another agency, at "basic"
    only_ours = {"vetting": "every-link", "vetting_agencies": [p.did("vetter")]}
    d = p.call("cpaas", "cpaas", 12025550312, trunk=only_ours)
    assert d.attest == "B" and codes(d) == ["party.unvetted"] and d.reasons[0].detail == p.did("vendor")
    full = {"vetting": "every-link", "vetting_levels": ["full"]}
    assert codes(p.call("cpaas", "cpaas", 12025550313, trunk=full)) == ["party.unvetted"]
    both = {"vetting": "every-link", "vetting_agencies": [p.did("vetter"), p.did("other-vetter")]}
    assert p.call("cpaas", "cpaas", 12025550314, trunk=both).attest == "A"


def test_enterprise_vendor_cpaas_the_enterprise_of_record_is_the_nearest(p: Parties) -> None:
    d = p.call("cpaas", "cpaas", 12025550315, rcd={"nam": "Byon Corp"})
    ev = d.evidence.to_json() if d.evidence else {}
    assert d.attest == "A" and ev["enterprise"] == p.did("byon") and d.rcd == {"nam": "Byon Corp"}
    assert [link["role"] for link in ev["links"]] == ["platform", "vendor", "enterprise"]  # type: ignore[index, union-attr]


def test_trunk_customers_may_name_any_party(p: Parties) -> None:
    assert p.call("cc", "cc", 12025550214, trunk={"customers": [p.did("reseller")]}).attest == "A"
    assert p.call("tenant", "tenant", 12025550114, trunk={"customers": [p.did("platform")]}).attest == "A"
    d = p.call("cc", "cc", 12025550215, trunk={"customers": [p.did("platform")]})
    assert d.attest == "B" and codes(d) == ["trunk.not_customer"]


def test_a_relay_only_vendor_that_signs_gets_b(p: Parties) -> None:
    vetted = p.engine({"vetting": "none"})
    d = p.call("relay", "relay", 12025550118, engine=vetted)
    assert d.attest == "B" and codes(d) == ["tnc.relay_only"]


def test_a_suspended_platform_to_tenant_delegation_gets_b(p: Parties, tmp_path: Path) -> None:
    tenant = p.creds["tenant"]
    platform_acct = p.dids["platform"].controller
    p.net.ledger.transact(platform_acct, "CredentialRegistry", "suspend", tenant.id)
    try:
        Follower(p.net.backend, Store(p.tmp / "index.sqlite"), p.net.ledger.deployment).sync()
        assert p.snapshot is not None
        p.snapshot.refresh(confirmed_at=p.now)
        d = p.call("tenant", "tenant", 12025550115)
        assert d.attest == "B" and codes(d) == ["tn.suspended"]
    finally:
        p.net.ledger.transact(platform_acct, "CredentialRegistry", "reinstate", tenant.id)
        Follower(p.net.backend, Store(p.tmp / "index.sqlite"), p.net.ledger.deployment).sync()
        assert p.snapshot is not None
        p.snapshot.refresh(confirmed_at=p.now)
    assert p.call("tenant", "tenant", 12025550116).attest == "A"


def test_only_vetted_rich_call_data_passes(p: Parties) -> None:
    d = p.call("tenant", "tenant", 12025550117, rcd={"nam": "Tenant Co", "icn": LOGO,
                                                     "jcl": "https://tenant.example/card.json"}, crn="billing")
    assert d.attest == "A"
    assert d.rcd == {"nam": "Tenant Co", "icn": LOGO} and d.rcdi == {"/icn": LOGO_SRI} and d.crn == "billing"
    assert codes(d) == ["ledger.verified", "rcd.member_not_vetted"] and d.reasons[1].detail == "jcl"
    claims = decode(d.identity.split(";")[0]).claims  # what the OSP signed for the terminating side
    assert claims["rcd"] == d.rcd and claims["rcdi"] == d.rcdi and claims["crn"] == "billing"
    other_logo = p.call("tenant", "tenant", 12025550119, rcd={"nam": "Tenant Co", "icn": "https://x.example/l.png"},
                        crn="lottery")
    assert other_logo.rcd == {"nam": "Tenant Co"} and other_logo.rcdi is None and other_logo.crn is None
    assert codes(other_logo) == ["ledger.verified", "rcd.crn_not_vetted", "rcd.icn_not_vetted"]
    claims = decode(other_logo.identity.split(";")[0]).claims
    assert "rcdi" not in claims and "crn" not in claims and claims["rcd"] == {"nam": "Tenant Co"}


def test_the_audit_keeps_the_enterprise_passport(p: Parties) -> None:
    from node.attest import AuditLog

    log = AuditLog(p.tmp / "audit.sqlite")
    engine = p.engine()
    engine.audit = log
    d = p.call("tenant", "tenant", 12025550120 - 10, engine=engine)
    rec = log.by_origid(d.origid)
    assert rec is not None and rec["identities"] == list(d.identities) and len(d.identities) == 1
    assert rec["identity"] == d.identity and rec["evidence"]["links"]
    log.close()


def test_a_trunk_may_count_only_identities_proven_by_did_auth(p: Parties) -> None:
    """``vetting_did_auth = true``: a vetted identity counts only when its DID Auth evidence verifies (the subject
    signed the agency's challenge with its DID key); the tenant's identity has no evidence, a new one has."""
    from did_method.resolver import Resolver
    from node.sync.didhistory import IndexHistory
    from wallet import didauth

    net, d, c = p.net, p.dids, p.creds
    d["proven"] = net.did(net.onboarded("proven", p.dids["tnsp"].controller))
    Follower(net.backend, Store(p.tmp / "index.sqlite"), net.ledger.deployment).sync()  # the new DID's key
    resolver = Resolver(IndexHistory(p.tmp / "index.sqlite"), network=net.ledger.deployment.network, chain_id=1337)
    at = net.backend.block(net.backend.head()).timestamp
    challenge = didauth.new_challenge(domain=p.did("vetter"), subject=p.did("proven"), now=at)
    proof = didauth.prove(Ed25519Key.from_seed(d["proven"].key.encode()), f"{p.did('proven')}#key-1", challenge,
                          now=at)
    result = didauth.verify_proof(proof, challenge, key_at=didauth.authentication_key_at(resolver), now=at)
    assert result.ok, result
    c["vet-proven"] = net.anchor(d["vetter"], net.anchor_for(Kind.ENTERPRISE_IDENTITY, d["vetter"], d["proven"],
                                                             brand_name="Proven Co",
                                                             evidence=[didauth.evidence(challenge, proof, result)]))
    c["proven"] = net.anchor(d["tnsp"], net.anchor_for(Kind.TN_RIGHT_TO_USE, d["tnsp"], d["proven"],
                                                       tns=(TNRange(12025550400, 10),), flags=BOTH,
                                                       role="enterprise"))
    Follower(net.backend, Store(p.tmp / "index.sqlite"), net.ledger.deployment).sync()
    assert p.snapshot is not None
    p.snapshot.refresh(confirmed_at=p.now)
    strict = {"vetting_did_auth": True}
    assert p.call("proven", "proven", 12025550401, trunk=strict).attest == "A"
    d_ = p.call("tenant", "tenant", 12025550113, trunk=strict)  # vetted, but without DID Auth evidence
    assert d_.attest == "B" and codes(d_) == ["enterprise.unvetted"]
    assert p.call("tenant", "tenant", 12025550114).attest == "A"  # the default still counts it


def test_a_call_center_moves_its_numbers_to_another_enterprise(p: Parties) -> None:
    """Reallocation: the TNSP takes the numbers back from one enterprise and grants them to another, which delegates
    them to the same call center. Calls under the old chain get B; under the new one A, with the new brand."""
    net, d, c = p.net, p.dids, p.creds
    tnsp_acct = d["tnsp"].controller
    for name in ("old-ent", "new-ent", "mover"):
        d[name] = net.did(net.onboarded(name, tnsp_acct))
    for name, brand in (("old-ent", "Old Ent"), ("new-ent", "New Ent"), ("mover", None)):
        c[f"vet-{name}"] = net.anchor(d["vetter"], net.anchor_for(Kind.ENTERPRISE_IDENTITY, d["vetter"], d[name],
                                                                  **({"brand_name": brand} if brand else {})))

    def chain(ent: str, tag: str) -> None:
        c[f"{tag}-grant"] = net.anchor(d["tnsp"], net.anchor_for(Kind.TN_RIGHT_TO_USE, d["tnsp"], d[ent],
                                                                 tns=(TNRange(12025550500, 10),), flags=BOTH,
                                                                 role="enterprise"))
        c[f"{tag}-cc"] = net.anchor(d[ent], net.anchor_for(Kind.TN_DELEGATION, d[ent], d["mover"],
                                                           tns=(TNRange(12025550500, 10),),
                                                           parent=c[f"{tag}-grant"].id, flags=Flags.MAY_ORIGINATE))

    def sync() -> None:
        Follower(net.backend, Store(p.tmp / "index.sqlite"), net.ledger.deployment).sync()
        assert p.snapshot is not None
        p.snapshot.refresh(confirmed_at=p.now)

    chain("old-ent", "old")
    sync()
    d_old = p.call("mover", "old-cc", 12025550501, rcd={"nam": "Old Ent"})
    assert d_old.attest == "A" and d_old.rcd == {"nam": "Old Ent"}
    net.ledger.transact(tnsp_acct, "CredentialRegistry", "revoke", c["old-grant"].id)  # the numbers go back
    chain("new-ent", "new")
    sync()
    stale = p.call("mover", "old-cc", 12025550502, rcd={"nam": "Old Ent"})
    assert stale.attest == "B" and codes(stale) == ["tn.parent_not_live"]
    moved = p.call("mover", "new-cc", 12025550503, rcd={"nam": "New Ent"})
    assert moved.attest == "A" and moved.rcd == {"nam": "New Ent"}
    assert moved.evidence is not None and moved.evidence.to_json()["enterprise"] == p.did("new-ent")
