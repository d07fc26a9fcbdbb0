"""DID Auth at vetting (:mod:`wallet.didauth`) against a real ledger: wallets, DIDs of both key types, the node's
resolver as the key lookup, an injected chain clock (so every time is exact)."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contracts.vocab import Role
from did_method import KeyType
from did_method.document import VerificationKey, xml_datetime
from did_method.resolver import Resolver
from node.chain.embedded import EmbeddedChain
from node.ledger.client import Ledger
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.store import Store
from tests.netkit import Net
from wallet import Wallet, didauth
from wallet.credentials import enterprise_identity
from wallet.dataintegrity import document_loader, sign, verify
from wallet.didauth import (
    CLOCK_SKEW,
    CODES,
    Challenge,
    DidAuthError,
    DidAuthResult,
    authentication_key_at,
    check_challenge,
    evidence,
    issue_challenge,
    new_challenge,
    parse_challenge,
    prove,
    take_challenge,
    verify_credential_evidence,
    verify_evidence,
    verify_proof,
)
from wallet.dids import add_key, create_did, rotate_key, signer_for
from wallet.keys import Ed25519Key, Signer
from wallet.passport import b64url_decode, b64url_encode, canonical_json, encode, encode_payload, sign_call

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_800_000_000
ASSERTION_ONLY = 2


class Clock:
    def __init__(self, t: int) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@dataclass
class World:
    """A ledger whose block clock the test sets; wallets for a vetting agency and three subjects."""

    clock: Clock
    net: Net
    follower: Follower
    resolver: Resolver
    wallets: dict[str, Wallet]
    did: dict[str, str]

    def now(self) -> int:
        """A time after every block so far (the ledger's and the verifier's "now")."""
        self.clock.t += 10
        self.follower.sync()
        return self.clock.t

    def key_at(self, did_url: str, t: int) -> VerificationKey:
        return authentication_key_at(self.resolver)(did_url, t)

    def signer(self, name: str, fragment: str | None = None) -> tuple[Signer, str]:
        return signer_for(self.wallets[name], self.did[name], fragment)


PASSPHRASE = "a long enough passphrase"
PARTIES = (("vetco", KeyType.ED25519), ("acme", KeyType.ED25519), ("p256", KeyType.P256), ("mallory", KeyType.ED25519))


@dataclass(frozen=True)
class Made:
    """A world made once per module, at rest: its chain (a SQLite file) and wallet files in ``directory``, and what
    a copy needs besides the files."""

    directory: Path
    clock: int
    net: Net
    did: dict[str, str]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """The world's ledger and wallets: a TNSP that is also a vetting agency, four wallets whose accounts it onboarded,
    each with a DID. Making them runs Argon2id twelve times (each passphrase save draws a fresh salt), most of a
    world's cost, so it is done once; each test gets copies of the files (:func:`world`)."""
    directory = tmp_path_factory.mktemp("world")
    clock = Clock(T0)
    chain = EmbeddedChain(directory / "chain.sqlite", clock=clock)
    net = Net.create(chain, governors=1, threshold=1)
    tnsp = net.member("tnsp", Role.TNSP | Role.VETTER, "1234")
    did = {}
    for name, key_type in PARTIES:
        w = Wallet.create(directory / f"{name}.json", PASSPHRASE, fast=True)
        net.ledger.onboard(tnsp, w.ledger_account().address, "enterprise")
        clock.t += 10
        did[name] = create_did(w, net.ledger, key_type=key_type)
    chain.close()
    return Made(directory, clock.t, net, did)


