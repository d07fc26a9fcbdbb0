"""Traceback bundles: the evidence of one attestation decision, signed by the OSP, re-verifiable offline.

A carrier shows a regulator why it attested a call **A** with one file. :func:`build_bundle` gathers, for one audit
record, everything needed to re-check the decision without the network or the ledger; :func:`verify_bundle` re-checks
it and returns a :class:`BundleVerification` (it never raises for bad input). Both are pure: the index, the DID
resolver, the key and the clock are passed in (:class:`IndexReaders` is the node's own pair of readers).

**The file** is UTF-8 JSON ``{"content": {…}, "signature": "<jws>"}`` serialized by :func:`bundle_bytes`: member
names sorted, one-space indent, ``", "`` / ``": "`` separators, non-ASCII kept, a final newline. ``content`` holds:

* ``format``: ``"eidln-audit-bundle/1"``; ``createdAt``: when the bundle was made (Unix seconds);
* ``decision``: the audit record exactly as stored (``origid``, ``decided_at``, ``trunk``, ``orig``, ``dest``,
  ``attest``, ``mechanism``, ``reasons``, ``evidence``, ``ledger_position``, ``identity`` — the OSP's SHAKEN Identity
  header —, ``identities`` — the enterprise Identity headers the call carried, as received —, ``rcd``);
* ``ledger``: ``network``, ``chainId`` and ``position`` (the decision's ``[block, log index]``);
* ``chain``: every signed credential of the evidence's ``chain`` (leaf first), and ``vetting``: every vetting
  credential the evidence names (``vettedIdentity``, ``vetted``), each as ``{"key": "0x…" (registry key),
  "anchoredBlock", "anchoredAt", "credential": {the signed VC}}``;
* ``didDocuments``: ``{"did", "versionTime", "didDocument", "didDocumentMetadata"}`` — the enterprise signer's DID at
  the ``iat`` of each PASSporT of the call that names the evidence's signer and credential (a call may carry a forged
  one with the same names before the real one), and each credential issuer's DID at ``min(proof created,
  anchoredAt)``: the key the node's sync checked the proof with (:mod:`node.sync.verify` replays the history before
  the anchoring event as of ``created``). Anyone can compare them with ``GET /1.0/identifiers/{did}?versionTime=…``
  on any node.

``signature`` is a compact JWS with a detached payload (RFC 7515 appendix F): header ``{"alg": "ES256", "typ":
"eidln-audit-bundle+jws", "x5c": [base64 DER, leaf first]}`` (``"jwk"`` with the public key instead when the node has
no certificate chain), signed by the OSP's STI key over ``header.`` + base64url of
:func:`wallet.passport.canonical_json` of ``content``.

**One byte changed anywhere fails.** The verifier parses the file strictly (:func:`wallet.strictjson.loads`: no
duplicate members, bounded size and depth) and requires the file to be exactly :func:`bundle_bytes` of what it parsed:
a change that leaves the parsed value equal changes the form (``bundle.format``); any other change alters ``content``
or the JWS (``bundle.signature``). Base64 decoding is canonical, so no two spellings of one signature exist.

**Checks** (each a :class:`Check` with a code, ``ok`` / ``failed`` / ``skipped`` and a sentence):

* ``bundle.format``: strict JSON, canonical form, the fields and types above;
* ``bundle.signature``: the JWS verifies with the OSP key (``x5c[0]`` or ``jwk``);
* ``bundle.certificate``: with trust roots, ``x5c`` chains to one of them at the decision's time
  (:func:`node.shaken.pki.verify_chain`); skipped without roots;
* ``bundle.shaken_signature``: the OSP's SHAKEN PASSporT verifies with the same key;
* ``bundle.shaken_claims``: its ``attest``, ``orig``, ``dest``, ``origid`` (and ``rcd``, ``rcdi``, ``crn``) are the
  decision's;
* ``bundle.evidence``: what the decision rests on (A on ledger evidence, A on the OSP's own numbers, or B / C with
  the OSP's reasons); an A by a mechanism this version cannot re-check fails;
* for an A by the ledger mechanism: ``bundle.ppt_token`` (an enterprise PASSporT of the call names the evidence's
  signer and credential; of several, the first that verifies), ``bundle.ppt_key`` (the signer's DID document at
  ``iat`` lists the key for assertionMethod), ``bundle.ppt_signature``, ``bundle.ppt_claims`` (``orig`` is the
  decision's, the decision's ``dest`` are in it, ``tnc`` is the leaf credential); ``bundle.credential_proof`` once per
  credential (its Data Integrity proof with the issuer's key from the bundled DID document, the offline loader);
  ``bundle.chain_keys`` (registry keys = SHA-256 of the ids = the evidence's ``chain``), ``bundle.chain_links`` (leaf
  held by the signer, each delegation's ``parentCredential`` is the next, issued by its subject, a grant at the root),
  ``bundle.chain_ranges`` (``orig`` in the leaf's TNAuthList, each child's ranges within its parent's),
  ``bundle.chain_parties`` (kind, issuer, subject, role, rights = the evidence's ``links``; the enterprise of record is
  the nearest enterprise link), ``bundle.chain_validity`` (every credential in its validity at the decision),
  ``bundle.vetting`` (the vetting credentials are identity credentials of the enterprise of record and of each party
  of ``vetted``, and carry the ``brandName`` the evidence shows);
* ``bundle.ledger``: ``position`` is the decision's, every credential was anchored at or before it, every DID is on the
  bundle's network.

What a bundle does not prove offline: the status (revoked, suspended) of a credential and the revocation of a key
after ``iat`` at the decision's ledger position are the OSP's word (signed), as are B and C reasons; the chain's
certificate is checked only against roots the verifier brings.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts.vocab import credential_key
from did_method.ident import KeyType
from did_method.multikey import to_jwk
from did_method.resolver import Resolver
from did_method.timefmt import parse_date_time_stamp
from node.errors import NodeError
from node.shaken.sign import ShakenSigner
from wallet import strictjson
from wallet.errors import CodedError
from wallet.passport import b64url_encode, canonical_json, parse_call

if TYPE_CHECKING:
    from node.sync.indexview import IndexView

__all__ = ["FORMAT", "MAX_BUNDLE", "Anchored", "BundleVerification", "Check", "IndexReaders", "build_bundle",
           "bundle_bytes", "candidates", "issuer_time"]

FORMAT = "eidln-audit-bundle/1"
JWS_TYPE = "eidln-audit-bundle+jws"
MAX_BUNDLE = 4 << 20  # bytes: a chain of a dozen 6 KiB credentials and their DID documents is far below
_RECORD: dict[str, type | tuple[type, ...]] = {  # what a bundle needs of an audit record, with its types
    "origid": str, "decided_at": (int, float), "trunk": str, "orig": str, "dest": list, "attest": str, "reasons": list,
    "identity": str}


@dataclass(frozen=True, slots=True)
class Anchored:
    """A credential as the node's index keeps it: the signed bytes and where the ledger anchored them."""

    credential: bytes
    block: int
    at: int


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    status: str  # "ok", "failed" or "skipped"
    detail: str

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True, slots=True)
class BundleVerification:
    """What :func:`verify_bundle` found: every check done, in order. ``ok`` only when none failed."""

    checks: tuple[Check, ...]
    origid: str | None = None
    attest: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


