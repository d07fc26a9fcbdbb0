"""Re-verify every anchored credential while syncing: the chain is not trusted for content.

For each ``CredentialAnchored`` event the node checks, from its own index only:

1. the anchored bytes are a JSON credential of one of the ledger's kinds (``vc.malformed``): parsed by
   :func:`wallet.strictjson.loads`, at most what the contract stores (:data:`MAX_CREDENTIAL`, 6,144 bytes) and
   32 levels deep, so hostile bytes on the chain can never crash the follower (py-evm raises the recursion limit
   to 100,000, where the standard decoder overflows the C stack on deeply nested brackets);
2. the record the chain keeps (kind, issuer, subject, parent, flags, validity, TN ranges) is exactly what
   the credential itself says (``vc.anchor_mismatch``);
3. the Data Integrity proof (eddsa-rdfc-2022 / eddsa-jcs-2022) verifies with the issuer's key **as it was at
   the proof's creation time** (the DID history replayed from the index; ``vc.issuer_mismatch`` if the
   proof's key is not the issuer's), with the offline, SHA-256-pinned context loader.

A credential that fails is kept aside in ``rejected_credentials`` with its code and message: never used,
never silently dropped. The contracts enforce who may anchor what; this module makes sure that what was
anchored is what the issuer signed.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.vocab import MAX_CREDENTIAL, NUMBER_HOLDER_ROLES, Kind, Role
from did_method.document import Change
from did_method.errors import DidError
from did_method.resolver import Resolver
from did_method.timefmt import parse_date_time_stamp
from node.sync.changes import unhex
from node.sync.didhistory import change_of_row
from node.sync.indexdb import IndexReader
from wallet import strictjson
from wallet.credentials import CredentialError, anchor_of

__all__ = ["Rejection", "CredentialChecker", "ConnectionHistory", "ProofJob", "verify_job", "MAX_CREDENTIAL",
           "parse_credential"]


def parse_credential(data: bytes) -> dict[str, Any] | Rejection:
    """The anchored bytes as a JSON object, or the ``vc.malformed`` rejection that says why not."""
    try:
        vc = strictjson.loads(data, max_bytes=MAX_CREDENTIAL)
    except strictjson.JsonError as exc:
        return Rejection(code="vc.malformed", message=f"the anchored bytes are not strict JSON ({exc})")
    if not isinstance(vc, dict):
        return Rejection(code="vc.malformed", message="the anchored credential is not a JSON object")
    return vc


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    message: str


class ConnectionHistory:
    """DID history read through the sync transaction's own connection (sees this batch's DIDs too), limited
    to the changes before a position (block, log index): a credential's key is looked up in the history as
    it stood where the credential was anchored, whatever the batch boundaries (replays are deterministic)."""

    def __init__(self, db: sqlite3.Connection, before: tuple[int, int] | None = None) -> None:
        self.db = db
        self.before = before

    def changes(self, ident: bytes) -> list[Change]:
        return [change_of_row(row) for row in IndexReader(self.db).did_changes(ident, before=self.before)]


@dataclass(frozen=True, slots=True)
class ProofJob:
    """A proof to verify with a key already resolved (picklable: runs in a worker process)."""

    credential: bytes
    verification_method: str
    key_type: int
    public_key: bytes


def verify_job(job: ProofJob) -> Rejection | None:
    """Check one credential's Data Integrity proof with the given key (pure, for a process pool)."""
    from did_method.ident import KeyType
    from wallet.dataintegrity.loader import document_loader
    from wallet.dataintegrity.suites import verify

    def key_for(vm: str, created: datetime) -> tuple[Any, bytes]:
        if vm != job.verification_method:
            raise DidError(f"unexpected verification method {vm}")
        return KeyType(job.key_type), job.public_key

    vc = parse_credential(job.credential)
    if isinstance(vc, Rejection):
        return vc
    result = verify(vc, key_resolver=key_for, loader=document_loader, expected_purpose="assertionMethod")
    if result.verified:
        return None
    first = result.errors[0]
    return Rejection(code=first.code, message=first.message)




