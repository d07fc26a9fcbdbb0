"""Re-checking a traceback bundle offline: :func:`verify_bundle` (the checks are listed in :mod:`node.attest.bundle`).

Split from the builder so that each module stays small; the format, :class:`~node.attest.bundle.Check` and
:class:`~node.attest.bundle.BundleVerification` live there.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from contracts.vocab import Flags, Kind
from did_method.errors import DidError
from did_method.ident import KeyType
from did_method.multikey import decode_public_key
from did_method.syntax import format_did, parse_did, parse_did_url
from did_method.timefmt import parse_date_time_stamp, xml_datetime
from node.attest.bundle import (
    _RECORD,
    FORMAT,
    JWS_TYPE,
    MAX_BUNDLE,
    BundleVerification,
    Check,
    bundle_bytes,
    candidates,
    issuer_time,
)
from node.shaken.errors import ShakenError
from node.shaken.pki import verify_chain
from wallet import keys, strictjson
from wallet.credentials import CredentialError, anchor_of, role_of
from wallet.dataintegrity import document_loader
from wallet.dataintegrity import verify as verify_proof
from wallet.dataintegrity.canon import Loader
from wallet.errors import CodedError
from wallet.passport import b64url_decode, b64url_encode, canonical_json, parse_identity
from wallet.passport import verify_signature as verify_passport
from wallet.passport.shaken import ShakenPassport, decode_shaken

__all__ = ["verify_bundle"]



class _Bad(Exception):
    """One check failed; the message says why."""


def _need(cond: object, message: str) -> None:
    if not cond:
        raise _Bad(message)


def _shape(content: Any) -> None:
    _need(isinstance(content, dict), "content is not an object")
    _need(content.get("format") == FORMAT, f"format is not {FORMAT!r}")
    d = content.get("decision")
    _need(isinstance(d, dict), "decision is not an object")
    for name, kind in _RECORD.items():
        _need(isinstance(d.get(name), kind) and not isinstance(d.get(name), bool), f"decision.{name} is missing or "
                                                                                   "of the wrong type")
    _need(all(isinstance(x, str) for x in d["dest"]), "decision.dest is not a list of numbers")
    _need(isinstance(d.get("identities") or [], list) and all(isinstance(x, str) for x in d.get("identities") or []),
          "decision.identities is not a list of strings")
    for name in ("evidence", "rcd"):
        _need(d.get(name) is None or isinstance(d[name], dict), f"decision.{name} is not an object")
    ledger = content.get("ledger")
    _need(isinstance(ledger, dict) and isinstance(ledger.get("network"), str)
          and type(ledger.get("chainId")) is int, "ledger is not {network, chainId, position}")
    for name in ("chain", "vetting"):
        items = content.get(name)
        _need(isinstance(items, list), f"{name} is not a list")
        for e in items:
            _need(isinstance(e, dict) and isinstance(e.get("key"), str) and isinstance(e.get("credential"), dict)
                  and type(e.get("anchoredBlock")) is int and type(e.get("anchoredAt")) is int,
                  f"an entry of {name} is not {{key, anchoredBlock, anchoredAt, credential}}")
    docs = content.get("didDocuments")
    _need(isinstance(docs, list), "didDocuments is not a list")
    seen = set()
    for e in docs:
        _need(isinstance(e, dict) and isinstance(e.get("did"), str) and type(e.get("versionTime")) is int
              and isinstance(e.get("didDocument"), dict), "an entry of didDocuments is not {did, versionTime, "
                                                          "didDocument}")
        _need((e["did"], e["versionTime"]) not in seen, f"{e['did']} at {e['versionTime']} is given twice")
        seen.add((e["did"], e["versionTime"]))


def _p256_point(key: Any) -> bytes:
    _need(isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1),
          "the OSP key is not a P-256 key")
    return bytes(key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint))


def _jws_key(header: Mapping[str, Any]) -> tuple[bytes, list[x509.Certificate]]:
    """The OSP's public key (compressed P-256) and the certificate chain of the bundle's JWS header."""
    if ("x5c" in header) == ("jwk" in header):
        raise _Bad("the JWS header must carry x5c or jwk (one of them)")
    if "x5c" in header:
        chain = header["x5c"]
        _need(isinstance(chain, list) and chain and all(isinstance(c, str) for c in chain), "x5c is not a list")
        certs = []
        for text in chain:
            try:
                der = base64.b64decode(text, validate=True)
                _need(base64.b64encode(der).decode("ascii") == text, "an x5c entry is not canonical base64")
                certs.append(x509.load_der_x509_certificate(der))
            except (binascii.Error, ValueError) as exc:
                raise _Bad(f"an x5c entry is not a DER certificate ({exc})") from None
        return _p256_point(certs[0].public_key()), certs
    jwk = header["jwk"]
    _need(isinstance(jwk, dict) and set(jwk) == {"kty", "crv", "x", "y"} and jwk["kty"] == "EC"
          and jwk["crv"] == "P-256", "jwk is not an EC P-256 public key")
    try:
        x, y = (int.from_bytes(b64url_decode(jwk[c]), "big") for c in ("x", "y"))
        return _p256_point(ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()), []
    except (CodedError, ValueError, TypeError):
        raise _Bad("jwk is not a point of P-256") from None


class _Verifier:
    def __init__(self, content: dict[str, Any], signature: str, roots: Sequence[x509.Certificate] | None,
                 loader: Loader) -> None:
        self.c, self.signature, self.roots, self.loader = content, signature, roots, loader
        self.d: dict[str, Any] = content["decision"]
        self.network: str = content["ledger"]["network"]
        self.docs = {(e["did"], e["versionTime"]): e["didDocument"] for e in content["didDocuments"]}
        self.key: bytes | None = None  # the OSP's (compressed P-256), once the bundle signature was read
        self.certs: list[x509.Certificate] = []
        self.checks: list[Check] = []
        self.call: Any = None  # the enterprise PASSporT the evidence rests on
        self.ppt_public: tuple[KeyType, bytes] = (KeyType.ED25519, b"")

    def run(self, *, code: str, step: Callable[[], str | None]) -> bool:
        """Run one check: ``step`` returns the sentence of a pass (None: skipped); :class:`_Bad` fails it. Any other
        exception fails it too: a verifier of untrusted input never raises."""
        try:
            detail = step()
        except _Bad as exc:
            self.checks.append(Check(code, "failed", str(exc)))
            return False
        except Exception as exc:  # noqa: BLE001 - hostile input must end as a failed check, not a traceback
            self.checks.append(Check(code, "failed", f"cannot be checked: {type(exc).__name__}: {str(exc)[:200]}"))
            return False
        self.checks.append(Check(code, "skipped", "not checked: no trust roots given") if detail is None
                           else Check(code, "ok", detail))
        return True

    @property
    def decided(self) -> int:
        return int(self.d["decided_at"])

    # ---------------------------------------------------------------- the OSP
    def bundle_signature(self) -> str:
        parts = self.signature.split(".")
        _need(len(parts) == 3 and parts[0] and not parts[1] and parts[2], "not a detached compact JWS (header..sig)")
        try:
            header = strictjson.loads(b64url_decode(parts[0]), max_bytes=64 * 1024, max_depth=4)
            sig = b64url_decode(parts[2])
        except (CodedError, ValueError) as exc:
            raise _Bad(f"the JWS is not strict base64url JSON ({exc})") from None
        _need(isinstance(header, dict) and header.get("alg") == "ES256" and header.get("typ") == JWS_TYPE
              and "crit" not in header and set(header) <= {"alg", "typ", "x5c", "jwk"},
              f"the JWS header is not {{alg: ES256, typ: {JWS_TYPE}, x5c | jwk}}")
        self.key, self.certs = _jws_key(header)
        data = f"{parts[0]}.{b64url_encode(canonical_json(self.c))}".encode("ascii")
        _need(keys.verify(KeyType.P256, self.key, data, sig), "the OSP's signature does not verify over the content")
        who = self.certs[0].subject.rfc4514_string() if self.certs else "a bare key (no certificate chain)"
        return f"signed by {who}"

    def certificate(self) -> str | None:
        if self.roots is None:
            return None
        _need(self.key is not None, "no OSP key to judge (the bundle signature could not be read)")
        _need(self.certs, "the bundle carries no certificate chain (signed with a bare key)")
        when = datetime.fromtimestamp(self.decided, UTC)
        try:
            verify_chain(self.certs[0], self.certs[1:], list(self.roots), now=when)
        except ShakenError as exc:
            raise _Bad(exc.message) from None
        return f"{self.certs[0].subject.rfc4514_string()} chains to a trusted root at {xml_datetime(when)}"

    def shaken(self) -> ShakenPassport:
        try:
            return decode_shaken(parse_identity(self.d["identity"]).token)  # the one SHAKEN PASSporT decoder
        except CodedError as exc:
            raise _Bad(f"the OSP's Identity header does not parse ({exc.code}: {exc.message})") from None

    def shaken_signature(self) -> str:
        _need(self.key is not None, "no OSP key (the bundle signature failed)")
        parsed = self.shaken()
        _need(parsed.header.get("alg") == "ES256" and parsed.header.get("ppt") == "shaken", "not an ES256 SHAKEN "
                                                                                           "PASSporT")
        _need(verify_passport(parsed.parsed, KeyType.P256, self.key or b""), "the SHAKEN PASSporT is not signed by the "
                                                                      "bundle's OSP key")
        return f"SHAKEN PASSporT signed by the OSP key (x5u {str(parsed.header.get('x5u'))[:120]})"

    def shaken_claims(self) -> str:
        claims, d = self.shaken().claims, self.d
        passed = d.get("rcd") or {}
        want = {"attest": d["attest"], "orig": {"tn": d["orig"]}, "dest": {"tn": d["dest"]}, "origid": d["origid"]}
        for name in ("rcd", "rcdi", "crn"):
            if passed.get(name) is not None:
                want[name] = passed[name]
        got = {k: claims.get(k) for k in (*want, "rcd", "rcdi", "crn") if k in claims or k in want}
        diff = sorted(k for k in got if got[k] != want.get(k))
        _need(not diff, f"the SHAKEN PASSporT's {diff} differ from the decision's")
        return f"attest {d['attest']}, orig {d['orig']}, dest {d['dest']}, origid {d['origid']}"

    def evidence(self) -> str:
        d = self.d
        codes = ", ".join(str(r.get("code")) for r in d["reasons"] if isinstance(r, dict))
        if d["attest"] != "A":
            return f"attestation {d['attest']}: the OSP's reasons, signed: {codes or 'none'}"
        if d.get("mechanism") == "osp-numbers":
            return f"A on the OSP's own numbers ({codes}): the OSP's word, nothing on the ledger to check"
        _need(d.get("mechanism") == "ledger", f"A by mechanism {str(d.get('mechanism'))[:40]!r}: this version "
                                              "cannot re-check it offline")
        ev: Any = d.get("evidence")
        _need(isinstance(ev, dict) and all(isinstance(ev.get(k), str) for k in ("signer", "enterprise", "credential"))
              and isinstance(ev.get("chain"), list) and isinstance(ev.get("links"), list)
              and isinstance(ev.get("vetted", {}), dict), "the ledger evidence is malformed")
        return f"A on ledger evidence: {ev['signer']} with {ev['credential']}"

    # ---------------------------------------------------------------- the enterprise PASSporT
    def ppt_token(self) -> str:
        calls = candidates(self.d.get("identities") or [], self.d["evidence"])
        _need(calls, "no enterprise PASSporT of the call names the evidence's signer and credential")
        self.call = next((c for c in calls if self.proves(c)), calls[0])
        return f"{self.call.kid} signed iat {self.call.iat} naming {self.call.credential_id}"

    def proves(self, call: Any) -> bool:
        """Whether ``call`` verifies with the key the bundle's DID document gives its kid at its iat."""
        try:
            return verify_passport(call.parsed, *self.doc_key(str(call.kid), call.iat, "the enterprise signer"))
        except (_Bad, CodedError, DidError):
            return False

    def doc_key(self, did_url: str, at: int, what: str) -> tuple[KeyType, bytes]:
        url = parse_did_url(did_url)
        did = str(url.did)
        doc = self.docs.get((did, at))
        _need(doc is not None, f"the bundle has no DID document of {did} at {at} ({what})")
        assert doc is not None
        _need(doc.get("id") == did, f"the DID document at {at} is not {did}'s")
        vms = [v for v in doc.get("verificationMethod", []) if isinstance(v, dict) and v.get("id") == did_url]
        _need(len(vms) == 1 and isinstance(vms[0].get("publicKeyMultibase"), str), f"{did_url} is not a key of {did} "
                                                                                   f"at {at}")
        _need(did_url in (doc.get("assertionMethod") or []), f"{did_url} is not an assertionMethod key at {at}")
        return decode_public_key(vms[0]["publicKeyMultibase"])

    def ppt_key(self) -> str:
        self.ppt_public = self.doc_key(str(self.call.kid), self.call.iat, "the enterprise signer")
        _need(self.ppt_public[0] is self.call.key_type, f"alg {self.call.alg} but the key is "
                                                        f"{self.ppt_public[0].name}")
        return f"{self.call.kid} is an assertionMethod key at iat {self.call.iat}"

    def ppt_signature(self) -> str:
        _need(verify_passport(self.call.parsed, *self.ppt_public), "the enterprise PASSporT's signature does not "
                                                                   "verify")
        return f"{self.call.alg} signature by {self.call.kid}"

    def ppt_claims(self) -> str:
        call, d = self.call, self.d
        _need(call.orig == d["orig"], f"orig {call.orig} is not the decision's {d['orig']}")
        _need(set(d["dest"]) <= set(call.dest), f"dest {list(call.dest)} does not include {d['dest']}")
        leaf = self.c["chain"][0]["credential"].get("id") if self.c["chain"] else None
        _need(call.credential_id == leaf, f"tnc {call.credential_id} is not the chain's leaf {leaf}")
        return f"orig {call.orig}, dest {list(call.dest)}, tnc {call.credential_id}"

    # ---------------------------------------------------------------- credentials
    def proof(self, entry: dict[str, Any]) -> Callable[[], str]:
        def step() -> str:
            vc = entry["credential"]
            issuer = vc.get("issuer")
            _need(isinstance(issuer, str), "no issuer")
            at = issuer_time(vc, entry["anchoredAt"])
            _need(at is not None, "no proof created time")

            def key_for(vm: str, _created: datetime) -> tuple[KeyType, bytes]:
                _need(vm.startswith(f"{issuer}#"), f"the proof's key {vm} is not a key of the issuer")
                return self.doc_key(vm, at or 0, "the issuer")

            result = verify_proof(vc, key_resolver=key_for, loader=self.loader)
            _need(result.verified, f"{vc.get('id')}: {'; '.join(f'{e.code}: {e.message}' for e in result.errors)}")
            return f"{vc.get('id')} by {result.verification_method}"
        return step

    def anchors(self) -> list[Any]:
        out = []
        for e in self.c["chain"]:
            try:
                out.append(anchor_of(e["credential"]))
            except (CredentialError, DidError) as exc:
                raise _Bad(f"{e['key']}: {exc.message}") from None
        return out

    def chain_keys(self) -> str:
        ev, entries = self.d["evidence"], self.c["chain"]
        keys_ = ["0x" + a.id.hex() for a in self.anchors()]
        _need(keys_ == [e["key"] for e in entries], "an entry's key is not the SHA-256 of its credential's id")
        _need(keys_ == ev["chain"], f"the bundled chain {keys_} is not the evidence's {ev['chain']}")
        _need(entries and entries[0]["credential"].get("id") == ev["credential"], "the leaf is not the evidence's "
                                                                                  "credential")
        return f"{len(keys_)} credential(s), leaf first, as the evidence names them"

    def chain_links(self) -> str:
        anchors, entries = self.anchors(), self.c["chain"]
        _need(anchors, "no credential")
        signer = parse_did_url(self.d["evidence"]["signer"]).did.ident
        _need(anchors[0].subject == signer, "the leaf's subject is not the signer")
        for i, a in enumerate(anchors):
            vc_id = entries[i]["credential"].get("id")
            if i + 1 < len(anchors):
                parent = anchors[i + 1]
                _need(a.kind is Kind.TN_DELEGATION and a.parent == parent.id,
                      f"{vc_id}'s parentCredential is not {entries[i + 1]['credential'].get('id')}")
                _need(a.issuer == parent.subject, f"{vc_id} is not issued by its parent's subject")
            else:
                _need(a.kind is Kind.TN_RIGHT_TO_USE, f"the root {vc_id} is not a right-to-use grant")
        return " <- ".join(str(e["credential"].get("id")) for e in entries)

    def chain_ranges(self) -> str:
        anchors = self.anchors()
        _need(anchors, "no credential")
        orig = int(self.d["orig"]) if self.d["orig"].isdigit() else -1
        _need(any(r.start <= orig < r.end for r in anchors[0].tns), f"{self.d['orig']} is not in the leaf's TNAuthList")
        for child, parent in zip(anchors, anchors[1:], strict=False):
            for r in child.tns:
                _need(any(p.start <= r.start and r.end <= p.end for p in parent.tns),
                      f"range {r.start}+{r.count} is not within its parent's")
        return f"{self.d['orig']} in the leaf; every range within its parent's"

    def chain_parties(self) -> str:
        anchors, entries, ev = self.anchors(), self.c["chain"], self.d["evidence"]
        links = ev["links"]
        _need(len(links) == len(anchors), f"{len(links)} links in the evidence, {len(anchors)} credentials")
        for a, e, link in zip(anchors, entries, links, strict=True):
            want = {"credential": e["key"], "kind": a.kind.name, "issuer": format_did(self.network, a.issuer),
                    "subject": format_did(self.network, a.subject), "role": role_of(e["credential"]),
                    "mayOriginate": bool(a.flags & Flags.MAY_ORIGINATE),
                    "mayDelegate": bool(a.flags & Flags.MAY_DELEGATE)}
            diff = sorted(k for k in want if not isinstance(link, dict) or link.get(k) != want[k])
            _need(not diff, f"{e['credential'].get('id')}: the evidence's {diff} differ from the credential")
        record = next((link["subject"] for link in links if link.get("role") == "enterprise"), None)
        _need(record == ev["enterprise"], f"the enterprise of record is {record}, the evidence says {ev['enterprise']}")
        return f"enterprise of record {record}; " + ", ".join(f"{x['subject']} ({x['role']})" for x in links)

    def chain_validity(self) -> str:
        when = self.decided
        for e in self.c["chain"] + self.c["vetting"]:
            vc = e["credential"]
            start, end = parse_date_time_stamp(vc.get("validFrom")), parse_date_time_stamp(vc.get("validUntil"))
            _need(start is not None and end is not None and start <= when < end,
                  f"{vc.get('id')} was not valid at the decision ({vc.get('validFrom')} .. {vc.get('validUntil')})")
        return f"every credential valid at {xml_datetime(when)}"

    def vetting(self) -> str:
        ev = self.d["evidence"]
        by_id = {e["credential"].get("id"): e["credential"] for e in self.c["vetting"]}
        wanted = dict(ev.get("vetted") or {})
        if ev.get("vettedIdentity") is not None:
            wanted.setdefault(ev["enterprise"], ev["vettedIdentity"])
            _need(wanted[ev["enterprise"]] == ev["vettedIdentity"], "vettedIdentity is not the enterprise's vetting")
        for party, cid in wanted.items():
            vc = by_id.get(cid)
            _need(vc is not None, f"the vetting credential {cid} of {party} is not in the bundle")
            assert vc is not None
            try:
                a = anchor_of(vc)
            except (CredentialError, DidError) as exc:
                raise _Bad(f"{cid}: {exc.message}") from None
            _need(a.kind is Kind.ENTERPRISE_IDENTITY, f"{cid} is not an enterprise identity credential")
            _need(format_did(self.network, a.subject) == party, f"{cid} does not name {party}")
        brand = ev.get("brandName")
        if brand is not None:
            subject = (by_id.get(ev.get("vettedIdentity")) or {}).get("credentialSubject") or {}
            _need(subject.get("brandName") == brand, f"the vetted brand is not {brand!r}")
        return ", ".join(f"{p} by {c}" for p, c in wanted.items()) or "no vetting required by the policy"

    def ledger(self) -> str:
        ledger, d = self.c["ledger"], self.d
        _need(ledger.get("position") == d.get("ledger_position"), "the ledger position is not the decision's")
        pos = d.get("ledger_position")
        for e in self.c["chain"] + self.c["vetting"]:
            _need(isinstance(pos, list) and pos and e["anchoredBlock"] <= pos[0],
                  f"{e['credential'].get('id')} was anchored in block {e['anchoredBlock']}, after the decision's "
                  f"ledger position {pos}")
        issuers = [str(e["credential"].get("issuer")) for e in self.c["chain"] + self.c["vetting"]]
        for did in [x["did"] for x in self.c["didDocuments"]] + issuers:
            try:
                _need(parse_did(did).network == self.network, f"{did} is not on network {self.network}")
            except DidError as exc:
                raise _Bad(f"{did[:120]!r} is not a DID ({exc.code})") from None
        return f"network {self.network}, chain {ledger['chainId']}, position {pos}"