class IndexReaders:
    """:func:`build_bundle`'s readers over the node's own index: credentials by registry key, DID documents as of a
    time (``view`` is the node's :class:`node.sync.indexview.IndexView`)."""

    def __init__(self, view: IndexView, resolver: Resolver) -> None:
        self.view = view
        self.resolver = resolver

    def credential(self, key: bytes) -> Anchored | None:
        found = self.view.read(lambda r: r.anchoring(key))
        return Anchored(bytes(found[0]), int(found[1]), int(found[2])) if found else None

    def resolve_at(self, did: str, at: int) -> dict[str, Any] | None:
        res = self.resolver.resolve(did, version_time=at)
        return None if res.error is not None else res.to_json()


# ------------------------------------------------------------------------------------------------ build


def _incomplete(message: str) -> NodeError:
    return NodeError(message, code="audit.bundle_incomplete")


def issuer_time(vc: Mapping[str, Any], anchored_at: int) -> int | None:
    """When the issuer's key is looked up: the proof's ``created``, or the anchoring time if that is earlier."""
    proof = vc.get("proof")
    created = parse_date_time_stamp(proof.get("created")) if isinstance(proof, dict) else None
    return None if created is None else min(created, anchored_at)


def _entry(credentials: Callable[[bytes], Anchored | None], key: bytes, what: str) -> dict[str, Any]:
    found = credentials(key)
    if found is None:
        raise _incomplete(f"{what} 0x{key.hex()} is not in the node's index")
    try:
        vc = strictjson.loads(found.credential, max_bytes=MAX_BUNDLE)
    except strictjson.JsonError as exc:
        raise _incomplete(f"{what} 0x{key.hex()} is not readable in the node's index ({exc.code})") from None
    return {"key": "0x" + key.hex(), "anchoredBlock": found.block, "anchoredAt": found.at, "credential": vc}


def candidates(identities: Sequence[str], evidence: Mapping[str, Any]) -> list[Any]:
    """The enterprise PASSporTs of the call that name the evidence's signer (kid) and credential (tnc), in order: one
    of them is the token the decision rests on (a call may carry a forged one with the same names before it)."""
    out = []
    for header in identities:
        try:
            call = parse_call(header)
        except CodedError:
            continue
        if str(call.kid) == evidence.get("signer") and call.credential_id == evidence.get("credential"):
            out.append(call)
    return out


