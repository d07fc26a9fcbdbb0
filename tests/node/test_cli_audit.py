"""``eidln audit bundle`` / ``eidln audit verify``: a node's decision exported from its home, verified offline.

The fast test uses the attestation world's files as the node's home (its index, its audit log, its network file)
and a wallet holding the STI key of a test PKI; the slow one builds the whole network through the CLI on the embedded
chain, decides a call with the services ``eidln node serve`` builds from the same settings, then exports and verifies.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from did_method import KeyType
from node.attest import AttestationEngine, CallRequest, LedgerMechanism, parse_policy
from node.ledger.deployment import Deployment
from node.osp import build_services
from node.settings import Settings
from node.shaken.pki import generate_test_pki
from node.shaken.sign import ShakenSigner
from node.sync.indexview import IndexView
from tests.node.attest.world import POLICY, World, build
from tests.node.test_cli import Cli
from tests.node.test_cli_tn import LEI, Party, wait_for_chain_clock
from wallet import Wallet
from wallet.keys import P256Key

X5U = "https://osp.test/sp-chain.pem"
PASSPHRASE = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_bundle_and_verify_from_a_node_home(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    w: World = build(tmp_path)
    pki = generate_test_pki(spc="1234", out_dir=tmp_path / "pki", now=datetime.fromtimestamp(w.now, UTC))
    assert w.snapshot is not None and w.audit is not None
    engine = AttestationEngine(policy=parse_policy(POLICY), signer=ShakenSigner(P256Key(pki.sp_key), X5U),
                               mechanisms=[LedgerMechanism(w.snapshot)], audit=w.audit, clock=lambda: w.clock[0],
                               snapshot=w.snapshot)
    d = engine.attest(CallRequest("cc-trunk", "12025550142", ("13105550000",), (w.call("cc", "cc"),)))
    assert d.attest == "A"
    w.audit.flush()
    w.net.ledger.deployment.save(tmp_path / "network.json")  # the world's files are this node's home
    wallet = Wallet.create(tmp_path / "wallet.json", PASSPHRASE, fast=True)
    wallet.import_key("sti", KeyType.P256, P256Key(pki.sp_key).private_bytes)
    wallet.save()
    (tmp_path / "sp-chain.pem").write_bytes(pki.pems["sp.pem"] + pki.pems["ca.pem"])
    cli = Cli(tmp_path)
    env = {"EIDLN_STI_KEY": "sti", "EIDLN_STI_X5U": X5U, "EIDLN_STI_CHAIN": str(tmp_path / "sp-chain.pem")}
    out = tmp_path / "out" / "bundle.json"
    (tmp_path / "out").mkdir()

    assert cli("audit", "bundle", d.origid, "--out", str(out), env=env) == 0, capsys.readouterr().err
    assert cli.lines[0] == f"{out}: origid {d.origid}, attest A, 2 chain and 2 vetting credential(s), " \
                           f"5 DID document(s)"
    assert [p.name for p in out.parent.iterdir()] == ["bundle.json"]  # no temporary file left behind
    roots = str(tmp_path / "pki" / "root.pem")
    assert cli("audit", "verify", str(out), "--trust-roots", roots) == 0
    assert cli.lines[1].split() == ["ok", "bundle.signature", "signed", "by", "CN=SHAKEN", "1234,C=US"]
    assert all(line.split()[0] == "ok" for line in cli.lines[:-1]) and len(cli.lines) > 15
    assert cli.lines[-1] == f"bundle of origid {d.origid} (attest A) verified: {len(cli.lines) - 1} checks"
    assert cli("audit", "verify", str(out)) == 0 and cli.lines[2].startswith("skipped  bundle.certificate")

    raw = out.read_bytes()  # one byte changed: the attest of the decision
    pos = raw.index(b'"attest": "A"') + len(b'"attest": "')
    bad = tmp_path / "bad.json"
    bad.write_bytes(raw[:pos] + b"B" + raw[pos + 1:])
    capsys.readouterr()
    assert cli("audit", "verify", str(bad)) == 1
    assert "FAILED   bundle.signature" in cli.text and "FAILED   bundle.shaken_claims" in cli.text
    assert _one_line(capsys.readouterr().err) == ("error: audit.bundle_invalid: bundle.signature: the OSP's signature "
                                                  "does not verify over the content\n")
    other = generate_test_pki(spc="5678", out_dir=tmp_path / "other", now=datetime.fromtimestamp(w.now, UTC))
    assert other.root_cert != pki.root_cert
    assert cli("audit", "verify", str(out), "--trust-roots", str(tmp_path / "other" / "root.pem")) == 1
    assert _one_line(capsys.readouterr().err).startswith("error: audit.bundle_invalid: bundle.certificate: ")

    # refusals: an unknown origid; a chain whose leaf is not the STI key; no STI key
    assert cli("audit", "bundle", "no-such-origid", "--out", str(out), env=env) == 1
    assert _one_line(capsys.readouterr().err).startswith("error: audit.not_found: no decision with origid")
    assert cli("audit", "bundle", d.origid, "--out", str(out),
               env={**env, "EIDLN_STI_CHAIN": str(tmp_path / "other" / "sp.pem")}) == 1
    assert "does not certify the STI key" in _one_line(capsys.readouterr().err)
    assert cli("audit", "bundle", d.origid, "--out", str(out)) == 1
    assert _one_line(capsys.readouterr().err).startswith("error: config.invalid: a bundle is signed with the OSP's")
    assert out.read_bytes() == raw  # nothing refused touched the file


@pytest.mark.slow
def test_audit_story_on_the_embedded_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Network, parties, vetting (DID Auth), a grant and a delegation, all through the CLI; the call is decided by
    the services ``node serve`` builds from the settings; ``audit bundle`` and ``audit verify`` close the story."""
    cli = Cli(tmp_path / "home")
    assert cli("network", "init") == 0
    osp, vetter, ent, cc = (Party(cli, n, tmp_path) for n in ("osp", "vetter", "ent", "cc"))
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", osp.address, "--roles", "TNSP,OSP",
               "--spc", "1234", "--name", "Tel One") == 0
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", vetter.address, "--roles", "VETTER",
               "--name", "Vet Co") == 0
    assert cli("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+12025550000",
               "--count", "1000", "--holder", osp.address) == 0
    for p in (ent, cc):
        assert osp("member", "onboard", "--as", "@wallet", "--account", p.address) == 0
    for p in (osp, vetter, ent, cc):
        p.create_did()
    assert vetter.vet(ent, *LEI, "--brand-name", "Acme") == 0
    assert vetter.vet(cc, "--legal-name", "Call Co", "--jurisdiction", "US-NY", "--lei", "5493001KJTIIGC8Y1R12") == 0
    assert osp("tn", "grant", "--subject", ent.did, "--start", "+12025550100", "--count", "100") == 0
    grant = cli.lines[-1]
    assert ent("tn", "delegate", "--parent", grant, "--subject", cc.did, "--start", "+12025550140",
               "--count", "10") == 0
    delegation = cli.lines[-1]
    pki = tmp_path / "pki"
    assert cli("pki", "init", "--spc", "1234", "--out", str(pki)) == 0
    assert osp("pki", "import-key", "--pem", str(pki / "sp-key.pem"), "--name", "sti") == 0
    (tmp_path / "chain.pem").write_bytes((pki / "sp.pem").read_bytes() + (pki / "ca.pem").read_bytes())
    (tmp_path / "policy.toml").write_text(f'[trunks.acme]\ncustomers = ["{ent.did}"]\n')
    assert cli("node", "run", "--once") == 0
    wait_for_chain_clock(cli)
    assert cc("call", "sign", cc.did, "--credential", delegation, "--from", "+12025550142", "--to",
              "+13105550000", "--display-name", "Acme") == 0
    identity = cli.lines[-1]

    env = {**cli.env, **osp.env, "EIDLN_POLICY": str(tmp_path / "policy.toml"), "EIDLN_STI_KEY": "sti",
           "EIDLN_STI_X5U": X5U, "EIDLN_STI_CHAIN": str(tmp_path / "chain.pem")}
    s = Settings.from_env(env)
    deployment = Deployment.load(s.network_file)
    view = IndexView(s.index_file, network=deployment.network)
    services = build_services(s, network=deployment.network, chain_id=deployment.chain_id,
                              wallet=lambda: Wallet.open(s.wallet_file, PASSPHRASE), view=view)
    try:
        assert services.engine is not None and services.snapshot is not None and len(services.sti_chain) == 2
        services.snapshot.refresh(confirmed_at=time.time())  # as the sync service does after a cycle at the head
        d = services.engine.attest(CallRequest.from_sip(trunk="acme", from_="<sip:+12025550142@pbx.example>",
                                                        to="<sip:+13105550000@osp.example>", identities=(identity,)))
        assert d.attest == "A" and d.rcd == {"nam": "Acme"}, d.reasons  # the vetted brand rides in the SHAKEN token
    finally:
        services.close()
        view.db.close()
    out = tmp_path / "bundle.json"
    assert cli("audit", "bundle", d.origid, "--out", str(out), env=env) == 0, capsys.readouterr().err
    assert cli("audit", "verify", str(out), "--trust-roots", str(pki / "root.pem")) == 0, cli.text
    content: dict[str, Any] = json.loads(out.read_bytes())["content"]
    assert [e["credential"]["id"] for e in content["chain"]] == [delegation, grant]
    assert content["decision"]["evidence"]["brandName"] == "Acme"
    assert content["decision"]["rcd"] == {"rcd": {"nam": "Acme"}}
    assert any(line.startswith("ok       bundle.shaken_claims") for line in cli.lines)
