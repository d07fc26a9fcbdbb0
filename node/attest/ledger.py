"""The ledger mechanism: an enterprise PASSporT (``ppt: "eidln"``) proven against the local ledger copy.

Order of checks (each failure is one :class:`Reason`, the first one ends the evaluation):

0. the ledger copy: the :class:`~node.attest.snapshot.LedgerState` the call is decided on was confirmed current
   by the follower within the trunk's ``max_staleness`` (else ``ledger.stale``: during an outage nothing is
   proven from an old copy, so a revocation the node has not seen cannot earn **A**);
1. the signer: ``kid``'s DID is on this network's ledger and not deactivated; the key exists, is an
   assertionMethod key, existed at ``iat`` and is not revoked now (a rotated-away or compromised key proves nothing
   on a call placed now); its type matches ``alg``;
2. the signature, over the received bytes, with that key;
3. the credential: ``tnc`` names a TN grant or delegation in the index whose subject is the signer; it covers
   ``orig`` now (listed, active, in validity, every link above it live, the number still held by the grant's
   holder since the grant: :meth:`node.tnindex.TNIndex.covering_chain`); every link may originate; the grant's holder
   is still a TNSP / Resp Org member; no issuer DID up the chain is deactivated (the registry's ``covers`` does
   not look at issuers);
4. the parties (``docs/attestation.md`` §2.1): each link's subject has a role (enterprise, vendor, platform,
   reseller). The call's **enterprise of record** is the nearest enterprise link at or above the signer (none:
   ``enterprise.none``). By the trunk's ``vetting`` policy the enterprise of record and the signer (``parties``,
   the default), or every subject of the chain (``every-link``), hold a live vetted identity from an accepted
   agency and level (``enterprise.unvetted`` / ``signer.unvetted`` / ``party.unvetted``, naming the DID); the
   trunk's customer list (if any) names some party of the chain. The brand is the enterprise of record's.

Nothing here reads the network or the clock: ``now`` comes from the engine, and the whole evaluation reads one
:class:`~node.attest.snapshot.LedgerState` (the engine pins it per call), never a half-applied update.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from contracts.vocab import NUMBER_HOLDER_ROLES, Flags, Kind
from contracts.vocab import credential_key as _credential_key
from did_method.document import RELATIONSHIPS
from did_method.syntax import format_did
from node.tnindex import TNCredential
from wallet import keys
from wallet.passport import EnterpriseCall, Token

from .policy import TrunkPolicy
from .reasons import Reason
from .sip import CallRequest
from .snapshot import LedgerSnapshot, LedgerState, Vetting

__all__ = ["LedgerEvidence", "LedgerMechanism", "Link"]

_ASSERTION = dict((name, bit) for bit, name in RELATIONSHIPS)["assertionMethod"]
_TN_KINDS = (Kind.TN_RIGHT_TO_USE, Kind.TN_DELEGATION)
_HOLDER_ROLES = int(NUMBER_HOLDER_ROLES)  # CredentialRegistry.covers: the root holder must still be one
_ORIGINATING = frozenset(f for f in (Flags(v) for v in range(4)) if f & Flags.MAY_ORIGINATE)  # set lookup: no enum &


@dataclass(frozen=True, slots=True)
class Link:
    """One credential of the chain as evidence: who granted what to whom, in which role, with which rights."""

    key: bytes  # the registry key (SHA-256 of the credential id): GET /v1/credentials/0x… on any node
    kind: str  # "TN_RIGHT_TO_USE" or "TN_DELEGATION"
    issuer: str  # DID
    subject: str  # DID
    role: str
    may_originate: bool
    may_delegate: bool

    def to_json(self) -> dict[str, object]:
        return {"credential": "0x" + self.key.hex(), "kind": self.kind, "issuer": self.issuer,
                "subject": self.subject, "role": self.role, "mayOriginate": self.may_originate,
                "mayDelegate": self.may_delegate}


@dataclass(frozen=True, slots=True)
class LedgerEvidence:
    signer: str  # the kid (DID URL)
    enterprise: str  # the enterprise of record (DID): the nearest enterprise link at or above the signer
    chain: tuple[bytes, ...]  # credential keys, leaf first
    credential_id: str  # the tnc the PASSporT named
    vetting: Vetting | None  # the enterprise of record's vetted identity
    links: tuple[Link, ...] = ()  # leaf first, as ``chain``
    vetted: tuple[tuple[str, str], ...] = ()  # (party DID, vetting credential id) the policy checked

    @property
    def entity(self) -> str:
        """The enterprise of record's DID: what audit and traceback name."""
        return self.enterprise

    @property
    def brand_name(self) -> str | None:
        return self.vetting.brand_name if self.vetting is not None else None

    def to_json(self) -> dict[str, object]:
        return {"signer": self.signer, "enterprise": self.enterprise, "credential": self.credential_id,
                "chain": ["0x" + c.hex() for c in self.chain], "links": [link.to_json() for link in self.links],
                "vettedIdentity": self.vetting.credential_id if self.vetting else None,
                "vetted": dict(self.vetted),
                **({"brandName": self.brand_name} if self.brand_name else {})}


@lru_cache(maxsize=1 << 14)
def _key_of(credential_id: str) -> bytes:
    """The registry key of a credential id (SHA-256), memoized: a signer names the same credential on every call."""
    return _credential_key(credential_id)


