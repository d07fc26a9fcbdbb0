"""The OSP as a user runs it: set up by the CLI, `eidln pki` for the STI certificate, the key imported into the
encrypted wallet, then `eidln node serve` (a real process) answering /v1/attest, the ATIS-1000082 routes,
/v1/audit and /metrics from its settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.node.test_cli import Cli
from tests.node.test_cli_tn import Party


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.slow
def test_osp_node_serves_attestation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = Cli(home)
    assert cli("network", "init") == 0
    osp, vetter, ent = (Party(cli, n, tmp_path) for n in ("osp", "vetter", "ent"))
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", osp.address, "--roles", "TNSP,OSP",
               "--spc", "1234", "--name", "Tel One") == 0
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", vetter.address, "--roles", "VETTER",
               "--name", "Vet Co") == 0
    assert cli("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+12025550000",
               "--count", "1000", "--holder", osp.address) == 0
    assert osp("member", "onboard", "--as", "@wallet", "--account", ent.address) == 0
    for p in (osp, vetter, ent):
        p.create_did()
    assert vetter.vet(ent, "--legal-name", "Acme Corp", "--jurisdiction", "US-DE", "--lei", "5493001KJTIIGC8Y1R12",
                      "--brand-name", "Acme") == 0
    assert osp("tn", "grant", "--subject", ent.did, "--start", "+12025550100", "--count", "100") == 0
    grant = cli.lines[-1]

    pki = tmp_path / "pki"
    assert cli("pki", "init", "--spc", "1234", "--out", str(pki)) == 0
    assert osp("pki", "import-key", "--pem", str(pki / "sp-key.pem"), "--name", "sti") == 0
    assert osp("pki", "import-key", "--pem", str(pki / "sp-key.pem"), "--name", "sti") == 1  # no silent replace
    assert ent("call", "sign", ent.did, "--credential", grant, "--from", "+1 202 555 0150", "--to",
               "+13105550000", "--display-name", "Acme") == 0
    identity = cli.lines[-1]
    (tmp_path / "policy.toml").write_text(f'[trunks.acme]\ncustomers = ["{ent.did}"]\n')

    pki_port, api_port = _port(), _port()
    x5u = f"http://127.0.0.1:{pki_port}/sp-chain.pem"
    env = dict(os.environ, **cli.env, EIDLN_WALLET=osp.env["EIDLN_WALLET"], EIDLN_API_PORT=str(api_port),
               EIDLN_POLICY=str(tmp_path / "policy.toml"), EIDLN_STI_KEY="sti", EIDLN_STI_X5U=x5u,
               EIDLN_TRUST_ROOTS=str(pki / "root.pem"), EIDLN_X5U_INSECURE="1", EIDLN_SYNC_INTERVAL="0.2")
    eidln = [sys.executable, "-m", "node.cli"]
    procs = [subprocess.Popen([*eidln, "pki", "serve", "--dir", str(pki), "--port", str(pki_port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE),
             subprocess.Popen([*eidln, "node", "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)]
    try:
        base = f"http://127.0.0.1:{api_port}"
        _wait(x5u, procs[0])
        _wait(base + "/metrics", procs[1])
        with httpx.Client(base_url=base, timeout=10) as c:
            call = {"trunk": "acme", "headers": {"From": "<sip:+12025550150@pbx.acme.example>",
                                                 "To": "<sip:+13105550000@osp.example>", "Identity": identity}}
            d = c.post("/v1/attest", json=call).json()
            assert d["attest"] == "A" and d["rcd"] == {"nam": "Acme"}, d
            assert d["evidence"]["enterprise"] == ent.did and d["evidence"]["credential"] == grant
            v = c.post("/stir/v1/verification", json={"verificationRequest": {
                "from": {"tn": "12025550150"}, "to": {"tn": ["13105550000"]}, "time": int(time.time()),
                "identity": d["identity"]}}).json()["verificationResponse"]
            assert v["verstat"] == "TN-Validation-Passed" and v["attest"] == "A", v
            assert c.get(f"/v1/audit/{d['origid']}").json()["attest"] == "A"
            call["trunk"] = "unknown-trunk"
            assert c.post("/v1/attest", json=call).json()["attest"] == "C"
            s = c.post("/stir/v1/signing", json={"signingRequest": {
                "attest": "B", "dest": {"tn": ["13105550000"]}, "iat": int(time.time()),
                "orig": {"tn": "12025550150"}, "origid": "de305d54-75b4-431b-adb2-eb6b9e546014"}})
            assert s.status_code == 200 and s.json()["signingResponse"]["identity"].endswith(
                f";info=<{x5u}>;alg=ES256;ppt=shaken")
            assert 'eidln_attest_decisions_total{attest="A",reason="ledger.verified"} 1.0' in c.get("/metrics").text
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
            for stream in (p.stdout, p.stderr):
                if stream is not None:
                    stream.close()