def verify_bundle(bundle: bytes | str | Mapping[str, Any], *, roots: Sequence[x509.Certificate] | None = None,
                  loader: Loader = document_loader) -> BundleVerification:
    """Re-check a bundle offline (module notice). ``bundle``: the file's bytes (or text), or an already parsed
    bundle (then only its content is checked, not its file form). ``roots``: STI-PA trust anchors; without them the
    certificate chain is not judged. Never raises for bad input."""
    if roots is not None and not all(isinstance(r, x509.Certificate) for r in roots):
        raise TypeError("roots must be x509.Certificate objects")
    if not isinstance(bundle, bytes | bytearray | str | Mapping):
        raise TypeError(f"a bundle is bytes, str or a mapping, not {type(bundle).__name__}")
    form: Check | None = None
    try:
        if isinstance(bundle, Mapping):
            parsed, raw = dict(bundle), None
        else:
            raw = bundle.encode("utf-8", "surrogatepass") if isinstance(bundle, str) else bytes(bundle)
            parsed = strictjson.loads(raw, max_bytes=MAX_BUNDLE)
        _need(isinstance(parsed, dict) and set(parsed) == {"content", "signature"}
              and isinstance(parsed["signature"], str), "the file is not {content, signature}")
        _shape(parsed["content"])
        form_bytes = bundle_bytes(parsed) if raw is not None else b""
        if raw is not None and form_bytes != raw:
            at = next((i for i, (a, b) in enumerate(zip(form_bytes, raw, strict=False)) if a != b),
                      min(len(form_bytes), len(raw)))
            form = Check(code="bundle.format", status="failed", detail=f"the file is not in the bundle's one form "
                                                                       f"(byte {at} differs)")
    except (strictjson.JsonError, _Bad) as exc:
        return BundleVerification((Check(code="bundle.format", status="failed", detail=str(exc)),))
    content = parsed["content"]
    d = content["decision"]
    v = _Verifier(content, parsed["signature"], roots, loader)
    v.checks.append(form or Check(code="bundle.format", status="ok", detail=(
        f"{FORMAT}: {len(content['chain'])} chain and {len(content['vetting'])} vetting credential(s), "
        f"{len(content['didDocuments'])} DID document(s)")))
    v.run(code="bundle.signature", step=v.bundle_signature)
    v.run(code="bundle.certificate", step=v.certificate)
    v.run(code="bundle.shaken_signature", step=v.shaken_signature)
    v.run(code="bundle.shaken_claims", step=v.shaken_claims)
    if v.run(code="bundle.evidence", step=v.evidence) and d["attest"] == "A" and d.get("mechanism") == "ledger":
        if v.run(code="bundle.ppt_token", step=v.ppt_token):
            if v.run(code="bundle.ppt_key", step=v.ppt_key):
                v.run(code="bundle.ppt_signature", step=v.ppt_signature)
            v.run(code="bundle.ppt_claims", step=v.ppt_claims)
        for entry in content["chain"] + content["vetting"]:
            v.run(code="bundle.credential_proof", step=v.proof(entry))
        v.run(code="bundle.chain_keys", step=v.chain_keys)
        v.run(code="bundle.chain_links", step=v.chain_links)
        v.run(code="bundle.chain_ranges", step=v.chain_ranges)
        v.run(code="bundle.chain_parties", step=v.chain_parties)
        v.run(code="bundle.chain_validity", step=v.chain_validity)
        v.run(code="bundle.vetting", step=v.vetting)
    v.run(code="bundle.ledger", step=v.ledger)
    return BundleVerification(tuple(v.checks), d["origid"], d["attest"])
