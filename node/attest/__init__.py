"""Call-time attestation at the OSP: enterprise PASSporTs proven from the local ledger copy, a policy per
customer trunk, an A / B / C decision with reasons and evidence, the OSP's own SHAKEN PASSporT, an audit log, and
traceback bundles that prove a decision offline."""

from .audit import AuditLog
from .bundle import Anchored, BundleVerification, Check, IndexReaders, build_bundle, bundle_bytes
from .bundle_verify import verify_bundle
from .engine import AttestationEngine, Decision, Evidence, Mechanism
from .ledger import LedgerEvidence, LedgerMechanism
from .policy import Policy, PolicyError, TrunkPolicy, load_policy, parse_policy
from .reasons import REASONS, Reason
from .replay import ReplayCache
from .sip import CallRequest, SipInputError
from .snapshot import LedgerSnapshot, LedgerState

__all__ = [
    "Anchored", "AttestationEngine", "AuditLog", "BundleVerification", "CallRequest", "Check", "Decision", "Evidence",
    "IndexReaders", "LedgerEvidence", "LedgerMechanism", "LedgerSnapshot", "LedgerState", "Mechanism", "Policy",
    "PolicyError", "REASONS", "Reason", "ReplayCache", "SipInputError", "TrunkPolicy", "build_bundle", "bundle_bytes",
    "load_policy", "parse_policy", "verify_bundle",
]
