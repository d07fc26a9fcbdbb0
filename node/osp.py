"""The OSP services of a node, composed from settings: the STI signer, the verification service, the
attestation engine with its ledger snapshot and audit log, and the metrics.

* ``EIDLN_STI_KEY`` names a P-256 key in the node's encrypted wallet (``eidln pki import-key`` puts it there), so
  the STI private key is encrypted at rest like every other key; ``EIDLN_STI_X5U`` is where its certificate chain
  is published. Both together enable ``POST /stir/v1/signing``. ``EIDLN_STI_CHAIN`` (optional) is that chain as a PEM
  file, leaf first: traceback bundles carry it (``x5c``) so that a verifier can judge the OSP's key against its roots.
* ``EIDLN_TRUST_ROOTS`` (a PEM file or a directory of ``*.pem`` / ``*.crt``) enables ``POST /stir/v1/verification``;
  ``EIDLN_CRLS`` adds CRLs; ``EIDLN_X5U_INSECURE=1`` lets the x5u fetcher use http and private addresses (labs only).
* ``EIDLN_POLICY`` (plus the STI signer) enables ``POST /v1/attest`` and the ``/v1/audit`` queries.

The ledger snapshot is kept current by the node's pipeline (:mod:`node.sync.pipeline`, wired by :mod:`node.server`):
every step the follower commits is pushed to it; the call path itself never waits for it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from node.api.metrics import Metrics
from node.attest import AttestationEngine, AuditLog, LedgerMechanism, LedgerSnapshot, load_policy
from node.errors import ConfigError
from node.settings import Settings
from node.shaken.sign import ShakenSigner
from node.shaken.verify import StiVerifier
from node.shaken.x5u import CertFetcher
from node.sync.indexview import IndexView
from wallet.keys import P256Key
from wallet.keystore import Wallet

__all__ = ["OspServices", "build_services", "load_certificates", "load_crls", "load_sti_chain"]

log = logging.getLogger("eidln.osp")


def _pem_files(path: Path, what: str) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".pem", ".crt"))
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError(f"{what} {path} does not exist")
    if not files:
        raise ConfigError(f"{what} {path} holds no .pem or .crt file")
    return files


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file, or in the ``*.pem`` / ``*.crt`` files of a directory."""
    out: list[x509.Certificate] = []
    for f in _pem_files(path, "EIDLN_TRUST_ROOTS"):
        try:
            out.extend(x509.load_pem_x509_certificates(f.read_bytes()))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"EIDLN_TRUST_ROOTS: {f} is not a PEM certificate file ({exc})") from None
    return out


def load_crls(path: Path) -> list[x509.CertificateRevocationList]:
    out: list[x509.CertificateRevocationList] = []
    for f in _pem_files(path, "EIDLN_CRLS"):
        try:
            data = f.read_bytes()
        except OSError as exc:
            raise ConfigError(f"EIDLN_CRLS: cannot read {f}: {exc.strerror}") from None
        marker = b"-----BEGIN X509 CRL-----"
        for chunk in data.split(marker)[1:]:
            try:
                out.append(x509.load_pem_x509_crl(marker + chunk))
            except ValueError as exc:
                raise ConfigError(f"EIDLN_CRLS: {f} holds a CRL that does not parse ({exc})") from None
    return out


def load_sti_chain(path: Path, key: P256Key) -> list[x509.Certificate]:
    """``EIDLN_STI_CHAIN``: the PEM certificates of the STI chain, leaf first; the leaf must certify ``key``."""
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"EIDLN_STI_CHAIN: cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(f"EIDLN_STI_CHAIN: {path} is not a PEM certificate file ({exc})") from None
    leaf = certs[0].public_key()
    if not isinstance(leaf, ec.EllipticCurvePublicKey) or \
            leaf.public_bytes(Encoding.X962, PublicFormat.CompressedPoint) != key.public_key:
        raise ConfigError(f"EIDLN_STI_CHAIN: the first certificate of {path} does not certify the STI key "
                          "(EIDLN_STI_KEY); put the SP certificate first")
    return certs


@dataclass
class OspServices:
    metrics: Metrics
    signer: ShakenSigner | None = None
    verifier: StiVerifier | None = None
    engine: AttestationEngine | None = None
    audit: AuditLog | None = None
    snapshot: LedgerSnapshot | None = None
    sti_chain: list[x509.Certificate] = field(default_factory=list)  # EIDLN_STI_CHAIN, for traceback bundles

    def close(self) -> None:
        if self.audit is not None:
            self.audit.close()
        if self.snapshot is not None:
            self.snapshot.close()
        if self.verifier is not None:
            self.verifier.fetcher.close()


def build_services(s: Settings, *, network: str, chain_id: int, wallet: Callable[[], Wallet],
                   clock: Callable[[], float] | None = None, view: IndexView | None = None) -> OspServices:
    """The services the settings enable (see the module docstring); ``wallet`` opens the node's wallet, ``view`` is
    the node's one :class:`IndexView` (shared with the REST ledger views)."""
    now = clock or time.time
    svc = OspServices(Metrics())
    if (s.sti_key is None) != (s.sti_x5u is None):
        raise ConfigError("EIDLN_STI_KEY and EIDLN_STI_X5U go together (the key signs, the URL names its certificate)")
    if s.sti_key is not None and s.sti_x5u is not None:
        key = wallet().signer(s.sti_key)
        if not isinstance(key, P256Key):
            raise ConfigError(f"EIDLN_STI_KEY {s.sti_key!r} is not a P-256 key (SHAKEN signs ES256)")
        svc.signer = ShakenSigner(key, s.sti_x5u)
        if s.sti_chain is not None:
            svc.sti_chain = load_sti_chain(s.sti_chain, key)
    if s.trust_roots is not None:
        fetcher = CertFetcher(allow_insecure=s.x5u_insecure, clock=now)
        crls = load_crls(s.crl_file) if s.crl_file is not None else []
        svc.verifier = StiVerifier(roots=load_certificates(s.trust_roots), fetcher=fetcher, clock=now, crls=crls,
                                   require_ppt_param=s.stivs_require_ppt)
    if s.policy_file is not None:
        if svc.signer is None:
            raise ConfigError("EIDLN_POLICY needs EIDLN_STI_KEY and EIDLN_STI_X5U: the OSP signs what it attests")
        policy = load_policy(s.policy_file)
        svc.snapshot = LedgerSnapshot(s.index_file, network=network, chain_id=chain_id, view=view)
        svc.audit = AuditLog(s.audit_path)
        snapshot = svc.snapshot
        svc.engine = AttestationEngine(policy=policy, signer=svc.signer, mechanisms=[LedgerMechanism(snapshot)],
                                       audit=svc.audit, clock=now, snapshot=snapshot)
    return svc
