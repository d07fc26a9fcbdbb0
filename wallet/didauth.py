"""DID Auth at vetting (SPEC §8.1): the subject proves it holds its DID's ``authentication`` key by signing a
fresh challenge of the vetting agency, and the proof travels in the credential's ``evidence``.

The exchange, three messages of one line each:

1. the vetting agency makes a :class:`Challenge` (a 256-bit random nonce, its own DID as ``domain``, the subject
   DID, a life of :data:`CHALLENGE_LIFETIME` seconds) and hands over :meth:`Challenge.text`;
2. the subject signs it with a key of its DID (:func:`prove`): a compact JWS (``typ`` :data:`PROOF_TYPE`, ``alg``
   EdDSA or ES256 by the key, ``kid`` the key's DID URL) over the canonical JSON ``{nonce, domain, subject,
   iat}``, built by the PASSporT layer's JOSE code (:mod:`wallet.passport.token`), not by hand;
3. the agency checks it (:func:`verify_proof`), records it as VC 2.0 ``evidence`` (:func:`evidence`, terms of the
   TN context v2) and issues. Anyone can re-check that evidence later (:func:`verify_credential_evidence`).

Decisions:

* **Which key**: an ``authentication`` key of the subject DID (DID Core: the relationship for proving control of
  the DID), as the ledger recorded it at the proof's ``iat`` (key history, ``Resolver.key_at``); at vetting it
  must also still be valid *now*: a vetting is a request made now, like a call (``docs/security.md`` §9.1), so a
  key revoked between signing and vetting proves nothing. A later re-check of the evidence asks only the
  first question: the evidence is a lasting statement about the time it was made.
* **``iat`` cannot be chosen freely**: the verifier bounds it by the challenge's life (no earlier than its
  creation, no later than its expiry) and by its own clock, each with :data:`CLOCK_SKEW` seconds (SPEC §8.2).
* **Replay**: the nonce is the agency's, random and used once: the agency remembers the challenges it has
  handed out (:func:`issue_challenge`, in its encrypted wallet) and forgets each at its first use
  (:func:`take_challenge`) or expiry. The challenge text itself is not signed: a challenge the agency never made
  is refused because it does not remember it. The ``domain`` binds a proof to one agency, the ``subject`` to
  one DID, and the JWS ``typ`` keeps a proof from being read as a PASSporT or the reverse.
* Pure core: the clock (``now``, Unix seconds) and the key lookup (``key_at(did_url, t)``) are parameters.
  Verification never raises for untrusted input: it returns a frozen :class:`DidAuthResult` with a
  ``didauth.*`` code; signing and the wallet recipes raise :class:`DidAuthError`; wrong Python types raise.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from did_method.document import RELATIONSHIPS, VerificationKey
from did_method.errors import DidError
from did_method.resolver import Resolver
from did_method.syntax import is_valid_fragment, parse_did
from did_method.timefmt import parse_date_time_stamp, xml_datetime
from wallet import strictjson
from wallet.errors import CodedError
from wallet.keys import Signer
from wallet.keystore import Wallet
from wallet.passport import token
from wallet.passport.errors import PassportError

__all__ = [
    "CHALLENGE_LIFETIME",
    "CLOCK_SKEW",
    "CODES",
    "Challenge",
    "DidAuthError",
    "DidAuthResult",
    "EVIDENCE_TYPE",
    "KeyAt",
    "MAX_CHALLENGE_LIFETIME",
    "PROOF_TYPE",
    "authentication_key_at",
    "check_challenge",
    "evidence",
    "issue_challenge",
    "new_challenge",
    "parse_challenge",
    "prove",
    "take_challenge",
    "verify_credential_evidence",
    "verify_evidence",
    "verify_proof",
]

CHALLENGE_LIFETIME = 600  # seconds: long enough to pass a line between two people, short enough to stay fresh
MAX_CHALLENGE_LIFETIME = 3600  # the longest life a challenge may claim
CLOCK_SKEW = 60  # seconds the parties' clocks may differ (as the PASSporT freshness window)
NONCE_BYTES = 32  # 256 bits
PROOF_TYPE = "eidln-didauth"  # the JWS ``typ``
EVIDENCE_TYPE = "DIDAuthentication"
MAX_CHALLENGE_LENGTH = 1024
MAX_PROOF_LENGTH = 4096
MAX_OUTSTANDING = 1000  # challenges a vetting agency's wallet remembers at once (the oldest are dropped)
_LATEST = 253402300799  # 9999-12-31T23:59:59Z: the last time an XML Schema dateTime of four digits can carry
_NONCE = re.compile(r"[A-Za-z0-9_-]{22,86}")
_CHALLENGE_MEMBERS = {"nonce", "domain", "subject", "created", "expires"}
_CLAIMS = {"nonce", "domain", "subject", "iat"}
_EVIDENCE_MEMBERS = {"type", "authChallenge", "authDomain", "authMethod", "authCreated", "authSignature"}
_AUTHENTICATION = {name: bit for bit, name in RELATIONSHIPS}["authentication"]
_STORE = "didauth"  # wallet metadata: {nonce: challenge text} of the challenges handed out and not yet used

CODES = frozenset({
    "didauth.bad_challenge",  # a challenge that does not parse (shape, nonce, DIDs, times)
    "didauth.unknown_challenge",  # a challenge this agency did not hand out, or has already used
    "didauth.malformed",  # a proof that is not a DID Auth JWS, or evidence of the wrong shape
    "didauth.wrong_domain",  # the proof (or challenge) is for another vetting agency
    "didauth.wrong_subject",  # the proof (or challenge, or key) is for another DID
    "didauth.wrong_nonce",  # the proof answers another challenge
    "didauth.expired",  # the challenge's life is over
    "didauth.bad_time",  # iat before the challenge was made, or in the future
    "didauth.key_not_found",  # no authentication key of the subject with that id at iat
    "didauth.signature_invalid",  # the signature does not verify with that key
    "didauth.key_revoked",  # the key was valid at iat but is no longer (revoked, or the DID deactivated)
    "didauth.no_evidence",  # a credential without DID Authentication evidence
})

KeyAt = Callable[[str, int], VerificationKey | None]
"""``key_at(did_url, t)``: the key ``did_url`` names as the ledger had it at ``t``, only if it is an
``authentication`` key then; ``None`` or a raised :class:`~did_method.errors.DidError` (whose message is kept) if
not. Any other exception counts as "no key" too."""


class DidAuthError(CodedError):
    """A DID Auth step refused. ``code`` is one of :data:`CODES`."""

    CODES = CODES


def _fail(code: str, message: str) -> DidAuthError:
    return DidAuthError(message, code=code)


def _need_int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int (Unix seconds), not {type(value).__name__}")
    return value


def _is_did(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(parse_did(value)) == value
    except DidError:
        return False


def _is_time(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _LATEST


# ------------------------------------------------------------------------------------------- the challenge


@dataclass(frozen=True)
class Challenge:
    """What the vetting agency asks the subject to sign. Every instance is valid (checked on construction:
    ``didauth.bad_challenge``); :meth:`text` is its one spelling, :func:`parse_challenge` reads it back."""

    nonce: str
    domain: str
    subject: str
    created: int
    expires: int

    def __post_init__(self) -> None:
        bad = None
        if not isinstance(self.nonce, str) or not _NONCE.fullmatch(self.nonce):
            bad = "the nonce is not 22 to 86 base64url characters"
        elif not _is_did(self.domain):
            bad = "the domain is not a did:eidln DID"
        elif not _is_did(self.subject):
            bad = "the subject is not a did:eidln DID"
        elif not (_is_time(self.created) and _is_time(self.expires)):
            bad = "created and expires must be Unix times"
        elif not 0 < self.expires - self.created <= MAX_CHALLENGE_LIFETIME:
            bad = f"a challenge lives more than 0 and at most {MAX_CHALLENGE_LIFETIME} s"
        if bad is None:
            try:
                if len(token.b64url_decode(self.nonce)) < 16:
                    bad = "the nonce has fewer than 128 bits"
            except PassportError:
                bad = "the nonce is not canonical base64url"
        if bad is not None:
            raise _fail("didauth.bad_challenge", bad)

    def text(self) -> str:
        """One line to hand to the subject: base64url of the challenge's canonical JSON."""
        return token.b64url_encode(strictjson.canonical(
            {"nonce": self.nonce, "domain": self.domain, "subject": self.subject, "created": self.created,
             "expires": self.expires}))