@pytest.fixture
def world(tmp_path: Path, made: Made) -> Iterator[World]:
    """This test's own copy of the made world: the chain file and the wallet files copied, the chain re-opened at
    the made clock, each wallet opened with its passphrase; a fresh index."""
    for name in ("chain.sqlite", *(f"{party}.json" for party, _ in PARTIES)):
        shutil.copyfile(made.directory / name, tmp_path / name)
    clock = Clock(made.clock)
    chain = EmbeddedChain(tmp_path / "chain.sqlite", clock=clock)
    net = replace(made.net, backend=chain, ledger=Ledger(chain, made.net.ledger.deployment),
                  accounts=dict(made.net.accounts), cids=dict(made.net.cids))
    wallets = {name: Wallet.open(tmp_path / f"{name}.json", PASSPHRASE) for name, _ in PARTIES}
    follower = Follower(chain, Store(tmp_path / "index.sqlite"), net.ledger.deployment)
    resolver = Resolver(IndexHistory(tmp_path / "index.sqlite"), network="local", chain_id=1337)
    yield World(clock, net, follower, resolver, wallets, dict(made.did))
    chain.close()


def answered(world: World, name: str = "acme", **kw: Any) -> tuple[Challenge, str, int]:
    """A challenge of Vet Co for ``name``, the subject's proof made 5 s later, and a "now" 5 s after that."""
    now = world.now()
    challenge = new_challenge(domain=world.did["vetco"], subject=world.did[name], now=now, **kw)
    signer, kid = world.signer(name)
    return challenge, prove(signer, kid, challenge, now=now + 5), now + 10


def refused(result: DidAuthResult, code: str) -> DidAuthResult:
    assert not result.ok and result.code == code, result
    assert result.message and code in CODES
    return result


# ------------------------------------------------------------------------------------------- challenges


def test_challenge_round_trip() -> None:
    domain, subject = "did:eidln:local:8C2kCzsB2fJy9MiZos1mS", "did:eidln:local:YXwJ64QNtP4asmyzuds8u6"
    c = new_challenge(domain=domain, subject=subject, now=T0)
    assert (c.domain, c.subject, c.created, c.expires) == (domain, subject, T0, T0 + 600)
    assert len(b64url_decode(c.nonce)) == 32  # 256 bits
    assert new_challenge(domain=domain, subject=subject, now=T0).nonce != c.nonce
    text = c.text()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", text) and parse_challenge(text) == c


def test_challenge_golden_bytes() -> None:
    """The challenge line and the proof are pinned formats (Ed25519 signatures are deterministic)."""
    c = Challenge(nonce="A" * 43, domain="did:eidln:local:8C2kCzsB2fJy9MiZos1mS",
                  subject="did:eidln:local:YXwJ64QNtP4asmyzuds8u6", created=T0, expires=T0 + 600)
    assert b64url_decode(c.text()) == (
        b'{"created":1800000000,"domain":"did:eidln:local:8C2kCzsB2fJy9MiZos1mS","expires":1800000600,'
        b'"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","subject":"did:eidln:local:YXwJ64QNtP4asmyzuds8u6"}')
    proof = prove(Ed25519Key.from_seed(bytes(32)), f"{c.subject}#key-1", c, now=T0 + 5)
    header, claims, _sig = (b64url_decode(part) for part in proof.split("."))
    assert header == b'{"alg":"EdDSA","kid":"did:eidln:local:YXwJ64QNtP4asmyzuds8u6#key-1","typ":"eidln-didauth"}'
    assert claims == (b'{"domain":"did:eidln:local:8C2kCzsB2fJy9MiZos1mS","iat":1800000005,'
                      b'"nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",'
                      b'"subject":"did:eidln:local:YXwJ64QNtP4asmyzuds8u6"}')
    assert proof == prove(Ed25519Key.from_seed(bytes(32)), f"{c.subject}#key-1", c, now=T0 + 5)


def _b64(doc: Any) -> str:
    return b64url_encode(json.dumps(doc).encode() if not isinstance(doc, bytes) else doc)


GOOD = {"created": T0, "domain": "did:eidln:local:8C2kCzsB2fJy9MiZos1mS", "expires": T0 + 600,
        "nonce": "A" * 43, "subject": "did:eidln:local:YXwJ64QNtP4asmyzuds8u6"}