def build_bundle(record: Mapping[str, Any], *, credentials: Callable[[bytes], Anchored | None],
                 resolve_at: Callable[[str, int], dict[str, Any] | None], signer: ShakenSigner,
                 certificates: Sequence[x509.Certificate] = (), network: str, chain_id: int, now: int
                 ) -> dict[str, Any]:
    """The signed bundle of one audit record (module notice). ``credentials``: registry key → the anchored
    credential; ``resolve_at``: DID and time → a DID resolution result (``didDocument``, ``didDocumentMetadata``), or
    None; ``certificates``: the STI chain, leaf first (its key must be ``signer.key``). Raises ``NodeError``
    ``audit.bundle_incomplete`` when the index cannot supply what the decision rests on."""
    if not isinstance(record, Mapping) or any(not isinstance(record.get(k), t) for k, t in _RECORD.items()):
        raise _incomplete("the audit record lacks the fields a bundle needs (an identity header, the decision)")
    leaf = signer.key.public_key
    if certificates and certificates[0].public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint) != leaf:
        raise ValueError("the first certificate of the chain is not the STI key's")
    def lookup(did: str, at: int) -> dict[str, Any] | None:
        res = resolve_at(did, at)
        return res if isinstance(res, dict) and isinstance(res.get("didDocument"), dict) else None

    decision = dict(record)
    chain: list[dict[str, Any]] = []
    vetting: list[dict[str, Any]] = []
    resolved: dict[tuple[str, int], dict[str, Any] | None] = {}
    evidence = decision.get("evidence")
    if decision["attest"] == "A" and decision.get("mechanism") == "ledger" and isinstance(evidence, dict):
        keys_ = [str(k) for k in evidence.get("chain", [])]
        if not all(re.fullmatch(r"0x[0-9a-f]{64}", k) for k in keys_):
            raise _incomplete("the evidence's chain is not a list of registry keys")
        chain = [_entry(credentials, bytes.fromhex(k[2:]), "chain credential") for k in keys_]
        ids = [evidence.get("vettedIdentity"), *dict(evidence.get("vetted") or {}).values()]
        vetting = [_entry(credentials, credential_key(i), "vetting credential")
                   for i in dict.fromkeys(i for i in ids if isinstance(i, str))]
        for call in candidates(decision.get("identities") or [], evidence):  # the signer's DID at each one's iat
            resolved[(str(call.kid.did), call.iat)] = lookup(str(call.kid.did), call.iat)
        if not any(resolved.values()):
            raise _incomplete("the audit record does not keep the enterprise PASSporT the decision rests on, or its "
                              "signer's DID does not resolve as of its iat")
        for e in chain + vetting:  # each issuer's DID as the node's sync checked the proof
            at = issuer_time(e["credential"], e["anchoredAt"])
            issuer = e["credential"].get("issuer")
            if at is None or not isinstance(issuer, str):
                raise _incomplete(f"credential {e['key']} has no issuer or proof time")
            if (issuer, at) not in resolved:
                resolved[(issuer, at)] = lookup(issuer, at)
            if resolved[(issuer, at)] is None:
                raise _incomplete(f"the issuer {issuer} of {e['key']} does not resolve as of {at}")
    docs = [{"did": did, "versionTime": at, "didDocument": res["didDocument"],
             "didDocumentMetadata": res.get("didDocumentMetadata", {})}
            for (did, at), res in sorted(resolved.items()) if res is not None]
    content = {"format": FORMAT, "createdAt": now, "decision": decision,
               "ledger": {"network": network, "chainId": chain_id, "position": decision.get("ledger_position")},
               "chain": chain, "vetting": vetting, "didDocuments": docs}
    header: dict[str, Any] = {"alg": "ES256", "typ": JWS_TYPE}
    if certificates:
        header["x5c"] = [base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii") for c in certificates]
    else:
        header["jwk"] = to_jwk(KeyType.P256, leaf)
    head = b64url_encode(canonical_json(header))
    signature = signer.key.sign(f"{head}.{b64url_encode(canonical_json(content))}".encode("ascii"))
    return {"content": content, "signature": f"{head}..{b64url_encode(signature)}"}


def bundle_bytes(bundle: Mapping[str, Any]) -> bytes:
    """The bundle's file bytes: the one form :func:`verify_bundle` accepts (module notice)."""
    text = json.dumps(bundle, sort_keys=True, indent=1, separators=(",", ": "), ensure_ascii=False,
                      allow_nan=False)
    return (text + "\n").encode("utf-8")
