"""The attestation engine: one call in, one decision out (A / B / C, mechanism, evidence, reasons), signed.

:meth:`AttestationEngine.attest` never raises for anything a caller can send: every refusal is a
:class:`~node.attest.reasons.Reason` in the decision. It reads only memory (the policy, the
:class:`~node.attest.snapshot.LedgerSnapshot`, the replay cache) and the injected clock; the audit log is
appended through a queue. Decision rules:

* unknown trunk → **C** (``trunk.unknown``); a ``gateway`` trunk → **C**;
* each enterprise Identity header is parsed once into its typed token (:func:`wallet.passport.parse_token`: the
  ledger's ``eidln`` PASSporT, or a base / ``rcd`` / ``shaken`` PASSporT signed with a certificate at ``x5u``) and
  checked once for what every mechanism shares (algorithm allow-list, freshness, ``orig`` / ``dest``); a header
  that fails is a reason, not a token;
* the trunk's mechanisms run in the policy's order: a call-level one (no ``tokens``: ``osp-numbers``, a TN letter
  for a direct customer) is asked once, a token one once per token of its types; the first evidence wins → **A**
  (after the replay check of the token it rests on); every refusal of the others is kept as a reason;
* otherwise **B**: the OSP knows its customer but not its right to the number.

The OSP's own SHAKEN PASSporT gets ``iat`` = the SIP Date when that is within the trunk's freshness window of
now, else now; ``origid`` is a fresh UUID that keys the audit record; vetted rich call data (``rcd``) rides in it
as an RFC 9795 claim, so a terminating carrier can show the enterprise's vetted name.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from node.shaken.sign import ShakenSigner
from wallet.passport import PassportError, Token, parse_token, rcdi_for

from .audit import AuditLog
from .osp_numbers import OspNumbersMechanism
from .policy import MECHANISMS, Policy, TrunkPolicy
from .reasons import Reason
from .replay import ReplayCache
from .sip import CallRequest
from .snapshot import LedgerSnapshot, LedgerState

__all__ = ["AttestationEngine", "Decision", "Evidence", "Mechanism"]

log = logging.getLogger("eidln.attest")


class Evidence(Protocol):
    """What a mechanism proved. ``entity`` names, for audit and traceback, the party the proof identifies (a DID, a
    Lemon Twist entity id, a certificate subject, a letter's EV identity); ``to_json`` is the evidence record."""

    @property
    def entity(self) -> str: ...

    def to_json(self) -> dict[str, object]: ...


class Mechanism(Protocol):
    """One way to prove the caller's right to ``orig`` (docs/mechanisms.md). Every mechanism plugs in here:

    * ``tokens``: the enterprise token types it evaluates (:class:`~wallet.passport.EnterpriseCall`,
      :class:`~wallet.passport.CertCall`); empty for a mechanism that needs no per-call enterprise signature (a
      direct customer on a known trunk), which is asked once per call with ``token=None``;
    * ``evaluate`` returns evidence, or the :class:`Reason` it proves nothing, or None when it has nothing to say
      about this call (a number it does not know: no reason is recorded);
    * ``verified``: the reason code of a decision it proved (e.g. ``ledger.verified``)."""

    name: str
    verified: str
    tokens: tuple[type, ...]

    def evaluate(self, token: Token | None, *, req: CallRequest, trunk: TrunkPolicy, now: int,
                 ledger: LedgerState | None) -> Evidence | Reason | None:
        """``ledger``: the ledger version pinned for this call (every mechanism of one call reads the same one)."""
        ...


@dataclass(frozen=True)
class Decision:
    origid: str
    attest: str
    mechanism: str | None
    trunk: str
    orig: str
    dest: tuple[str, ...]
    iat: int
    identity: str
    reasons: tuple[Reason, ...]
    evidence: Evidence | None = None
    rcd: Mapping[str, Any] | None = None
    decided_at: float = 0.0
    ledger_position: tuple[int, int] | None = None
    elapsed: float = field(default=0.0, compare=False)
    rcdi: Mapping[str, str] | None = None  # the integrity digests of what the passed rcd references (RFC 9795)
    crn: str | None = None  # the vetted call reason passed on
    identities: tuple[str, ...] = ()  # the enterprise Identity headers the call carried, as received (audit)

    @property
    def entity(self) -> str | None:
        """The party the evidence identifies (audit is searchable by it), None without evidence."""
        return self.evidence.entity if self.evidence is not None else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origid": self.origid, "attest": self.attest, "mechanism": self.mechanism, "trunk": self.trunk,
            "orig": self.orig, "dest": list(self.dest), "iat": self.iat,
            "reasons": [r.to_json() for r in self.reasons],
            "evidence": self.evidence.to_json() if self.evidence is not None else None,
            "identity": self.identity, "decidedAt": self.decided_at,
            "ledgerPosition": list(self.ledger_position) if self.ledger_position else None,
            "entity": self.entity,
        }
        if self.rcd is not None:
            out["rcd"] = dict(self.rcd)
        if self.rcdi is not None:
            out["rcdi"] = dict(self.rcdi)
        if self.crn is not None:
            out["crn"] = self.crn
        return out

    def audit_row(self) -> tuple[Any, ...]:
        """The audit log's columns (:class:`node.attest.audit.AuditRecord`); called by its writer thread."""
        passed = {k: v for k, v in (("rcd", self.rcd), ("rcdi", self.rcdi), ("crn", self.crn)) if v is not None}
        return (self.origid, self.decided_at, self.trunk, self.orig, json.dumps(list(self.dest)), self.attest,
                self.mechanism, json.dumps([r.to_json() for r in self.reasons]),
                json.dumps(self.evidence.to_json()) if self.evidence is not None else None,
                json.dumps(self.ledger_position) if self.ledger_position else None, self.identity,
                json.dumps(list(self.identities)), json.dumps(passed, default=dict) if passed else None, self.entity)