@pytest.mark.parametrize("text", [
    "", "x" * 5000, "not base64!", _b64(GOOD) + "=", _b64(b"not json"), _b64([GOOD]), _b64(b"[" * 100),
    _b64({k: v for k, v in GOOD.items() if k != "nonce"}), _b64({**GOOD, "extra": 1}),
    _b64({**GOOD, "nonce": "A" * 21}), _b64({**GOOD, "nonce": "A" * 42 + "B"}), _b64({**GOOD, "nonce": 7}),
    _b64({**GOOD, "domain": "did:web:example.com"}), _b64({**GOOD, "subject": "not a did"}),
    _b64({**GOOD, "created": True}), _b64({**GOOD, "created": 1.5e9}), _b64({**GOOD, "expires": T0}),
    _b64({**GOOD, "expires": T0 + 3601}), _b64({**GOOD, "created": -5}), _b64({**GOOD, "expires": 10**20}),
    _b64(b'{"created":1800000000,"created":1800000000}'),
    _b64(json.dumps(GOOD, sort_keys=True, indent=1).encode()),  # not the canonical spelling
])
def test_parse_challenge_is_strict(text: str) -> None:
    with pytest.raises(DidAuthError) as err:
        parse_challenge(text)
    assert err.value.code == "didauth.bad_challenge"
    assert not verify_proof("x.y.z", text, key_at=lambda *_: None, now=T0).ok  # and verify never raises on it


@pytest.mark.parametrize("value", [None, 42, b"bytes", ["list"]])
def test_parse_challenge_refuses_other_types(value: Any) -> None:
    with pytest.raises(DidAuthError):
        parse_challenge(value)


def test_a_challenge_is_valid_or_not_made() -> None:
    with pytest.raises(DidAuthError):
        Challenge(nonce="short", domain=GOOD["domain"], subject=GOOD["subject"], created=T0, expires=T0 + 60)
    with pytest.raises(DidAuthError):
        new_challenge(domain=GOOD["domain"], subject=GOOD["subject"], now=T0, lifetime=0)
    with pytest.raises(TypeError):
        new_challenge(domain=GOOD["domain"], subject=GOOD["subject"], now=float(T0))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- proofs


@pytest.mark.parametrize(("name", "alg"), [("acme", "EdDSA"), ("p256", "ES256")])
def test_good_proof(world: World, name: str, alg: str) -> None:
    challenge, proof, now = answered(world, name)
    assert json.loads(b64url_decode(proof.split(".")[0]))["alg"] == alg
    result = verify_proof(proof, challenge, key_at=world.key_at, now=now)
    assert result.ok and result.code is None, result
    assert (result.kid, result.iat) == (f"{world.did[name]}#key-1", now - 5)
    assert verify_proof(proof, challenge.text(), key_at=world.key_at, now=now) == result  # or its text


def test_wrong_nonce_domain_subject(world: World) -> None:
    challenge, proof, now = answered(world)
    again = new_challenge(domain=challenge.domain, subject=challenge.subject, now=challenge.created)
    refused(verify_proof(proof, again, key_at=world.key_at, now=now), "didauth.wrong_nonce")
    other_agency = Challenge(nonce=challenge.nonce, domain=world.did["mallory"], subject=challenge.subject,
                             created=challenge.created, expires=challenge.expires)
    refused(verify_proof(proof, other_agency, key_at=world.key_at, now=now), "didauth.wrong_domain")
    # Mallory's proof of her own DID does not answer a challenge for Acme
    theirs, mallory_proof, _ = answered(world, "mallory")
    refused(verify_proof(mallory_proof, challenge, key_at=world.key_at, now=now), "didauth.wrong_subject")
    refused(verify_proof(proof, theirs, key_at=world.key_at, now=now), "didauth.wrong_subject")