def new_challenge(*, domain: str, subject: str, now: int, lifetime: int = CHALLENGE_LIFETIME) -> Challenge:
    """A fresh challenge of the vetting agency ``domain`` (its DID) for the DID ``subject``."""
    now = _need_int(now, "now")
    nonce = token.b64url_encode(secrets.token_bytes(NONCE_BYTES))
    return Challenge(nonce=nonce, domain=domain, subject=subject, created=now, expires=now + lifetime)


def parse_challenge(text: object) -> Challenge:
    """The challenge a :meth:`Challenge.text` line carries; ``didauth.bad_challenge`` for anything else (strict:
    bounded, base64url of strict JSON with exactly the five members, in its canonical spelling)."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_CHALLENGE_LENGTH:
        raise _fail("didauth.bad_challenge", f"a challenge is one line of 1 to {MAX_CHALLENGE_LENGTH} characters")
    try:
        doc = strictjson.loads(token.b64url_decode(text), max_bytes=MAX_CHALLENGE_LENGTH, max_depth=1)
    except (PassportError, strictjson.JsonError) as exc:
        raise _fail("didauth.bad_challenge", f"not a challenge line ({exc.code})") from None
    if not isinstance(doc, dict) or set(doc) != _CHALLENGE_MEMBERS:
        raise _fail("didauth.bad_challenge", f"a challenge has exactly the members {sorted(_CHALLENGE_MEMBERS)}")
    challenge = Challenge(**doc)  # checks every member's type and value
    if challenge.text() != text:
        raise _fail("didauth.bad_challenge", "the challenge is not in its canonical spelling")
    return challenge


# ------------------------------------------------------------------------------------------- the proof


def prove(signer: Signer, kid: str, challenge: Challenge, *, now: int) -> str:
    """The subject's answer: a compact JWS by ``signer`` (the key ``kid`` of the challenge's subject names, which
    must be one of its ``authentication`` keys) over ``{nonce, domain, subject, iat: now}``.

    Raises ``didauth.wrong_subject`` for a key of another DID, ``didauth.expired`` / ``didauth.bad_time`` when
    ``now`` is outside the challenge's life (the verifier would refuse the proof)."""
    if not isinstance(challenge, Challenge):
        raise TypeError(f"challenge must be a Challenge, not {type(challenge).__name__}")
    now = _need_int(now, "now")
    if not isinstance(kid, str):
        raise TypeError(f"kid must be a str, not {type(kid).__name__}")
    did, sep, fragment = kid.partition("#")
    if not sep or not is_valid_fragment(fragment) or did != challenge.subject:
        raise _fail("didauth.wrong_subject", f"{kid[:120]!r} is not a key of the challenge's subject "
                                             f"{challenge.subject}")
    if now >= challenge.expires:
        raise _fail("didauth.expired", f"the challenge expired at {xml_datetime(challenge.expires)}")
    if now < challenge.created - CLOCK_SKEW:
        raise _fail("didauth.bad_time", f"the challenge was made at {xml_datetime(challenge.created)}, after now "
                                        f"({xml_datetime(now)}): check this computer's clock")
    header = {"alg": signer.algorithm, "kid": kid, "typ": PROOF_TYPE}
    claims = {"nonce": challenge.nonce, "domain": challenge.domain, "subject": challenge.subject, "iat": now}
    return token.encode(header, claims, signer)


