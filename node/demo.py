"""``eidln demo``: the whole story on a fresh embedded chain, in well under a minute.

Governance admits a TNSP, a vetting agency and an OSP; the agency vets Acme; the TNSP grants Acme numbers;
Acme delegates some to its call center. The call center's dialer signs each call with its DID key; the OSP's
node attests from its synced ledger copy and signs its own SHAKEN PASSporT (x5u served over real HTTP from a
generated test PKI); the terminating side verifies every SHAKEN header with the STI-VS, as any carrier would.

Everything is real: the chain (py-evm in SQLite), the wallets (encrypted files), the signatures, the HTTP
server. One artefact of running a whole network in one process: the embedded chain gives each block a
timestamp at least one second past its parent's, so a burst of transactions would push its clock ahead of the
wall clock, and a key or credential would then look newer than a call placed "now". The demo's chain therefore
keeps its block clock :data:`CHAIN_CLOCK_LAG` seconds behind the wall clock (a few dozen blocks never catch up
with it), and every party uses the wall clock, as on a real network.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from eth_account import Account

from contracts.vocab import Role, TNRange
from did_method.resolver import Resolver
from node.attest import AttestationEngine, AuditLog, CallRequest, LedgerMechanism, LedgerSnapshot, parse_policy
from node.chain.embedded import EmbeddedChain
from node.cli.shaken import pki_server
from node.errors import ConfigError
from node.ledger.client import Action, Ledger, deploy_network
from node.ledger.deployment import Deployment
from node.shaken.pki import generate_test_pki
from node.shaken.sign import ShakenSigner
from node.shaken.verify import StiVerifier
from node.shaken.x5u import CertFetcher
from node.sync.didhistory import IndexHistory
from node.sync.follower import Follower
from node.sync.pipeline import Pipeline
from node.sync.store import Store
from wallet import didauth
from wallet.credentials import enterprise_identity, tn_delegation, tn_right_to_use
from wallet.dids import create_did, signer_for
from wallet.issue import issue, set_status
from wallet.keys import P256Key
from wallet.keystore import Wallet
from wallet.passport import sign_call

__all__ = ["run_demo", "build_story", "DemoRow", "Story"]

Out = Callable[[str], None]
CALLER, CALLEE = "12025550142", "13105550000"
YEAR = 365 * 24 * 3600
CHAIN_CLOCK_LAG = 600  # seconds the demo chain's block clock runs behind the wall clock (see above)


@dataclass(frozen=True)
class DemoRow:
    step: str
    evidence: str
    attest: str
    reason: str
    verstat: str
    brand: str
    micros: float


def _governed(ledger: Ledger, governors: list[Any], action: Action) -> None:
    res = ledger.propose(governors[0], action)
    if not res.executed:
        ledger.vote(governors[1], res.proposal_id)


def run_demo(out: Out, workdir: Path | None = None) -> list[DemoRow]:
    """Run the story, print it, and return the table rows (the test reads them). ``workdir`` keeps the files."""
    if workdir is not None:
        if workdir.exists() and (not workdir.is_dir() or any(workdir.iterdir())):
            raise ConfigError(f"{workdir} is not an empty directory; the demo starts a fresh network in it")
        workdir.mkdir(parents=True, exist_ok=True)
        return _run(out, workdir, keep=True)
    with tempfile.TemporaryDirectory(prefix="eidln-demo-") as tmp:
        return _run(out, Path(tmp), keep=False)


@dataclass
class Story:
    """The demo network after set-up: the parties' wallets and DIDs, the credentials, and the OSP's node."""

    chain: EmbeddedChain
    ledger: Ledger
    wallets: dict[str, Wallet]
    did: dict[str, str]
    grant: dict[str, Any]
    delegation: dict[str, Any]
    follower: Follower
    snapshot: LedgerSnapshot
    engine: AttestationEngine
    audit: AuditLog
    verifier: StiVerifier
    x5u: str
    clock: Callable[[], float]
    server: ThreadingHTTPServer

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.audit.close()
        self.snapshot.close()


def build_story(home: Path, out: Out = lambda _line: None, *, audit: bool = True) -> Story:
    """Set up the network, the parties and the OSP node (steps 1 to 4 of the demo). Call :meth:`Story.close`."""
    chain = EmbeddedChain(home / "chain.sqlite", clock=lambda: time.time() - CHAIN_CLOCK_LAG)
    clock: Callable[[], float] = time.time
    governors = [Account.create() for _ in range(3)]
    dep = deploy_network(chain, Account.create(), [g.address for g in governors], 2, network="demo")
    ledger = Ledger(chain, dep)
    out("1. a permissioned ledger on an embedded chain: 3 governors, 2 votes pass a proposal")

    wallets = {name: Wallet.create(home / f"{name}.wallet", "demo-only-passphrase", fast=True)
               for name in ("telone", "vetco", "osp", "acme", "callcenter")}
    acct = {name: w.ledger_account() for name, w in wallets.items()}
    _governed(ledger, governors, Action.admit(acct["telone"].address, Role.TNSP, "1234", "Tel One"))
    _governed(ledger, governors, Action.admit(acct["vetco"].address, Role.VETTER, "", "Vet Co"))
    _governed(ledger, governors, Action.admit(acct["osp"].address, Role.OSP, "5678", "Carrier OSP"))
    _governed(ledger, governors, Action.assign_blocks(12025550000, 1000, acct["telone"].address))
    ledger.onboard(acct["telone"], acct["acme"].address, "enterprise")
    ledger.onboard(acct["telone"], acct["callcenter"].address, "call-center")
    out("2. governance admits Tel One (TNSP, SPC 1234), Vet Co (vetting agency) and Carrier OSP (SPC 5678);"
        " Tel One gets +1 202 555 0000-0999")

    did = {name: create_did(w, ledger) for name, w in wallets.items() if name != "osp"}
    now = int(clock())
    since = now - 2 * CHAIN_CLOCK_LAG  # valid from before the (lagging) chain time they are anchored at
    vetted = enterprise_identity(issuer=did["vetco"], subject=did["acme"], legal_name="Acme Health Inc.",
                                 jurisdiction="US-DE", vetting_level="full", vetting_date="2026-11-01",
                                 lei="5493001KJTIIGC8Y1R12", valid_from=since, valid_until=now + YEAR,
                                 brand_name="Acme Health", evidence=[_did_auth(home, chain, dep, wallets, did, now)])
    issue(wallets["vetco"], ledger, did["vetco"], vetted)
    # the call center signs the calls: the OSP's default policy vets the signer too (docs/attestation.md §2.1)
    issue(wallets["vetco"], ledger, did["vetco"], enterprise_identity(
        issuer=did["vetco"], subject=did["callcenter"], legal_name="Dial Right LLC", jurisdiction="US-NY",
        vetting_level="full", vetting_date="2026-11-01", registration_number="NY-4411", valid_from=since,
        valid_until=now + YEAR, evidence=[_did_auth(home, chain, dep, wallets, did, now, subject="callcenter")]))
    grant = issue(wallets["telone"], ledger, did["telone"], tn_right_to_use(
        issuer=did["telone"], subject=did["acme"], ranges=(TNRange(12025550100, 100),), may_originate=True,
        may_delegate=True, valid_from=since, valid_until=now + YEAR))
    delegation = issue(wallets["acme"], ledger, did["acme"], tn_delegation(
        issuer=did["acme"], subject=did["callcenter"], parent=grant["id"], ranges=(TNRange(12025550140, 10),),
        may_originate=True, may_delegate=False, valid_from=since, valid_until=now + YEAR))
    out("3. wallets and DIDs for everyone; Acme and its call center prove control of their DID keys (DID Auth) and"
        " Vet Co vets them (Acme's brand 'Acme Health'); Tel One grants Acme"
        " +1 202 555 0100-0199; Acme delegates 0140-0149 to its call center")

    follower = Follower(chain, Store(home / "index.sqlite"), dep)
    follower.sync()
    snapshot = LedgerSnapshot(home / "index.sqlite", network=dep.network, chain_id=dep.chain_id)
    Pipeline(snapshot.view, listeners=(snapshot.applied,)).attach(follower)  # from now on, steps are pushed
    snapshot.confirm(clock())  # the follower has just caught up with the (in-process) chain
    pki = generate_test_pki(spc="5678", out_dir=home / "pki", now=datetime.fromtimestamp(clock(), UTC))
    server = pki_server(home / "pki", port=0)
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-x5u").start()
    x5u = f"http://127.0.0.1:{server.server_address[1]}/sp-chain.pem"
    sp_key = P256Key.from_private_bytes(pki.sp_key.private_numbers().private_value.to_bytes(32, "big"))
    policy = parse_policy({"trunks": {"acme-trunk": {"customers": [did["acme"], did["callcenter"]]}}})
    log = AuditLog(home / "audit.sqlite")
    engine = AttestationEngine(policy=policy, signer=ShakenSigner(sp_key, x5u), mechanisms=[LedgerMechanism(snapshot)],
                               audit=log if audit else None, clock=clock, snapshot=snapshot)
    verifier = StiVerifier(roots=[pki.root_cert], fetcher=CertFetcher(allow_insecure=True, clock=clock), clock=clock)
    out(f"4. the OSP node syncs its ledger copy; its STI certificate (TNAuthList SPC 5678) is served at {x5u}")
    return Story(chain, ledger, wallets, did, grant, delegation, follower, snapshot, engine, log, verifier, x5u,
                 clock, server)


def _did_auth(home: Path, chain: EmbeddedChain, dep: Deployment, wallets: dict[str, Wallet], did: dict[str, str],
              now: int, *, subject: str = "acme") -> dict[str, Any]:
    """DID Auth before vetting (SPEC §8.1): Vet Co challenges the subject, which signs the challenge with its DID
    key; Vet Co checks the proof against its authentication key in its synced index and keeps it as evidence."""
    challenge = didauth.new_challenge(domain=did["vetco"], subject=did[subject], now=now)
    subject_key, kid = signer_for(wallets[subject], did[subject])
    proof = didauth.prove(subject_key, kid, challenge, now=now)
    store = Store(home / "index.sqlite")
    try:
        Follower(chain, store, dep).sync()
    finally:
        store.close()
    history = IndexHistory(home / "index.sqlite")
    try:
        resolver = Resolver(history, network=dep.network, chain_id=dep.chain_id)
        result = didauth.verify_proof(proof, challenge, key_at=didauth.authentication_key_at(resolver), now=now)
    finally:
        history.close()
    result.raise_for_failure()
    return didauth.evidence(challenge, proof, result)


def _run(out: Out, home: Path, *, keep: bool) -> list[DemoRow]:
    started = time.monotonic()
    story = build_story(home, out)
    engine, clock, tsp = story.engine, story.clock, story.verifier
    try:
        cc_signer, cc_kid = signer_for(story.wallets["callcenter"], story.did["callcenter"])
        rows: list[DemoRow] = []

        def call(step: str, identity: str | None, orig: str = CALLER) -> DemoRow:
            req = CallRequest.from_sip(trunk="acme-trunk", from_=f"<sip:+{orig}@pbx.acme.example>",
                                       to=f"<sip:+{CALLEE}@osp.example>", identities=(identity,) if identity else ())
            d = engine.attest(req)
            v = tsp.verify(d.identity, orig=orig, dest=[CALLEE], time=int(clock()))
            reason = ", ".join(r.code for r in d.reasons)
            row = DemoRow(step, "enterprise PASSporT" if identity else "none", d.attest, reason,
                          f"{v.verstat} ({v.attest})" if v.attest else v.verstat,
                          str(d.rcd.get("nam")) if d.rcd else "-", d.elapsed * 1e6)
            rows.append(row)
            return row

        def signed_call(orig: str = CALLER) -> str:
            return sign_call(cc_signer, kid=cc_kid, orig=orig, dest=[CALLEE], iat=int(clock()),
                             credential_id=story.delegation["id"], rcd={"nam": "Acme Health"})

        first = signed_call()
        call("call center signs with its DID key", first)
        call("the same call, no ledger evidence", None)
        call("the first PASSporT replayed", first)
        call("a number Acme did not delegate", signed_call("12025550150"), "12025550150")
        set_status(story.wallets["acme"], story.ledger, story.delegation["id"], "revoke")
        story.follower.sync()  # the pipeline publishes the revocation to the snapshot
        story.snapshot.confirm(clock())
        out("5. calls: the call center's dialer signs; the OSP attests; the terminating side verifies."
            " Then Acme revokes the delegation, and the OSP's node syncs")
        call("after Acme revoked the delegation", signed_call())
        story.audit.flush()
        out("")
        _table(out, rows)
        out("")
        where = (f"kept in {home} (audit log: audit.sqlite)" if keep
                 else "removed at exit; keep them with --keep DIR")
        out(f"every decision went to the audit log, keyed by the SHAKEN origid; the chain, wallets, index and "
            f"audit log are {where}. Done in {time.monotonic() - started:.1f} s")
        return rows
    finally:
        story.close()


def _table(out: Out, rows: list[DemoRow]) -> None:
    head = ("call", "evidence", "OSP attests", "why", "brand passed", "terminating STI-VS", "decision µs")
    cells = [head] + [(r.step, r.evidence, r.attest, r.reason, r.brand, r.verstat, f"{r.micros:.0f}") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    out(line)
    for c in cells[1:]:
        out("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
