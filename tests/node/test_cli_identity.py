"""`eidln wallet` and `eidln did` on the embedded chain: create, rotate, service, resolve, deactivate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.node.test_cli import Cli
from wallet import Wallet

pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path / "home")
    assert c("network", "init", "--name", "testnet") == 0
    assert c("account", "new", "tel") == 0
    assert c("member", "propose", "admit", "--as", "governor1", "--account", "tel", "--roles", "TNSP",
             "--spc", "1234") == 0
    return c


def test_did_lifecycle(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("wallet", "init") == 0
    account = cli.lines[1].split()[-1]
    assert cli("did", "create") == 1  # the wallet's account is not onboarded yet: refused, nothing written
    assert "did.unknown_account" in capsys.readouterr().err
    assert cli("did", "show") == 0 and "did:eidln" not in cli.text
    wallet = Wallet.open(Path(cli.env["EIDLN_HOME"]) / "wallet.json", cli.env["EIDLN_PASSPHRASE"])
    assert [k.name for k in wallet.keys()] == ["ledger"]  # the refused create left no key behind
    assert cli("member", "onboard", "--as", "tel", "--account", account) == 0
    assert cli("did", "create") == 0
    did = cli.lines[-1]
    assert did.startswith("did:eidln:testnet:")
    assert cli("did", "add-service", did, "--id", "brand", "--type", "BrandService",
               "--endpoint", "https://acme.example/rcd") == 0
    assert cli("did", "rotate", did) == 0 and f"{did}#key-2" in cli.text
    assert cli("did", "resolve", did) == 0
    result = json.loads(cli.text)
    doc = result["didDocument"]
    assert [vm["id"] for vm in doc["verificationMethod"]] == [f"{did}#key-2"]
    assert doc["service"][0]["serviceEndpoint"] == "https://acme.example/rcd"
    first = result["didDocumentMetadata"]["created"]
    assert cli("did", "resolve", did, "--at", first) == 0
    assert json.loads(cli.text)["didDocument"]["verificationMethod"][0]["id"] == f"{did}#key-1"
    assert cli("did", "rotate", did, "--key", "key-9") == 1
    assert "wallet.no_such_key" in capsys.readouterr().err
    assert cli("did", "deactivate", did) == 0
    assert cli("did", "resolve", did) == 1
    assert "error: deactivated:" in capsys.readouterr().err
    assert cli("did", "resolve", "did:eidln:testnet:nope") == 1
    assert "invalidDid" in capsys.readouterr().err


def test_wallet_errors(cli: Cli, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("did", "show") == 1
    assert "wallet.not_found" in capsys.readouterr().err
    assert cli("wallet", "init") == 0
    assert cli("wallet", "init") == 1
    assert "wallet.exists" in capsys.readouterr().err
    assert cli("did", "show", env={"EIDLN_WALLET_PASSPHRASE": "not the right one"}) == 1
    assert "wallet.wrong_passphrase" in capsys.readouterr().err
    backup = tmp_path / "backup.json"
    assert cli("wallet", "export", str(backup), env={"EIDLN_BACKUP_PASSPHRASE": "another long passphrase"}) == 0
    other = Cli(tmp_path / "restored")
    assert other("wallet", "import", str(backup), env={"EIDLN_BACKUP_PASSPHRASE": "another long passphrase"}) == 0
    assert other("did", "show") == 0


@pytest.mark.slow
def test_node_serve(cli: Cli) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    assert cli("wallet", "init") == 0
    assert cli("member", "onboard", "--as", "tel", "--account", cli.lines[1].split()[-1]) == 0
    assert cli("did", "create") == 0
    did = cli.lines[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, **cli.env, "EIDLN_API_PORT": str(port)}
    with subprocess.Popen([sys.executable, "-m", "node.cli", "node", "serve"], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    r = httpx.get(f"http://127.0.0.1:{port}/1.0/identifiers/{did}",
                                  headers={"accept": "application/did-resolution"})
                    break
                except httpx.TransportError:
                    assert proc.poll() is None and time.monotonic() < deadline, "node serve did not come up"
                    time.sleep(0.1)
            assert r.status_code == 200 and r.json()["didDocument"]["id"] == did
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)


def test_call_sign_cert_signs_with_a_p256_did_key(cli: Cli) -> None:
    """`eidln call sign-cert`: a base, rcd or shaken PASSporT signed with the DID's P-256 key, for a certificate at
    --x5u; it parses as a certificate-signed token and verifies with that key."""
    from did_method.ident import KeyType
    from wallet.dids import signer_for
    from wallet.passport import parse_cert_call, verify_signature

    assert cli("wallet", "init") == 0
    assert cli("member", "onboard", "--as", "tel", "--account", cli.lines[1].split()[-1]) == 0
    assert cli("did", "create", "--key-type", "p256") == 0
    did = cli.lines[-1]
    wallet = Wallet.open(Path(cli.env["EIDLN_HOME"]) / "wallet.json", cli.env["EIDLN_PASSPHRASE"])
    public = signer_for(wallet, did)[0].public_key
    x5u = "https://sca.example/certs/01.pem"
    for ppt, extra in (("base", ()), ("rcd", ("--display-name", "Acme")), ("shaken", ("--attest", "A"))):
        assert cli("call", "sign-cert", "--did", did, "--x5u", x5u, "--ppt", ppt, "--from", "+1 202 555 0142",
                   "--to", "+12025550100", *extra) == 0
        token = parse_cert_call(cli.lines[-1])
        assert (token.kind, token.x5u, token.orig, token.dest) == (ppt, x5u, "12025550142", ("12025550100",))
        assert verify_signature(token.parsed, KeyType.P256, public)
    assert token.attest == "A" and token.origid