def test_key_of_another_did(world: World) -> None:
    challenge, _, now = answered(world)
    claims = {"nonce": challenge.nonce, "domain": challenge.domain, "subject": challenge.subject, "iat": now - 5}
    mallory, mallory_kid = world.signer("mallory")
    # her own key named as hers: not a key of the subject
    token = encode({"alg": "EdDSA", "kid": mallory_kid, "typ": "eidln-didauth"}, claims, mallory)
    result = refused(verify_proof(token, challenge, key_at=world.key_at, now=now), "didauth.wrong_subject")
    assert result.kid == mallory_kid
    # her key under Acme's key id: the signature does not verify with Acme's key
    token = encode({"alg": "EdDSA", "kid": f"{challenge.subject}#key-1", "typ": "eidln-didauth"}, claims, mallory)
    refused(verify_proof(token, challenge, key_at=world.key_at, now=now), "didauth.signature_invalid")
    # and the library refuses to make either
    with pytest.raises(DidAuthError) as err:
        prove(mallory, mallory_kid, challenge, now=now)
    assert err.value.code == "didauth.wrong_subject"


def test_expired_and_iat_out_of_window(world: World) -> None:
    challenge, proof, _ = answered(world)
    ok = verify_proof(proof, challenge, key_at=world.key_at, now=challenge.expires - 1)
    assert ok.ok, ok
    refused(verify_proof(proof, challenge, key_at=world.key_at, now=challenge.expires), "didauth.expired")
    signer, kid = world.signer("acme")
    with pytest.raises(DidAuthError) as err:
        prove(signer, kid, challenge, now=challenge.expires)
    assert err.value.code == "didauth.expired"
    with pytest.raises(DidAuthError) as err:
        prove(signer, kid, challenge, now=challenge.created - CLOCK_SKEW - 1)
    assert err.value.code == "didauth.bad_time"
    # iat ahead of the verifier's clock: within the skew it passes, beyond it does not
    ahead = prove(signer, kid, challenge, now=challenge.created + 200)
    assert verify_proof(ahead, challenge, key_at=world.key_at, now=challenge.created + 200 - CLOCK_SKEW).ok
    refused(verify_proof(ahead, challenge, key_at=world.key_at, now=challenge.created + 200 - CLOCK_SKEW - 1),
            "didauth.bad_time")
    # iat before the challenge was made (only a hand-made token can say so)
    early = {"nonce": challenge.nonce, "domain": challenge.domain, "subject": challenge.subject,
             "iat": challenge.created - CLOCK_SKEW - 1}
    token = encode({"alg": "EdDSA", "kid": kid, "typ": "eidln-didauth"}, early, signer)
    refused(verify_proof(token, challenge, key_at=world.key_at, now=challenge.created + 10), "didauth.bad_time")


def test_not_an_authentication_key(world: World) -> None:
    fragment = add_key(world.wallets["acme"], world.net.ledger, world.did["acme"], relationships=ASSERTION_ONLY)
    challenge, proof, now = answered(world)  # the wallet signs with its newest key: the assertion-only one
    assert json.loads(b64url_decode(proof.split(".")[0]))["kid"].endswith(f"#{fragment}")
    result = refused(verify_proof(proof, challenge, key_at=world.key_at, now=now), "didauth.key_not_found")
    assert "not an authentication key" in result.message
    # a lookup that does not filter by relationship is no way around it
    key = world.resolver.key_at(f"{world.did['acme']}#{fragment}", now, relationship="assertionMethod")
    refused(verify_proof(proof, challenge, key_at=lambda *_: key, now=now), "didauth.key_not_found")


def test_revoked_key(world: World) -> None:
    w, did = world.wallets["acme"], world.did["acme"]
    old_signer, old_kid = world.signer("acme")
    # revoked between the proof and the vetting: proved control then, but it proves nothing now
    challenge, proof, _ = answered(world)
    world.clock.t += 20
    rotate_key(w, world.net.ledger, did)
    now = world.now()
    result = refused(verify_proof(proof, challenge, key_at=world.key_at, now=now), "didauth.key_revoked")
    assert result.kid == old_kid and "revoked" in result.message
    # revoked before the proof: the old key cannot answer a new challenge
    fresh = new_challenge(domain=world.did["vetco"], subject=did, now=now)
    late = prove(old_signer, old_kid, fresh, now=now + 1)
    refused(verify_proof(late, fresh, key_at=world.key_at, now=now + 2), "didauth.key_not_found")
    # the new key can, and a key id the DID never had cannot
    signer, kid = world.signer("acme")
    assert kid == f"{did}#key-2" and verify_proof(prove(signer, kid, fresh, now=now + 1), fresh,
                                                  key_at=world.key_at, now=now + 2).ok
    ghost = prove(signer, f"{did}#key-9", fresh, now=now + 1)
    refused(verify_proof(ghost, fresh, key_at=world.key_at, now=now + 2), "didauth.key_not_found")


