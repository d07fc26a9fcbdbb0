"""``eidln audit bundle ORIGID --out FILE`` and ``eidln audit verify FILE [--trust-roots PEM]``: traceback bundles.

Decisions:

* ``bundle`` reads what ``eidln node serve`` wrote and synced, from ``EIDLN_HOME``: the audit log (``EIDLN_AUDIT``),
  the index and ``network.json``; it needs neither the chain nor a running node (it does not sync: a decision rests
  on what the index held then, and credentials and DID history are never removed from it). It signs with the STI key
  of the node's wallet (``EIDLN_STI_KEY``, with ``EIDLN_STI_X5U`` as for ``node serve``) and adds the certificate
  chain of ``EIDLN_STI_CHAIN`` when set. The file is written whole or not at all (a temporary file, then a rename).
* ``verify`` needs nothing but the file (and the trust roots, to judge who holds the OSP key): it prints one line per
  check (``ok`` / ``FAILED`` / ``skipped``, the check's code, what it found) and exits 0 when none failed; otherwise
  the one error line is ``error: audit.bundle_invalid: <first failed check>: <why>`` and the status 1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.cli.ledger import Out, user_file
from node.errors import ConfigError, NodeError, StoreError
from node.settings import Settings

if TYPE_CHECKING:  # the commands import what they use: every other command starts without the attestation stack
    from cryptography import x509

    from node.shaken.sign import ShakenSigner

__all__ = ["register"]

_LABEL = {"ok": "ok", "failed": "FAILED", "skipped": "skipped"}


def _signer(s: Settings) -> ShakenSigner:
    from node.cli.identity import _open_wallet
    from node.shaken.sign import ShakenSigner
    from wallet.keys import P256Key

    if s.sti_key is None or s.sti_x5u is None:
        raise ConfigError("a bundle is signed with the OSP's STI key: set EIDLN_STI_KEY and EIDLN_STI_X5U as for "
                          "eidln node serve")
    key = _open_wallet(s).signer(s.sti_key)
    if not isinstance(key, P256Key):
        raise ConfigError(f"EIDLN_STI_KEY {s.sti_key!r} is not a P-256 key (SHAKEN signs ES256)")
    return ShakenSigner(key, s.sti_x5u)


def cmd_bundle(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from did_method.resolver import Resolver
    from node.attest import AuditLog, IndexReaders, build_bundle, bundle_bytes
    from node.ledger.deployment import Deployment
    from node.osp import load_sti_chain
    from node.sync.didhistory import IndexHistory
    from node.sync.indexview import IndexView
    from wallet.files import write_atomic

    deployment = Deployment.load(s.network_file)
    if not s.audit_path.is_file():
        raise NodeError(f"no audit log at {s.audit_path} (EIDLN_AUDIT): this node made no decisions",
                        code="audit.disabled")
    if not s.index_file.is_file():
        raise StoreError(f"no index at {s.index_file}: run eidln node run (or node serve) first")
    audit = AuditLog(s.audit_path)
    try:
        record = audit.by_origid(a.origid[:128])
    finally:
        audit.close()
    if record is None:
        raise NodeError(f"no decision with origid {a.origid[:64]!r} in {s.audit_path}", code="audit.not_found")
    signer = _signer(s)
    chain = load_sti_chain(s.sti_chain, signer.key) if s.sti_chain is not None else []
    view = IndexView(s.index_file, network=deployment.network)
    history = IndexHistory(s.index_file)
    try:
        readers = IndexReaders(view, Resolver(history, network=deployment.network, chain_id=deployment.chain_id))
        signed = build_bundle(record, credentials=readers.credential, resolve_at=readers.resolve_at, signer=signer,
                              certificates=chain, network=deployment.network, chain_id=deployment.chain_id,
                              now=int(time.time()))
    finally:
        history.close()
        view.db.close()
    path = Path(a.out)
    with user_file(path, write=True):
        write_atomic(path, bundle_bytes(signed), mode=None)
    content = signed["content"]
    out(f"{path}: origid {record['origid']}, attest {record['attest']}, {len(content['chain'])} chain and "
        f"{len(content['vetting'])} vetting credential(s), {len(content['didDocuments'])} DID document(s)")
    out(f"check it offline with: eidln audit verify {path} [--trust-roots ROOTS.pem]")
    return 0


def _roots(path: str) -> list[x509.Certificate]:
    from cryptography import x509

    with user_file(path):
        data = Path(path).read_bytes()
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ConfigError(f"--trust-roots {path} is not a PEM certificate file ({exc})") from None


def cmd_verify(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.attest.bundle import MAX_BUNDLE
    from node.attest.bundle_verify import verify_bundle

    roots = _roots(a.trust_roots) if a.trust_roots else None
    with user_file(a.file), open(a.file, "rb") as fh:
        raw = fh.read(MAX_BUNDLE + 1)  # the verifier refuses more; never read an unbounded file into memory
    result = verify_bundle(raw, roots=roots)
    for check in result.checks:
        out(f"{_LABEL[check.status]:<8} {check.code:<24} {check.detail}")
    if not result.ok:
        first = result.failures[0]
        raise NodeError(f"{first.code}: {first.detail}", code="audit.bundle_invalid")
    out(f"bundle of origid {result.origid} (attest {result.attest}) verified: {len(result.checks)} checks")
    return 0


def register(sub: Any) -> None:
    """Add ``audit bundle`` and ``audit verify`` to the top-level sub-parsers."""
    audit = sub.add_parser("audit", help="traceback bundles: export a decision's evidence, verify it offline")
    cmds = audit.add_subparsers(dest="cmd", required=True)
    b = cmds.add_parser("bundle", help="export the signed traceback bundle of one decision (from the audit log)")
    b.add_argument("origid", metavar="ORIGID", help="the origid of the OSP's SHAKEN PASSporT")
    b.add_argument("--out", required=True, metavar="FILE", help="where to write the bundle (JSON)")
    b.set_defaults(fn=cmd_bundle)
    v = cmds.add_parser("verify", help="re-verify a bundle offline: signatures, credentials, chain, vetting")
    v.add_argument("file", metavar="FILE", help="a bundle written by eidln audit bundle or GET /v1/audit/…/bundle")
    v.add_argument("--trust-roots", metavar="PEM", default=None,
                   help="STI-PA root certificates: also check the OSP's certificate chain at the decision's time")
    v.set_defaults(fn=cmd_verify)