@dataclass(frozen=True)
class DidAuthResult:
    """What :func:`verify_proof` / :func:`verify_evidence` found: ``ok``, or the ``code`` and ``message`` of the
    first check that failed. ``kid`` and ``iat`` are the proof's, once it could be read."""

    ok: bool
    code: str | None = None
    message: str = ""
    kid: str | None = None
    iat: int | None = None

    def raise_for_failure(self) -> None:
        """Raise the failure as a :class:`DidAuthError` (for callers that stop at a refusal, like the CLI)."""
        if not self.ok:
            raise _fail(self.code or "didauth.malformed", self.message)


@dataclass(frozen=True)
class _Proof:
    parsed: token.Parsed
    kid: str
    iat: int


def _decode(proof: object) -> _Proof:
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_LENGTH:
        raise _fail("didauth.malformed", f"a proof is a compact JWS of at most {MAX_PROOF_LENGTH} characters")
    try:
        parsed = token.decode(proof, max_len=MAX_PROOF_LENGTH)
    except PassportError as exc:
        raise _fail("didauth.malformed", f"not a compact JWS: {exc.message}") from None
    header, claims = parsed.header, parsed.claims
    if set(header) != {"alg", "kid", "typ"} or header["typ"] != PROOF_TYPE or not isinstance(header["kid"], str):
        raise _fail("didauth.malformed", f"not a DID Auth proof (header: alg, kid and typ {PROOF_TYPE!r})")
    if set(claims) != _CLAIMS or not all(isinstance(claims[k], str) for k in ("nonce", "domain", "subject")) \
            or not _is_time(claims["iat"]):
        raise _fail("didauth.malformed", "the claims are not exactly nonce, domain, subject (strings) and iat (a "
                                         "Unix time)")
    kid: str = header["kid"]
    did, sep, fragment = kid.partition("#")
    if not sep or not _is_did(did) or not is_valid_fragment(fragment):
        raise _fail("didauth.malformed", f"kid {kid[:120]!r} is not a DID URL naming a key")
    return _Proof(parsed, kid, claims["iat"])