def _jws(header: dict[str, Any], claims: Any, signer: Signer | None = None) -> str:
    payload = claims if isinstance(claims, bytes) else canonical_json(claims)
    if signer is None:
        return f"{b64url_encode(canonical_json(header))}.{b64url_encode(payload)}.{b64url_encode(bytes(64))}"
    return encode_payload(header, payload, signer)


def test_garbage_proofs_never_raise(world: World) -> None:
    challenge, proof, now = answered(world)
    signer, kid = world.signer("acme")
    good = {"nonce": challenge.nonce, "domain": challenge.domain, "subject": challenge.subject, "iat": now - 5}
    head = {"alg": "EdDSA", "kid": kid, "typ": "eidln-didauth"}
    call = sign_call(signer, kid=kid, orig="12025550142", dest=["13105550000"], iat=now - 5,
                     credential_id="urn:uuid:1")  # a PASSporT by the same key is no DID Auth proof
    garbage: list[object] = [
        None, 42, b"bytes", ["x"], "", ".", "..", "a.b.c", "x" * 10_000, proof + ".", proof + "A", proof[:-1],
        proof.replace(".", "..", 1), call.split(";")[0],
        _jws({"alg": "none", "kid": kid, "typ": "eidln-didauth"}, good),
        _jws({**head, "crit": ["x"]}, good), _jws({"alg": "EdDSA", "kid": kid}, good),
        _jws({**head, "typ": "passport"}, good, signer), _jws({**head, "kid": 7}, good),
        _jws({**head, "kid": "did:eidln:local:nope"}, good),
        _jws({**head, "kid": f"{challenge.subject}#bad frag"}, good),
        _jws(head, {**good, "iat": True}, signer), _jws(head, {**good, "iat": float(now)}, signer),
        _jws(head, {**good, "iat": str(now)}, signer), _jws(head, {**good, "iat": -1}, signer),
        _jws(head, {**good, "iat": 10**30}, signer), _jws(head, {**good, "extra": 1}, signer),
        _jws(head, {k: v for k, v in good.items() if k != "nonce"}, signer), _jws(head, {**good, "nonce": 1}, signer),
        _jws(head, b"[" * 5000, signer), _jws(head, b'{"iat":1,"iat":2}', signer), _jws(head, b"\xff\xfe", signer),
    ]
    for item in garbage:
        result = verify_proof(item, challenge, key_at=world.key_at, now=now)
        assert not result.ok and result.code in CODES, (item, result)
    for bad_challenge in ("", "x" * 5000, "garbage", 42, None):
        refused(verify_proof(proof, bad_challenge, key_at=world.key_at, now=now),  # type: ignore[arg-type]
                "didauth.bad_challenge")


def test_failing_key_lookups_never_raise(world: World) -> None:
    challenge, proof, now = answered(world)

    def broken(_url: str, _t: int) -> VerificationKey:
        raise RuntimeError("index unreadable")

    assert "RuntimeError" in refused(verify_proof(proof, challenge, key_at=broken, now=now),
                                     "didauth.key_not_found").message
    refused(verify_proof(proof, challenge, key_at=lambda *_: None, now=now), "didauth.key_not_found")
    with pytest.raises(TypeError):
        verify_proof(proof, challenge, key_at=world.key_at, now=float(now))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- evidence


