"""Why a call got the attestation it got: a closed set of reason codes, each with a sentence for a person.

A :class:`Reason` is data, not an exception: the engine collects one per check that decided (or failed) and the
decision record keeps them for audit and traceback. ``docs/errors.md`` lists every code (a test keeps it in sync).

Reason codes keep the names of the checks that set them, with one documented translation: a refused enterprise
PASSporT's :class:`~wallet.passport.PassportError` code (``passport.*``, what is wrong with a token) becomes the
decision's ``ppt.*`` reason (why this call's PASSporT proved nothing) by :data:`FROM_PASSPORT`, a table over every
PASSporT code, and :meth:`Reason.refused` keeps the raised code at the head of the detail
(``passport.bad_base64: …``). The ``ppt.*`` names are the decision's published vocabulary (the ``/v1/attest`` answer,
audit records, signed traceback bundles, metrics labels), so they stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from wallet.passport import PassportError

__all__ = ["Reason", "REASONS", "FROM_PASSPORT"]

REASONS: dict[str, str] = {
    # outcomes
    "osp.assigned_number": "The OSP itself assigned the calling number to this trunk's customer (plain SHAKEN A).",
    "ledger.verified": "The enterprise PASSporT verified and the ledger shows a live chain for the calling number.",
    "evidence.none": "The call carried no enterprise PASSporT that a mechanism of this trunk could use.",
    "trunk.unknown": "The call came in on a trunk the local policy does not know (gateway: C).",
    "trunk.gateway": "The trunk is an interconnect gateway in the local policy: every call gets C.",
    "ledger.stale": "The node's ledger copy has not been confirmed current within the policy's max_staleness "
                    "(the chain or the follower is down): ledger evidence proves nothing until it is.",
    "engine.error": "An internal error stopped the evaluation; the call was not given A (see the node log).",
    "trunk.not_customer": "The signer and its enterprise are not customers of this trunk.",
    "mechanism.not_allowed": "The evidence is of a mechanism this trunk's policy does not accept.",
    "mechanism.unavailable": "The trunk's policy names a mechanism this node does not run (not configured).",
    # the token
    "ppt.malformed": "The enterprise Identity header or PASSporT does not parse (bad syntax, base64 or JSON).",
    "ppt.too_large": "The enterprise Identity header or PASSporT is larger than allowed.",
    "ppt.wrong_type": "The PASSporT is not an enterprise PASSporT (ppt is not 'eidln').",
    "ppt.alg_not_allowed": "The PASSporT's algorithm is not allowed (only EdDSA and ES256, as the policy lists).",
    "ppt.alg_key_mismatch": "The PASSporT's alg does not match the type of the key its kid names.",
    "ppt.bad_kid": "The PASSporT's kid is not a DID URL naming a key, or info differs from kid.",
    "ppt.bad_claims": "The PASSporT's claims are missing or of the wrong shape.",
    "ppt.stale": "The PASSporT's iat is older than the freshness window.",
    "ppt.future": "The PASSporT's iat is further in the future than the allowed clock skew.",
    "ppt.orig_mismatch": "The PASSporT's orig is not the call's calling number.",
    "ppt.dest_mismatch": "The PASSporT's dest does not include the call's called number.",
    "ppt.bad_signature": "The PASSporT's signature does not verify with the key the ledger holds for its kid.",
    "ppt.replay": "The same PASSporT was already used within its freshness window.",
    # the signer
    "did.not_found": "The signer's DID is not on this network's ledger.",
    "did.deactivated": "The signer's DID is deactivated.",
    "key.not_found": "The DID has no such key, or the key is not an assertionMethod key.",
    "key.not_valid_at_iat": "The key did not exist at the PASSporT's iat.",
    "key.revoked": "The key has been revoked (or rotated away).",
    # the credential chain
    "tnc.unknown": "The referenced TN credential is not in the ledger copy (never anchored, or refused at sync).",
    "tnc.not_holder": "The referenced TN credential belongs to someone else, not to the signer.",
    "tnc.not_tn_credential": "The referenced credential is not a TN right-to-use grant or delegation.",
    "tnc.relay_only": "A link of the chain does not allow originating calls (relay only).",
    "tnc.holder_not_member": "The grant's holder is no longer a TNSP or Resp Org member of the network.",
    "tnc.issuer_deactivated": "An issuer DID up the chain (the TNSP's, or a delegating party's) is deactivated.",
    "tn.not_in_range": "The calling number is not in the credential's numbers.",
    "tn.revoked": "The credential (or a link above it) is revoked.",
    "tn.suspended": "The credential is suspended.",
    "tn.expired": "The credential has expired.",
    "tn.not_yet_valid": "The credential is not valid yet.",
    "tn.parent_not_live": "A credential above it in the chain is revoked, suspended or expired.",
    "tn.ported": "The number was ported away from the holder whose grant starts the chain.",
    "tn.unknown": "The credential is unknown to the TN index.",
    "enterprise.none": "No link of the credential chain names an enterprise (only vendors, platforms, resellers).",
    "enterprise.unvetted": "The enterprise of record (the nearest enterprise link at or above the signer) holds no "
                           "live vetted identity the trunk's policy accepts.",
    "signer.unvetted": "The signer (a vendor, platform or reseller, not the enterprise of record) holds no live "
                       "vetted identity the trunk's policy accepts.",
    "party.unvetted": "A party of the chain holds no live vetted identity, and the trunk's policy vets every link.",
    # rich call data
    "rcd.not_vetted": "The rich call data name differs from the enterprise's vetted brand; no rich call data is "
                      "passed on.",
    "rcd.icn_not_vetted": "The rcd icn is not the enterprise's vetted logo with a vetted integrity digest; it is "
                          "dropped.",
    "rcd.member_not_vetted": "An rcd member that vetting does not cover (apn, jcd, jcl) is dropped.",
    "rcd.crn_not_vetted": "The call reason (crn) is not one of the enterprise's vetted call reasons; it is dropped.",
}


# passport.* (raised by wallet.passport.parse_call) -> ppt.* (a reason above); every PASSporT code is listed
# (tests/node/attest/test_engine.py checks it).
FROM_PASSPORT: dict[str, str] = {
    "passport.malformed": "ppt.malformed",
    "passport.bad_base64": "ppt.malformed",
    "passport.duplicate_key": "ppt.malformed",
    "passport.bad_header": "ppt.malformed",
    "passport.too_large": "ppt.too_large",
    "passport.wrong_ppt": "ppt.wrong_type",
    "passport.alg_not_allowed": "ppt.alg_not_allowed",
    "passport.bad_kid": "ppt.bad_kid",
    "passport.bad_claims": "ppt.bad_claims",
    "passport.missing_claim": "ppt.bad_claims",
    "passport.bad_rcd": "ppt.bad_claims",
    "passport.no_integrity": "ppt.bad_claims",
    "passport.bad_integrity": "ppt.bad_claims",
    "passport.dangling_integrity": "ppt.bad_claims",
    "passport.integrity_mismatch": "ppt.bad_claims",
    "passport.bad_crn": "ppt.bad_claims",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason: a code from :data:`REASONS` and a detail naming the specific value (never key material)."""

    code: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.code not in REASONS:
            raise ValueError(f"unknown reason code {self.code!r}")

    @classmethod
    def refused(cls, exc: PassportError) -> Reason:
        """The reason a PASSporT the codec refused gives (:data:`FROM_PASSPORT`), the raised code kept in the detail."""
        return cls(FROM_PASSPORT[exc.code], f"{exc.code}: {exc.message}")

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "text": REASONS[self.code], **({"detail": self.detail} if self.detail else {})}
