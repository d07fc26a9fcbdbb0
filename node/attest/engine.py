"""The attestation engine: one call in, one decision out (A / B / C, mechanism, evidence, reasons), signed.

:meth:`AttestationEngine.attest` never raises for anything a caller can send: every refusal is a
:class:`~node.attest.reasons.Reason` in the decision. It reads only memory (the policy, the
:class:`~node.attest.snapshot.LedgerSnapshot`, the replay cache) and the injected clock; the audit log is
appended through a queue. Decision rules:

* unknown trunk → **C** (``trunk.unknown``); a ``gateway`` trunk → **C**;
* ``orig`` among the trunk's ``osp_numbers`` (and ``osp-numbers`` listed) → **A** without enterprise evidence;
* an enterprise PASSporT that a listed mechanism proves (freshness, orig/dest match, then the mechanism's own
  checks, then replay) → **A**; the first that proves wins, the refusals of the others are kept as reasons;
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
from wallet.passport import EnterpriseCall, PassportError, parse_call, rcdi_for

from .audit import AuditLog
from .policy import Policy, TrunkPolicy
from .reasons import Reason
from .replay import ReplayCache
from .sip import CallRequest
from .snapshot import LedgerSnapshot, LedgerState

__all__ = ["AttestationEngine", "Decision", "Evidence", "Mechanism"]

log = logging.getLogger("eidln.attest")


class Evidence(Protocol):
    def to_json(self) -> dict[str, object]: ...


class Mechanism(Protocol):
    """A way to prove the caller's right to ``orig`` from an enterprise PASSporT (the ledger first; the
    certificate and central-database adapters plug in here)."""

    name: str
    verified: str  # the reason code of a decision this mechanism proved (e.g. ``ledger.verified``)

    def evaluate(self, call: EnterpriseCall, *, trunk: TrunkPolicy, now: int,
                 ledger: LedgerState | None = None) -> Evidence | Reason:
        """Evidence, or the reason it proves nothing. ``ledger``: the ledger version pinned for this call (every
        mechanism of one call reads the same one)."""
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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origid": self.origid, "attest": self.attest, "mechanism": self.mechanism, "trunk": self.trunk,
            "orig": self.orig, "dest": list(self.dest), "iat": self.iat,
            "reasons": [r.to_json() for r in self.reasons],
            "evidence": self.evidence.to_json() if self.evidence is not None else None,
            "identity": self.identity, "decidedAt": self.decided_at,
            "ledgerPosition": list(self.ledger_position) if self.ledger_position else None,
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
                json.dumps(list(self.identities)), json.dumps(passed, default=dict) if passed else None)


class AttestationEngine:
    def __init__(self, *, policy: Policy, signer: ShakenSigner, mechanisms: Sequence[Mechanism] = (),
                 audit: AuditLog | None = None, replay: ReplayCache | None = None,
                 clock: Callable[[], float] = time.time, snapshot: LedgerSnapshot | None = None) -> None:
        self.policy = policy
        self.signer = signer
        self.mechanisms = {m.name: m for m in mechanisms}
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
        if "osp-numbers" in trunk.mechanisms and req.orig.isdigit() and trunk.assigned(int(req.orig)):
            reasons.append(Reason("osp.assigned_number", req.orig))
            return "A", "osp-numbers", None, _Rcd(None, None, None)
        if not req.identities:
            reasons.append(Reason("evidence.none"))
        for header in req.identities:
            outcome = self._enterprise(header, req, trunk, now, ledger)
            if isinstance(outcome, Reason):
                reasons.append(outcome)
                continue
            call, mech, evidence = outcome
            reasons.append(Reason(self.mechanisms[mech].verified, call.credential_id))
            return "A", mech, evidence, self._rcd(call, evidence, reasons)
        return "B", None, None, _Rcd(None, None, None)

    def _enterprise(self, header: str, req: CallRequest, trunk: TrunkPolicy, now: int, ledger: LedgerState | None
                    ) -> Reason | tuple[EnterpriseCall, str, Evidence]:
        try:
            call = parse_call(header)
        except PassportError as exc:
            return Reason.refused(exc)
        if call.alg not in trunk.algorithms:
            return Reason("ppt.alg_not_allowed", f"{call.alg} is not allowed on trunk {trunk.trunk}")
        if call.iat < now - trunk.freshness:
            return Reason("ppt.stale", f"iat {call.iat} is {now - call.iat} s old (window {trunk.freshness} s)")
        if call.iat > now + trunk.future_skew:
            return Reason("ppt.future", f"iat {call.iat} is {call.iat - now} s ahead (skew {trunk.future_skew} s)")
        if call.orig != req.orig:
            return Reason("ppt.orig_mismatch", f"PASSporT orig {call.orig}, call from {req.orig}")
        if not set(req.dest) <= set(call.dest):
            return Reason("ppt.dest_mismatch", f"PASSporT dest {list(call.dest)}, call to {list(req.dest)}")
        refusal: Reason | None = None
        for name in trunk.mechanisms:
            mech = self.mechanisms.get(name)
            if mech is None:
                continue
            outcome = mech.evaluate(call, trunk=trunk, now=now, ledger=ledger)
            if isinstance(outcome, Reason):
                refusal = refusal or outcome
                continue
            if not self.replay.check_and_add(call.parsed.signing_input, now=now, until=call.iat + trunk.freshness):
                return Reason("ppt.replay", str(call.kid))
            return call, name, outcome
        return refusal or Reason("mechanism.not_allowed", f"trunk {trunk.trunk} accepts {list(trunk.mechanisms)}")

    @staticmethod
    def _rcd(call: EnterpriseCall, evidence: Evidence, reasons: list[Reason]) -> _Rcd:
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