def _vetted(world: World, name: str = "acme") -> tuple[dict[str, Any], DidAuthResult, int]:
    challenge, proof, now = answered(world, name)
    result = verify_proof(proof, challenge, key_at=world.key_at, now=now)
    assert result.ok, result
    unsigned = enterprise_identity(issuer=world.did["vetco"], subject=world.did[name], legal_name="Acme Corp",
                                   jurisdiction="US-DE", lei="5493001KJTIIGC8Y1R12", vetting_level="full",
                                   vetting_date="2026-11-01", valid_from=now, valid_until=now + 86400,
                                   evidence=[evidence(challenge, proof, result)])
    vetco, vm = world.signer("vetco")
    signed = sign(unsigned, vetco, verification_method=vm, created=datetime.fromtimestamp(now, UTC),
                  loader=document_loader)
    return signed, result, now


def _issuer_key(world: World) -> Any:
    def resolve(vm: str, created: datetime) -> tuple[KeyType, bytes]:
        key = world.resolver.key_at(vm, int(created.timestamp()))
        return key.key_type, key.public_key

    return resolve


@pytest.mark.parametrize("name", ["acme", "p256"])
def test_signed_credential_with_evidence(world: World, name: str) -> None:
    signed, result, now = _vetted(world, name)
    (ev,) = signed["evidence"]
    assert ev == {"type": ["DIDAuthentication"], "authChallenge": ev["authChallenge"],
                  "authDomain": world.did["vetco"], "authMethod": result.kid, "authCreated": xml_datetime(now - 5),
                  "authSignature": ev["authSignature"]}
    checked = verify(signed, key_resolver=_issuer_key(world), loader=document_loader)
    assert checked.verified, checked.errors  # eddsa-rdfc-2022: every evidence term is defined, so it is signed
    again = verify_credential_evidence(signed, key_at=world.key_at, now=now)
    assert again.ok and (again.kid, again.iat) == (result.kid, result.iat)
    # one byte of the DID Auth signature changed: the evidence fails its re-check, and the credential's proof
    head, _, sig = ev["authSignature"].rpartition(".")
    raw = bytearray(b64url_decode(sig))
    raw[10] ^= 1
    tampered = {**signed, "evidence": [{**ev, "authSignature": f"{head}.{b64url_encode(bytes(raw))}"}]}
    refused(verify_credential_evidence(tampered, key_at=world.key_at, now=now), "didauth.signature_invalid")
    assert not verify(tampered, key_resolver=_issuer_key(world), loader=document_loader).verified


def test_evidence_is_checked_at_its_own_time(world: World) -> None:
    """A key rotated away after the vetting does not undo the evidence (it is a lasting statement)."""
    signed, _, _ = _vetted(world)
    world.clock.t += 20  # after the vetting
    rotate_key(world.wallets["acme"], world.net.ledger, world.did["acme"])
    assert verify_credential_evidence(signed, key_at=world.key_at, now=world.now()).ok


def test_evidence_refusals(world: World) -> None:
    signed, _, now = _vetted(world)
    (ev,) = signed["evidence"]

    def check(entry: object, **kw: Any) -> DidAuthResult:
        args = {"subject": world.did["acme"], "domain": world.did["vetco"], "key_at": world.key_at, "now": now}
        return verify_evidence(entry, **{**args, **kw})

    assert check(ev).ok and check({**ev, "type": "DIDAuthentication"}).ok
    refused(check({**ev, "authChallenge": "B" * 43}), "didauth.wrong_nonce")
    refused(check({**ev, "authDomain": world.did["mallory"]}), "didauth.wrong_domain")
    refused(check(ev, domain=world.did["mallory"]), "didauth.wrong_domain")
    refused(check(ev, subject=world.did["mallory"]), "didauth.wrong_subject")
    refused(check({**ev, "authMethod": f"{world.did['acme']}#key-2"}), "didauth.malformed")
    refused(check({**ev, "authCreated": xml_datetime(now)}), "didauth.malformed")
    refused(check(ev, now=now - 5 - CLOCK_SKEW - 1), "didauth.bad_time")
    for garbage in (None, "x", [], {}, {**ev, "extra": 1}, {**ev, "type": ["Other"]}, {**ev, "authCreated": 5},
                    {**ev, "authSignature": "x.y.z"}, {k: v for k, v in ev.items() if k != "authMethod"}):
        assert not check(garbage).ok
    # whole credentials
    refused(verify_credential_evidence({**signed, "evidence": []}, key_at=world.key_at), "didauth.no_evidence")
    refused(verify_credential_evidence({k: v for k, v in signed.items() if k != "evidence"}, key_at=world.key_at),
            "didauth.no_evidence")
    refused(verify_credential_evidence({**signed, "evidence": [ev, ev]}, key_at=world.key_at), "didauth.malformed")
    assert verify_credential_evidence({**signed, "evidence": ev}, key_at=world.key_at).ok  # one object, not a list
    refused(verify_credential_evidence({**signed, "issuer": world.did["mallory"]}, key_at=world.key_at),
            "didauth.wrong_domain")
    refused(verify_credential_evidence({**signed, "issuer": {"id": world.did["mallory"]}}, key_at=world.key_at),
            "didauth.wrong_domain")
    for credential in (None, "x", {"evidence": [ev]}, {**signed, "credentialSubject": "x"}):
        assert not verify_credential_evidence(credential, key_at=world.key_at).ok
    with pytest.raises(ValueError):
        evidence(new_challenge(domain=world.did["vetco"], subject=world.did["acme"], now=now), "x.y.z",
                 DidAuthResult(False, "didauth.malformed"))