class CredentialChecker:
    """Re-verifies anchored credentials for one follower (network name and chain id).

    :meth:`prepare` does the cheap checks and resolves the issuer key (in order, inside the sync
    transaction); :meth:`verify_all` checks the proofs, in a process pool when a batch is large enough
    (canonicalization is CPU-bound; two cores nearly double the rate). ``__call__`` does both for one event.
    """

    PARALLEL_MIN = 32

    def __init__(self, *, network: str, chain_id: int, workers: int | None = None) -> None:
        self.network = network
        self.chain_id = chain_id
        self.workers = (os.cpu_count() or 1) if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __call__(self, db: sqlite3.Connection, ev: Mapping[str, Any]) -> Rejection | None:
        job = self.prepare(db, ev)
        return job if isinstance(job, Rejection) else verify_job(job)

    def verify_all(self, jobs: list[ProofJob]) -> list[Rejection | None]:
        if len(jobs) < self.PARALLEL_MIN or self.workers < 2:
            return [verify_job(j) for j in jobs]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("forkserver"))
        return list(self._pool.map(verify_job, jobs, chunksize=max(1, len(jobs) // (4 * self.workers))))

    @staticmethod
    def _authority(db: sqlite3.Connection, args: Mapping[str, Any], vc: Mapping[str, Any]) -> Rejection | None:
        """The issuer's role and authority, from the node's own tables as they stand at this event (the
        contract enforces the same rules; the node does not take the chain's word for them)."""
        index = IndexReader(db)
        found = index.did_controller(unhex(args["issuer"]))
        if found is None or found[1]:
            return Rejection(code="vc.issuer_not_authorized", message="the issuer DID is unknown or deactivated")
        controller = found[0]
        roles = Role(index.roles_of(controller))
        kind = args["kind"]
        if kind == Kind.ENTERPRISE_IDENTITY and not roles & Role.VETTER:
            return Rejection(code="vc.issuer_not_authorized", message="an identity credential needs a VETTER issuer")
        if kind == Kind.TN_RIGHT_TO_USE and (args["root_holder"] != controller or
                                             not roles & NUMBER_HOLDER_ROLES):
            return Rejection(code="vc.issuer_not_authorized",
                             message="a grant needs the TNSP / Resp Org holding the numbers as issuer")
        if kind == Kind.TN_DELEGATION:
            parent = index.subject_of(unhex(args["parent"]))
            if parent is not None and parent != unhex(args["issuer"]):
                return Rejection(code="vc.issuer_not_authorized",
                                 message="a delegation is issued by its parent's subject")
        return None

    def prepare(self, db: sqlite3.Connection, ev: Mapping[str, Any]) -> Rejection | ProofJob:
        args = ev["args"]
        vc = parse_credential(unhex(args["credential"]))
        if isinstance(vc, Rejection):
            return vc
        try:
            anchor = anchor_of(vc)
        except (CredentialError, DidError) as exc:
            return Rejection(code="vc.malformed", message=exc.message)
        recorded = {"id": unhex(args["id"]), "kind": args["kind"], "issuer": unhex(args["issuer"]),
                    "subject": unhex(args["subject"]), "parent": unhex(args["parent"]), "flags": args["flags"],
                    "valid_from": args["valid_from"], "valid_until": args["valid_until"],
                    "tns": [(r["start"], r["count"]) for r in args["tns"]]}
        derived = {"id": anchor.id, "kind": int(anchor.kind), "issuer": anchor.issuer, "subject": anchor.subject,
                   "parent": anchor.parent, "flags": int(anchor.flags), "valid_from": anchor.valid_from,
                   "valid_until": anchor.valid_until, "tns": [(r.start, r.count) for r in anchor.tns]}
        diff = sorted(k for k in recorded if recorded[k] != derived[k])
        if diff:
            return Rejection(code="vc.anchor_mismatch",
                             message=f"the ledger record differs from the credential in {diff}")
        authority = self._authority(db, args, vc)
        if authority is not None:
            return authority
        proof = vc.get("proof")
        if not isinstance(proof, dict) or not isinstance(proof.get("verificationMethod"), str) \
                or not isinstance(proof.get("created"), str):
            return Rejection(code="vc.proof_malformed", message="no proof with a verificationMethod and created")
        vm, issuer = proof["verificationMethod"], vc["issuer"]
        if not vm.startswith(issuer + "#"):
            return Rejection(code="vc.key_not_found", message=f"the proof's key {vm} is not a key of the issuer")
        created = parse_date_time_stamp(proof["created"])
        if created is None:
            return Rejection(code="vc.proof_malformed", message="the proof's created is not a dateTime")
        resolver = Resolver(ConnectionHistory(db, before=(ev["block"], ev["log_index"])), network=self.network,
                            chain_id=self.chain_id)
        try:
            key = resolver.key_at(vm, created)
        except DidError as exc:
            return Rejection(code="vc.key_not_found", message=exc.message)
        return ProofJob(unhex(args["credential"]), vm, int(key.key_type), key.public_key)
