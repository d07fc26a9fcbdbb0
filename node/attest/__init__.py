"""Call-time attestation at the OSP: enterprise PASSporTs proven from the local ledger copy, a policy per
customer trunk, an A / B / C decision with reasons and evidence, the OSP's own SHAKEN PASSporT, an audit log."""

from .audit import AuditLog
from .engine import AttestationEngine, Decision, Evidence, Mechanism
from .ledger import LedgerEvidence, LedgerMechanism
from .policy import Policy, PolicyError, TrunkPolicy, load_policy, parse_policy
from .reasons import REASONS, Reason
from .replay import ReplayCache
from .sip import CallRequest, SipInputError
from .snapshot import LedgerSnapshot, LedgerState

__all__ = [
    "AttestationEngine", "AuditLog", "CallRequest", "Decision", "Evidence", "LedgerEvidence", "LedgerMechanism",
    "LedgerSnapshot", "LedgerState", "Mechanism", "Policy", "PolicyError", "REASONS", "Reason", "ReplayCache",
    "SipInputError", "TrunkPolicy", "load_policy", "parse_policy",
]