class LedgerMechanism:
    name = "ledger"
    verified = "ledger.verified"
    tokens: tuple[type, ...] = (EnterpriseCall,)

    def __init__(self, snapshot: LedgerSnapshot) -> None:
        self.snapshot = snapshot

    def evaluate(self, token: Token | None, *, trunk: TrunkPolicy, now: int, ledger: LedgerState | None = None,
                 req: CallRequest | None = None) -> LedgerEvidence | Reason | None:
        """Prove ``token`` from ``ledger`` (the version the engine pinned for this call; default: the current one).
        ``req`` (the SIP facts) is not needed: the token's orig and dest were matched to it by the engine. A token
        of another type is not this mechanism's (None)."""
        if not isinstance(token, EnterpriseCall):
            return None
        call = token
        snap = self.snapshot
        st = ledger if ledger is not None else snap.state
        age = st.age(now)
        if age is None or age > trunk.max_staleness:
            when = "never" if age is None else f"{age:.0f} s ago"
            return Reason("ledger.stale", f"the ledger copy was last confirmed current {when} "
                                          f"(limit {trunk.max_staleness} s)")
        did = call.kid.did
        if did.network != snap.network:
            return Reason("did.not_found", f"{did} is not on network {snap.network}")
        state = snap.did_state(did.ident)
        if state is None:
            return Reason("did.not_found", str(did))
        if state.deactivated:
            return Reason("did.deactivated", str(did))
        key = state.keys.get(call.kid.fragment or "")
        if key is None or not key.relationships & _ASSERTION:
            return Reason("key.not_found", str(call.kid))
        if key.revoked_at is not None and key.revoked_at <= now:
            return Reason("key.revoked", str(call.kid))
        if not key.active_at(call.iat):
            return Reason("key.not_valid_at_iat", str(call.kid))
        if key.key_type is not call.key_type:
            return Reason("ppt.alg_key_mismatch", f"alg {call.alg} but {call.kid} is a {key.key_type.name} key")
        parsed = call.parsed
        if not keys.verify(key.key_type, key.public_key, parsed.signing_input, parsed.signature):
            return Reason("ppt.bad_signature", str(call.kid))
        return self._chain(call, trunk, now, did.ident, st)

    def _chain(self, call: EnterpriseCall, trunk: TrunkPolicy, now: int, signer: bytes, st: LedgerState
               ) -> LedgerEvidence | Reason:
        snap = self.snapshot
        cid = _key_of(call.credential_id)
        tn = st.tn
        cred = tn.get(cid)
        if cred is None:
            return Reason("tnc.unknown", call.credential_id)
        if cred.kind not in _TN_KINDS:
            return Reason("tnc.not_tn_credential", call.credential_id)
        if cred.subject != signer:
            return Reason("tnc.not_holder", f"{call.credential_id} belongs to "
                                            f"{format_did(snap.network, cred.subject)}")
        if not call.orig.isdigit():  # "*67", "#31#": feature codes, never on the ledger
            return Reason("tn.not_in_range", f"{call.orig} is not an E.164 number")
        found = tn.covering_chain(cid, int(call.orig), now)
        if isinstance(found, str):
            return Reason(found, f"{call.credential_id} for {call.orig}")
        links = found.links
        if any(link.flags not in _ORIGINATING for link in links):
            return Reason("tnc.relay_only", call.credential_id)
        if not st.roles(links[-1].root_holder) & _HOLDER_ROLES:
            return Reason("tnc.holder_not_member", links[-1].root_holder)
        for link in links:  # the registry's covers() does not look at the issuers up the chain; we do
            issuer = snap.did_state(link.issuer)
            if issuer is None or issuer.deactivated:
                return Reason("tnc.issuer_deactivated", format_did(snap.network, link.issuer))
        return self._parties(call, trunk, now, signer, links, st)

    def _parties(self, call: EnterpriseCall, trunk: TrunkPolicy, now: int, signer: bytes,
                 links: tuple[TNCredential, ...], st: LedgerState) -> LedgerEvidence | Reason:
        """Enterprise of record, vetting by party, the trunk's customers (module notice, step 4)."""
        did = self.snapshot.network
        record = next((link for link in links if link.role == "enterprise"), None)
        if record is None:
            return Reason("enterprise.none", f"no link of the chain for {call.credential_id} names an enterprise")
        enterprise = record.subject
        agencies, levels, auth = trunk.vetting_agencies, trunk.vetting_levels, trunk.vetting_did_auth
        required: list[tuple[bytes, str]] = []
        if trunk.vetting != "none":
            required.append((enterprise, "enterprise.unvetted"))
            if signer != enterprise:
                required.append((signer, "signer.unvetted"))
            if trunk.vetting == "every-link":
                required += [(link.subject, "party.unvetted") for link in links
                             if link.subject not in (enterprise, signer)]
        vetted: dict[bytes, Vetting] = {}
        for ident, code in required:
            if ident in vetted:
                continue
            found = st.vetting(ident, now, agencies=agencies, levels=levels, did_auth=auth)
            if found is None:
                return Reason(code, format_did(did, ident))
            vetted[ident] = found
        if trunk.customers and not any(link.subject in trunk.customers for link in links):
            return Reason("trunk.not_customer", f"{call.kid.did} on trunk {trunk.trunk}")
        vetting = vetted.get(enterprise) or st.vetting(enterprise, now, agencies=agencies, levels=levels, did_auth=auth)
        return LedgerEvidence(
            str(call.kid), format_did(did, enterprise), tuple(c.id for c in links), call.credential_id, vetting,
            tuple(Link(c.id, c.kind.name, format_did(did, c.issuer), format_did(did, c.subject), c.role,
                       bool(c.flags & Flags.MAY_ORIGINATE), bool(c.flags & Flags.MAY_DELEGATE)) for c in links),
            tuple((format_did(did, ident), v.credential_id) for ident, v in vetted.items()))