# ------------------------------------------------------------------------------------------- the agency's wallet


def test_challenges_serve_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w, vetco, acme = world.wallets["vetco"], world.did["vetco"], world.did["acme"]
    now = world.now()
    c = issue_challenge(w, domain=vetco, subject=acme, now=now)
    assert check_challenge(w, c.text(), domain=vetco, subject=acme, now=now + 1) == c
    reopened = Wallet.open(w.path, "a long enough passphrase")  # remembered in the file
    assert check_challenge(reopened, c.text(), domain=vetco, subject=acme, now=now + 1) == c
    for kw, code in ((dict(domain=acme, subject=acme), "didauth.wrong_domain"),
                     (dict(domain=vetco, subject=vetco), "didauth.wrong_subject"),
                     (dict(domain=vetco, subject=acme, now=c.expires), "didauth.expired")):
        with pytest.raises(DidAuthError) as err:
            check_challenge(w, c.text(), **{"now": now + 1, **kw})  # type: ignore[arg-type]
        assert err.value.code == code
    forged = Challenge(nonce="A" * 43, domain=vetco, subject=acme, created=now, expires=now + 600)
    for line in (forged.text(), Challenge(nonce=c.nonce, domain=vetco, subject=acme, created=now,
                                          expires=now + 60).text()):
        with pytest.raises(DidAuthError) as err:
            check_challenge(w, line, domain=vetco, subject=acme, now=now + 1)
        assert err.value.code == "didauth.unknown_challenge"
    take_challenge(reopened, c, now=now + 2)
    for attempt in (lambda: take_challenge(w, c, now=now + 3),
                    lambda: check_challenge(w, c.text(), domain=vetco, subject=acme, now=now + 3)):
        with pytest.raises(DidAuthError) as err:
            attempt()
        assert err.value.code == "didauth.unknown_challenge"
    # expired challenges are forgotten, and at most MAX_OUTSTANDING are remembered (the oldest go first)
    monkeypatch.setattr(didauth, "MAX_OUTSTANDING", 3)
    old = issue_challenge(w, domain=vetco, subject=acme, now=now, lifetime=60)
    issued = [issue_challenge(w, domain=vetco, subject=acme, now=now + 100 + i) for i in range(4)]
    assert set(w.metadata["didauth"]) == {c.nonce for c in issued[1:]} and old.nonce not in w.metadata["didauth"]


# ------------------------------------------------------------------------------------------- codes


def test_codes_are_documented() -> None:
    """docs/errors.md lists every didauth code in its DID Auth table, and none that does not exist."""
    doc = (ROOT / "docs" / "errors.md").read_text()
    listed = set(re.findall(r"^\| [^|]+ \| `(didauth\.[a-z_]+)` \|", doc, re.M))
    assert listed == set(CODES)
