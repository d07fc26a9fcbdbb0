"""Test helper: a fresh network on a real backend, with governors, members, DIDs and credential anchors."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from nacl.signing import SigningKey

from contracts.vocab import Anchor, Flags, Kind, Role, TNRange
from did_method import KeyType, self_certifying_id
from did_method.syntax import format_did
from node.chain.base import ChainBackend
from node.errors import LedgerRuleError
from node.ledger.client import Action, Ledger, ProposalResult, deploy_network
from wallet.credentials import anchor_of, enterprise_identity, tn_delegation, tn_right_to_use
from wallet.dataintegrity import document_loader, sign
from wallet.keys import Ed25519Key

YEAR = 365 * 24 * 3600


@dataclass
class Did:
    id: bytes
    key: SigningKey
    controller: LocalAccount

    @property
    def public_key(self) -> bytes:
        return bytes(self.key.verify_key)


@dataclass
class Net:
    backend: ChainBackend
    governors: list[LocalAccount]
    ledger: Ledger
    now: int
    accounts: dict[str, LocalAccount] = field(default_factory=dict)
    cids: dict[bytes, str] = field(default_factory=dict)

    @classmethod
    def create(cls, backend: ChainBackend, *, governors: int = 3, threshold: int = 2) -> Net:
        deployer = Account.create()
        govs = [Account.create() for _ in range(governors)]
        dep = deploy_network(backend, deployer, [g.address for g in govs], threshold)
        ledger = Ledger(backend, dep)
        return cls(backend, govs, ledger, backend.block(backend.head()).timestamp)

    def threshold(self) -> int:
        t: int = self.ledger.call("Members", "threshold")
        return t

    def govern(self, action: Action) -> ProposalResult:
        """Propose with the first governor and vote with the others until it runs."""
        res = self.ledger.propose(self.governors[0], action)
        i = 1
        while not res.executed:
            res = self.ledger.vote(self.governors[i], res.proposal_id)
            i += 1
        return res

    def member(self, name: str, roles: Role, spc: str = "") -> LocalAccount:
        acct = Account.create()
        sp = roles & (Role.TNSP | Role.RESP_ORG | Role.TN_RESELLER | Role.OSP)
        self.govern(Action.admit(acct.address, roles, spc or (f"{secrets.randbelow(10000):04d}" if sp else ""), name))
        self.accounts[name] = acct
        return acct

    def onboarded(self, name: str, endorser: LocalAccount, kind: str = "enterprise") -> LocalAccount:
        acct = Account.create()
        self.ledger.onboard(endorser, acct.address, kind)
        self.accounts[name] = acct
        return acct

    def did(self, controller: LocalAccount) -> Did:
        key = SigningKey.generate()
        pk = bytes(key.verify_key)
        did = self_certifying_id(KeyType.ED25519, pk)
        self.ledger.transact(controller, "DIDRegistry", "create", did, "key-1", int(KeyType.ED25519), pk, 3)
        return Did(did, key, controller)

    def did_str(self, d: Did) -> str:
        return format_did(self.ledger.deployment.network, d.id)

    def anchor_for(self, kind: Kind, issuer: Did, subject: Did, *, tns: tuple[TNRange, ...] = (),
                   parent: bytes | None = None, flags: Flags = Flags.NONE, valid_from: int | None = None,
                   valid_until: int | None = None, cid: str | None = None, role: str | None = None,
                   **vetted: Any) -> Anchor:
        """A really signed VC 2.0 credential (eddsa-rdfc-2022 with the issuer DID's key-1) and its anchor.

        Fields a well-formed credential cannot express (tns on an identity, a root with a parent, an unknown
        parent id) are forced onto the anchor afterwards, so that the contract's refusals can be tested."""
        cid = cid or f"urn:uuid:{secrets.token_hex(16)}"
        vf = self.now - 60 if valid_from is None else valid_from
        vu = self.now + YEAR if valid_until is None else valid_until
        common = {"issuer": self.did_str(issuer), "subject": self.did_str(subject), "credential_id": cid,
                  "valid_from": vf, "valid_until": max(vu, vf + 1)}
        roles = {"role": role} if role is not None else {}
        if kind == Kind.ENTERPRISE_IDENTITY:  # ``vetted``: brand_name, logo, logo_integrity, call_reason, ...
            vc = enterprise_identity(**{"legal_name": "Acme Corp", "jurisdiction": "US-DE",
                                        "lei": "5493001KJTIIGC8Y1R12", "vetting_level": "full",
                                        "vetting_date": "2026-11-01", **vetted}, **common)
        elif kind == Kind.TN_RIGHT_TO_USE:
            vc = tn_right_to_use(ranges=tns or (TNRange(1_000_000),), may_originate=bool(flags & Flags.MAY_ORIGINATE),
                                 may_delegate=bool(flags & Flags.MAY_DELEGATE), **roles, **common)
        else:
            vc = tn_delegation(parent=self.cids.get(parent or b"", "urn:uuid:unknown-parent"),
                               ranges=tns or (TNRange(1_000_000),), may_originate=bool(flags & Flags.MAY_ORIGINATE),
                               may_delegate=bool(flags & Flags.MAY_DELEGATE), **roles, **common)
        head = self.backend.block(self.backend.head()).timestamp
        signed = sign(vc, Ed25519Key.from_seed(issuer.key.encode()),
                      verification_method=f"{self.did_str(issuer)}#key-1",
                      created=datetime.fromtimestamp(max(head, vf), UTC), loader=document_loader)
        a = anchor_of(signed)
        self.cids[a.id] = cid
        return replace(a, tns=tns, flags=flags, parent=parent or b"\x00" * 32, valid_from=vf, valid_until=vu)

    def anchor(self, issuer: Did, a: Anchor) -> Anchor:
        self.ledger.anchor(issuer.controller, [a.to_abi()])
        return a

    def record(self, cid: bytes) -> dict[str, Any]:
        r: dict[str, Any] = self.ledger.call("CredentialRegistry", "record", cid)
        return r

    def covers(self, cid: bytes, tn: int) -> bool:
        return bool(self.ledger.call("CredentialRegistry", "covers", cid, tn))


def populate(net: Net, rounds: int = 3, first: int = 0) -> dict[str, Any]:
    """Write every kind of event: members, onboarding, numbers, porting, DIDs, grants, delegations, status."""
    tnsp = net.member("tnsp", Role.TNSP, "1234")
    other = net.member("other", Role.TNSP, "5678")
    vetter = net.member("vetter", Role.VETTER)
    tnsp_did, other_did, vetter_did = net.did(tnsp), net.did(other), net.did(vetter)
    ids: list[bytes] = []
    for i in range(first, first + rounds):
        base = 12025550000 + i * 10000
        net.govern(Action.assign_blocks(base, 10000, tnsp.address))
        ent = net.did(net.onboarded(f"ent{i}", tnsp))
        cc = net.did(net.onboarded(f"cc{i}", tnsp, "call-center"))
        net.anchor(vetter_did, net.anchor_for(Kind.ENTERPRISE_IDENTITY, vetter_did, ent))
        g = net.anchor(tnsp_did, net.anchor_for(Kind.TN_RIGHT_TO_USE, tnsp_did, ent, tns=(TNRange(base, 100),),
                                                flags=Flags.MAY_ORIGINATE | Flags.MAY_DELEGATE))
        d = net.anchor(ent, net.anchor_for(Kind.TN_DELEGATION, ent, cc, tns=(TNRange(base, 10),), parent=g.id,
                                           flags=Flags.MAY_ORIGINATE))
        net.ledger.transact(ent.controller, "DIDRegistry", "rotate_key", ent.id, "key-1", "key-2", 1,
                            bytes(SigningKey.generate().verify_key), 3)
        net.govern(Action.port(base + 5, 1, other.address))
        if i % 2:
            net.ledger.transact(ent.controller, "CredentialRegistry", "revoke", d.id)
        else:
            net.ledger.transact(tnsp, "CredentialRegistry", "suspend", g.id)
        ids += [g.id, d.id]
    net.ledger.transact(other, "DIDRegistry", "deactivate", other_did.id)
    return {"credentials": ids}


@contextmanager
def refused(code: str) -> Iterator[None]:
    """Expect a LedgerRuleError with exactly this code (not a prefix, not a regex)."""
    with pytest.raises(LedgerRuleError) as exc:
        yield
    assert exc.value.code == code, f"expected {code}, got {exc.value.code}: {exc.value.message}"