class AttestationEngine:
    def __init__(self, *, policy: Policy, signer: ShakenSigner, mechanisms: Sequence[Mechanism] = (),
                 audit: AuditLog | None = None, replay: ReplayCache | None = None,
                 clock: Callable[[], float] = time.time, snapshot: LedgerSnapshot | None = None) -> None:
        self.policy = policy
        self.signer = signer
        self.mechanisms: dict[str, Mechanism] = {"osp-numbers": OspNumbersMechanism()}
        for m in mechanisms:
            if m.name not in MECHANISMS:
                raise ValueError(f"mechanism {m.name!r} is not one a policy can name ({', '.join(MECHANISMS)})")
            self.mechanisms[m.name] = m
        self.audit = audit
        self.replay = replay if replay is not None else ReplayCache()
        self.clock = clock
        self.snapshot = snapshot  # pinned once per call: the decision names the exact ledger version it used
        self._random, self._random_pos, self._random_lock = bytearray(), 0, threading.Lock()

    def attest(self, req: CallRequest) -> Decision:
        started = time.perf_counter()
        ledger = self.snapshot.state if self.snapshot is not None else None
        now_f = self.clock()
        now = int(now_f)
        trunk = self.policy.trunk(req.trunk)
        evidence: Evidence | None = None
        mechanism: str | None = None
        passed = _Rcd(None, None, None)
        reasons: list[Reason] = []
        if trunk is None:
            attest = "C"
            reasons.append(Reason("trunk.unknown", req.trunk))
        elif trunk.gateway:
            attest = "C"
            reasons.append(Reason("trunk.gateway", req.trunk))
        else:
            attest = "B"
            try:
                attest, mechanism, evidence, passed = self._evaluate(req, trunk, now, reasons, ledger)
            except Exception:  # a defect, not an input: never A, never a 500; the trace goes to the log
                log.exception("attestation evaluation failed for trunk %s", req.trunk)
                attest, mechanism, evidence, passed = "B", None, None, _Rcd(None, None, None)
                reasons.append(Reason("engine.error"))
        window = trunk.freshness if trunk is not None else self.policy.defaults.freshness
        iat = req.date if req.date is not None and abs(req.date - now) <= window else now
        origid = self._origid()
        identity = self.signer.identity(attest=attest, orig=req.orig, dest=req.dest, iat=iat, origid=origid,
                                        rcd=passed.rcd, rcdi=passed.rcdi, crn=passed.crn)
        decision = Decision(origid, attest, mechanism, req.trunk, req.orig, req.dest, iat, identity, tuple(reasons),
                            evidence, passed.rcd, now_f, ledger.position if ledger is not None else None,
                            time.perf_counter() - started, rcdi=passed.rcdi, crn=passed.crn,
                            identities=tuple(req.identities))
        if self.audit is not None:
            self.audit.append(decision)
        return decision

    def _origid(self) -> str:
        """A random (version 4) UUID, from a buffer of ``os.urandom`` refilled every 256 calls (one system call
        instead of one per call)."""
        with self._random_lock:
            if self._random_pos >= len(self._random):
                self._random, self._random_pos = bytearray(os.urandom(16 * 256)), 0
            b = self._random[self._random_pos:self._random_pos + 16]
            self._random_pos += 16
        b[6] = (b[6] & 0x0F) | 0x40  # version 4
        b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
        h = b.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _evaluate(self, req: CallRequest, trunk: TrunkPolicy, now: int, reasons: list[Reason],
                  ledger: LedgerState | None) -> tuple[str, str | None, Evidence | None, _Rcd]:
        """The trunk's mechanisms in its order; the first that proves wins, every refusal is kept (module notice)."""
        tokens = self._tokens(req, trunk, now, reasons)
        handled: set[int] = set()
        for name in trunk.mechanisms:
            mech = self.mechanisms.get(name)
            if mech is None:
                reasons.append(Reason("mechanism.unavailable", name))
                continue
            if not mech.tokens:
                outcome = mech.evaluate(None, req=req, trunk=trunk, now=now, ledger=ledger)
                if outcome is None:
                    continue
                if isinstance(outcome, Reason):
                    reasons.append(outcome)
                    continue
                reasons.append(Reason(mech.verified, outcome.entity))
                return "A", name, outcome, _Rcd(None, None, None)
            for i, token in enumerate(tokens):
                if token is None or not isinstance(token, mech.tokens):
                    continue
                handled.add(i)
                outcome = mech.evaluate(token, req=req, trunk=trunk, now=now, ledger=ledger)
                if outcome is None:
                    continue
                if isinstance(outcome, Reason):
                    reasons.append(outcome)
                    continue
                if not self.replay.check_and_add(token.parsed.signing_input, now=now,
                                                 until=token.iat + trunk.freshness):
                    reasons.append(Reason("ppt.replay", token.ref))
                    tokens[i] = None  # spent: no other mechanism may take it
                    continue
                reasons.append(Reason(mech.verified, token.ref))
                return "A", name, outcome, self._rcd(token, outcome, reasons)
        for i, token in enumerate(tokens):
            if token is not None and i not in handled:
                reasons.append(Reason("mechanism.not_allowed", f"a {token.kind} PASSporT; trunk {trunk.trunk} "
                                                               f"accepts {list(trunk.mechanisms)}"))
        if not req.identities:
            reasons.append(Reason("evidence.none"))
        return "B", None, None, _Rcd(None, None, None)

    def _tokens(self, req: CallRequest, trunk: TrunkPolicy, now: int, reasons: list[Reason]) -> list[Token | None]:
        """Each enterprise Identity header parsed once into its typed token, with the checks every mechanism shares
        (algorithm allow-list, freshness, orig / dest); a header that fails them is a reason, not a token."""
        out: list[Token | None] = []
        for header in req.identities:
            try:
                token = parse_token(header)
            except PassportError as exc:
                reasons.append(Reason.refused(exc))
                continue
            refusal = self._common(token, req, trunk, now)
            if refusal is not None:
                reasons.append(refusal)
                continue
            out.append(token)
        return out

    @staticmethod
    def _common(token: Token, req: CallRequest, trunk: TrunkPolicy, now: int) -> Reason | None:
        if token.alg not in trunk.algorithms:
            return Reason("ppt.alg_not_allowed", f"{token.alg} is not allowed on trunk {trunk.trunk}")
        if token.iat < now - trunk.freshness:
            return Reason("ppt.stale", f"iat {token.iat} is {now - token.iat} s old (window {trunk.freshness} s)")
        if token.iat > now + trunk.future_skew:
            return Reason("ppt.future", f"iat {token.iat} is {token.iat - now} s ahead (skew {trunk.future_skew} s)")
        if token.orig != req.orig:
            return Reason("ppt.orig_mismatch", f"PASSporT orig {token.orig}, call from {req.orig}")
        if not set(req.dest) <= set(token.dest):
            return Reason("ppt.dest_mismatch", f"PASSporT dest {list(token.dest)}, call to {list(req.dest)}")
        return None

    @staticmethod
    def _rcd(call: Token, evidence: Evidence, reasons: list[Reason]) -> _Rcd:
        """Pass on only what was vetted (RFC 9795 §8: the OSP vouches for what it signs), from the enterprise of
        record's vetted identity (``evidence.vetting``):

        * ``nam`` must equal the vetted brand, or no rich call data passes at all (``rcd.not_vetted``);
        * ``icn`` passes when it is the vetted logo and the vetting gives its integrity digest, which goes into
          ``rcdi`` (``{"/icn": …}``); otherwise it is dropped (``rcd.icn_not_vetted``);
        * ``apn``, ``jcd``, ``jcl``: nothing vets them, so they are dropped (``rcd.member_not_vetted``);
        * ``crn`` passes when it is one of the vetted call reasons (``rcd.crn_not_vetted``)."""
        vetting = getattr(evidence, "vetting", None)
        crn = None
        if call.crn is not None:
            if vetting is not None and call.crn in vetting.call_reasons:
                crn = call.crn
            else:
                reasons.append(Reason("rcd.crn_not_vetted", f"crn {call.crn[:60]!r}"))
        if call.rcd is None:
            return _Rcd(None, None, crn)
        brand = vetting.brand_name if vetting is not None else None
        if brand is None or call.rcd.get("nam") != brand:
            reasons.append(Reason("rcd.not_vetted", f"nam {str(call.rcd.get('nam'))[:60]!r}"))
            return _Rcd(None, None, crn)
        rcd: dict[str, Any] = {"nam": brand}
        rcdi: dict[str, str] | None = None
        icn = call.rcd.get("icn")
        if icn is not None:
            try:
                if vetting is None or icn != vetting.logo or not vetting.logo_integrity:
                    raise PassportError("not the vetted logo", code="passport.no_integrity")
                rcdi = rcdi_for({**rcd, "icn": icn}, {icn: vetting.logo_integrity})
                rcd["icn"] = icn
            except PassportError:  # not the vetted logo, or a vetted digest no verifier would accept
                reasons.append(Reason("rcd.icn_not_vetted", f"icn {str(icn)[:80]!r}"))
        for member in sorted(set(call.rcd) - {"nam", "icn"}):
            reasons.append(Reason("rcd.member_not_vetted", member))
        return _Rcd(rcd, rcdi, crn)


@dataclass(frozen=True, slots=True)
class _Rcd:
    """What of the enterprise's rich call data the OSP signs: ``rcd``, its ``rcdi``, the call reason."""

    rcd: Mapping[str, Any] | None
    rcdi: Mapping[str, str] | None
    crn: str | None