def _bind(p: _Proof, *, nonce: str, domain: str, subject: str) -> None:
    claims = p.parsed.claims
    if claims["domain"] != domain:
        raise _fail("didauth.wrong_domain", f"the proof is for {claims['domain'][:80]!r}, not {domain}")
    if claims["subject"] != subject:
        raise _fail("didauth.wrong_subject", f"the proof is by {claims['subject'][:80]!r}, not {subject}")
    if p.kid.partition("#")[0] != subject:
        raise _fail("didauth.wrong_subject", f"the signing key {p.kid} is not a key of the subject {subject}")
    if claims["nonce"] != nonce:
        raise _fail("didauth.wrong_nonce", "the proof answers another challenge (nonce)")


def _key(key_at: KeyAt, kid: str, t: int, code: str) -> VerificationKey:
    when = xml_datetime(t)
    try:
        key = key_at(kid, t)
    except DidError as exc:
        raise _fail(code, f"{kid} is no authentication key at {when}: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - an injected lookup that fails is "no key", never a raise
        raise _fail(code, f"the key lookup for {kid} failed ({type(exc).__name__})") from None
    if key is None or not key.relationships & _AUTHENTICATION or not key.active_at(t):
        raise _fail(code, f"{kid} is no authentication key of its DID at {when}")
    return key


def _check_signature(p: _Proof, key_at: KeyAt) -> None:
    key = _key(key_at, p.kid, p.iat, "didauth.key_not_found")
    if not token.verify_signature(p.parsed, key.key_type, key.public_key):
        raise _fail("didauth.signature_invalid", f"the signature does not verify with {p.kid} "
                                                 f"({p.parsed.alg})")


def _run(run: Callable[[], _Proof], found: dict[str, Any]) -> DidAuthResult:
    """Run the checks; a refusal becomes a failed result (with the kid and iat once the proof was read)."""
    try:
        p = run()
    except DidAuthError as exc:
        return DidAuthResult(False, exc.code, exc.message, found.get("kid"), found.get("iat"))
    return DidAuthResult(True, None, f"{p.kid} proved control at {xml_datetime(p.iat)}", p.kid, p.iat)


def verify_proof(proof: object, challenge: Challenge | str, *, key_at: KeyAt, now: int) -> DidAuthResult:
    """Check a subject's answer to ``challenge`` (a :class:`Challenge` or its text) at ``now``. Never raises for
    bad input. In order: the challenge is alive; the proof is a DID Auth JWS whose ``kid`` is a key of the
    subject; its domain, subject and nonce are the challenge's; ``iat`` lies within the challenge's life and not
    after ``now`` (± :data:`CLOCK_SKEW`); ``kid`` was an authentication key at ``iat``; the signature verifies;
    the key is still valid at ``now``."""
    now = _need_int(now, "now")
    found: dict[str, Any] = {}

    def run() -> _Proof:
        ch = challenge if isinstance(challenge, Challenge) else parse_challenge(challenge)
        if now >= ch.expires:
            raise _fail("didauth.expired", f"the challenge expired at {xml_datetime(ch.expires)}")
        p = _decode(proof)
        found.update(kid=p.kid, iat=p.iat)
        _bind(p, nonce=ch.nonce, domain=ch.domain, subject=ch.subject)
        if not ch.created - CLOCK_SKEW <= p.iat <= min(now, ch.expires) + CLOCK_SKEW:
            raise _fail("didauth.bad_time", f"iat {xml_datetime(p.iat)} is outside the challenge's life "
                                            f"({xml_datetime(ch.created)} to {xml_datetime(ch.expires)}) or in the "
                                            f"future (now {xml_datetime(now)}, skew {CLOCK_SKEW} s)")
        _check_signature(p, key_at)
        _key(key_at, p.kid, now, "didauth.key_revoked")
        return p

    return _run(run, found)


# ------------------------------------------------------------------------------------------- the evidence


def evidence(challenge: Challenge, proof: str, result: DidAuthResult) -> dict[str, Any]:
    """The VC 2.0 ``evidence`` entry of a successful DID Auth, in the TN context v2 terms."""
    if not isinstance(challenge, Challenge) or not isinstance(proof, str):
        raise TypeError("evidence(challenge: Challenge, proof: str, result: DidAuthResult)")
    if not result.ok or result.kid is None or result.iat is None:
        raise ValueError("evidence is only made of a DID Auth that verified")
    return {"type": [EVIDENCE_TYPE], "authChallenge": challenge.nonce, "authDomain": challenge.domain,
            "authMethod": result.kid, "authCreated": xml_datetime(result.iat), "authSignature": proof}


def verify_evidence(entry: object, *, subject: str, domain: str, key_at: KeyAt,
                    now: int | None = None) -> DidAuthResult:
    """Re-check a DID Authentication evidence entry for ``subject`` vetted by ``domain`` (the credential's
    subject and issuer). Never raises for bad input. The proof must bind the recorded nonce, ``domain`` and
    ``subject``, its ``kid`` and ``iat`` must be the recorded ``authMethod`` and ``authCreated``, the key an
    authentication key of ``subject`` at ``iat`` and the signature valid. ``now`` (optional) refuses an ``iat``
    in the future. The key's later revocation does not matter: the evidence is checked at its own time."""
    if now is not None:
        now = _need_int(now, "now")
    found: dict[str, Any] = {}

    def run() -> _Proof:
        if not isinstance(entry, Mapping) or set(entry) != _EVIDENCE_MEMBERS:
            raise _fail("didauth.malformed", f"DID Authentication evidence has exactly {sorted(_EVIDENCE_MEMBERS)}")
        types = entry["type"]
        if types != [EVIDENCE_TYPE] and types != EVIDENCE_TYPE:
            raise _fail("didauth.malformed", f"the evidence type is not {EVIDENCE_TYPE}")
        if not all(isinstance(entry[k], str) for k in _EVIDENCE_MEMBERS - {"type"}):
            raise _fail("didauth.malformed", "the evidence members are not strings")
        created = parse_date_time_stamp(entry["authCreated"])
        p = _decode(entry["authSignature"])
        found.update(kid=p.kid, iat=p.iat)
        if entry["authDomain"] != domain:
            raise _fail("didauth.wrong_domain", f"the evidence is for {entry['authDomain'][:80]!r}, not {domain}")
        _bind(p, nonce=entry["authChallenge"], domain=domain, subject=subject)
        if p.kid != entry["authMethod"] or created != p.iat:
            raise _fail("didauth.malformed", "authMethod and authCreated are not the proof's kid and iat")
        if now is not None and p.iat > now + CLOCK_SKEW:
            raise _fail("didauth.bad_time", f"iat {xml_datetime(p.iat)} is in the future (now {xml_datetime(now)})")
        _check_signature(p, key_at)
        return p

    return _run(run, found)


def verify_credential_evidence(credential: object, *, key_at: KeyAt, now: int | None = None) -> DidAuthResult:
    """Re-check the DID Authentication evidence of a credential (an EnterpriseIdentity credential as ``eidln vet``
    issues it): exactly one such entry, for the credential's subject, vetted by its issuer. Never raises for bad
    input; ``didauth.no_evidence`` when there is none."""
    if not isinstance(credential, Mapping):
        return DidAuthResult(False, "didauth.malformed", "a credential is a JSON object")
    raw = credential.get("evidence", [])
    entries = raw if isinstance(raw, list) else [raw]
    ours = [e for e in entries if isinstance(e, Mapping)
            and (e.get("type") == EVIDENCE_TYPE or (isinstance(e.get("type"), list) and EVIDENCE_TYPE in e["type"]))]
    if not ours:
        return DidAuthResult(False, "didauth.no_evidence", "the credential carries no DID Authentication evidence")
    if len(ours) > 1:
        return DidAuthResult(False, "didauth.malformed", "the credential carries more than one DID Authentication")
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = credential.get("credentialSubject")
    subject = subject.get("id") if isinstance(subject, Mapping) else None
    if not isinstance(issuer, str) or not isinstance(subject, str):
        return DidAuthResult(False, "didauth.malformed", "the credential names no issuer or subject")
    return verify_evidence(ours[0], subject=subject, domain=issuer, key_at=key_at, now=now)


def authentication_key_at(resolver: Resolver) -> KeyAt:
    """The :data:`KeyAt` of a node's resolver: ``Resolver.key_at`` with the ``authentication`` relationship."""

    def key_at(did_url: str, t: int) -> VerificationKey:
        return resolver.key_at(did_url, t, relationship="authentication")

    return key_at


# ------------------------------------------------------------------------------------------- the agency's side


def _outstanding(w: Wallet, now: int) -> dict[str, str]:
    """The wallet's live challenges (inside a transaction: expired and unreadable ones are dropped)."""
    store = w.metadata.get(_STORE)
    live: dict[str, str] = {}
    for nonce, text in (store.items() if isinstance(store, dict) else ()):
        try:
            ch = parse_challenge(text)
        except DidAuthError:
            continue
        if ch.nonce == nonce and now < ch.expires:
            live[nonce] = text
    return live


def issue_challenge(w: Wallet, *, domain: str, subject: str, now: int,
                    lifetime: int = CHALLENGE_LIFETIME) -> Challenge:
    """A fresh challenge, remembered in the agency's wallet until it is used or expires (at most
    :data:`MAX_OUTSTANDING` at once: the oldest are forgotten first)."""
    challenge = new_challenge(domain=domain, subject=subject, now=now, lifetime=lifetime)
    with w.transaction():
        live = _outstanding(w, now)
        live[challenge.nonce] = challenge.text()
        oldest_first = sorted(live, key=lambda nonce: parse_challenge(live[nonce]).created)
        for nonce in oldest_first[:max(0, len(live) - MAX_OUTSTANDING)]:
            del live[nonce]
        w.metadata[_STORE] = live
    return challenge


def check_challenge(w: Wallet, text: object, *, domain: str, subject: str, now: int) -> Challenge:
    """The challenge a line carries, if this agency (``domain``) handed it out for ``subject``, has not used it
    and it is alive; :class:`DidAuthError` otherwise. Reads only."""
    challenge = parse_challenge(text)
    if challenge.domain != domain:
        raise _fail("didauth.wrong_domain", f"the challenge is {challenge.domain}'s, not {domain}'s")
    if challenge.subject != subject:
        raise _fail("didauth.wrong_subject", f"the challenge is for {challenge.subject}, not {subject}")
    if _need_int(now, "now") >= challenge.expires:
        raise _fail("didauth.expired", f"the challenge expired at {xml_datetime(challenge.expires)}")
    store = w.metadata.get(_STORE)
    if not isinstance(store, dict) or store.get(challenge.nonce) != challenge.text():
        raise _fail("didauth.unknown_challenge", "this wallet did not hand out that challenge, or it was used "
                                                 "already: make a new one")
    return challenge


def take_challenge(w: Wallet, challenge: Challenge, *, now: int) -> None:
    """Forget a challenge at its use, so that it serves once (``didauth.unknown_challenge`` if another use took it
    first, or it is no longer remembered)."""
    with w.transaction():
        live = _outstanding(w, now)
        if live.pop(challenge.nonce, None) != challenge.text():
            raise _fail("didauth.unknown_challenge", "this wallet did not hand out that challenge, or it was used "
                                                     "already: make a new one")
        w.metadata[_STORE] = live
