"""The eidln command line on the embedded chain: a whole governance story, errors, durability, locking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from node.cli import main
from node.runtime import open_backend
from node.settings import Settings

pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


class Cli:
    def __init__(self, home: Path) -> None:
        self.env = {"EIDLN_HOME": str(home), "EIDLN_PASSPHRASE": "correct horse battery staple"}
        self.lines: list[str] = []

    def __call__(self, *argv: str, env: dict[str, str] | None = None) -> int:
        self.lines = []
        return main(list(argv), env={**self.env, **(env or {})}, out=self.lines.append)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path / "home")
    assert c("network", "init", "--governors", "2", "--threshold", "2") == 0
    assert "network ready" in c.text
    return c


def test_governance_story(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("account", "new", "tel1") == 0
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", "tel1", "--roles", "TNSP,OSP",
               "--spc", "1234", "--name", "Tel One") == 0
    assert "proposal 1: 1 vote(s), open" in cli.text
    assert cli("member", "proposals", "--open") == 0 and "Members.admit(" in cli.text
    assert cli("member", "vote", "1", "--as", "governor2") == 0 and "executed" in cli.text
    assert cli("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+1 202 555 0000",
               "--count", "10000", "--holder", "tel1") == 0
    assert cli("member", "vote", "2", "--as", "governor2") == 0
    assert cli("account", "new", "acme") == 0
    assert cli("member", "onboard", "--as", "tel1", "--account", "acme") == 0
    # every command re-opened the chain file: the embedded chain is durable across restarts
    assert cli("member", "list") == 0
    assert "TNSP,OSP" in cli.text and "Tel One" in cli.text and "enterprise" in cli.text
    assert cli("node", "status", "--max-lag", "0") == 0 and "lag        0" in cli.text
    # refusals: one line, a code, exit 1, nothing written
    capsys.readouterr()
    assert cli("member", "vote", "2", "--as", "governor2") == 1
    assert capsys.readouterr().err == "error: members.proposal_not_open: the ledger refused the operation: " \
                                      "members: proposal not open\n"
    assert cli("member", "propose", "admit", "--as", "tel1", "--account", "acme", "--roles", "VETTER") == 1
    assert "members.not_governor" in capsys.readouterr().err
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", "acme", "--roles", "PIRATE") == 1
    assert "members.bad_roles" in capsys.readouterr().err
    assert cli("member", "propose", "port", "--as", "governor1", "--start", "12x", "--to", "tel1") == 1
    assert "numbers.bad_number" in capsys.readouterr().err
    assert cli("member", "vote", "1", "--as", "nobody") == 1
    assert "keystore.not_found" in capsys.readouterr().err
    assert cli("member", "vote", "1", "--as", "governor2", env={"EIDLN_PASSPHRASE": "wrong"}) == 1
    assert "keystore.wrong_passphrase" in capsys.readouterr().err
    assert cli("member", "proposals") == 0 and cli.text.count("executed") == 2


def test_init_twice_and_bad_settings(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("network", "init") == 1
    assert "config.network_exists" in capsys.readouterr().err
    assert cli("node", "status", env={"EIDLN_CONFIRMATIONS": "-1"}) == 1
    assert "EIDLN_CONFIRMATIONS must be at least 0" in capsys.readouterr().err
    assert cli("node", "status", env={"EIDLN_CHAIN": "ftp://x"}) == 1
    assert "config.invalid" in capsys.readouterr().err


def test_no_network_and_wrong_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = Cli(tmp_path / "empty")
    assert c("node", "status") == 1
    assert "config.no_network" in capsys.readouterr().err
    c2 = Cli(tmp_path / "h2")
    assert c2("network", "init") == 0
    assert c2("node", "status", env={"EIDLN_CHAIN_ID": "5"}) == 1
    assert "chain.id_mismatch" in capsys.readouterr().err


def test_embedded_chain_is_single_process(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.from_env(cli.env)
    with open_backend(settings):
        assert cli("node", "status") == 1
    err = capsys.readouterr().err
    assert err.startswith("error: chain.busy: the embedded chain") and err.count("\n") == 1
    assert cli("node", "status") == 0


@pytest.mark.slow
def test_subprocess_exit_codes(cli: Cli) -> None:
    env = {**cli.env, "PATH": "/usr/bin:/bin"}
    bad = subprocess.run([sys.executable, "-m", "node.cli", "member", "vote", "99", "--as", "governor1"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == ["error: members.proposal_not_open: the ledger refused the "
                                               "operation: members: proposal not open"]
    usage = subprocess.run([sys.executable, "-m", "node.cli", "member", "frobnicate"], env=env,
                           capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


def test_external_governors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from eth_account import Account

    outside = Account.create()
    c = Cli(tmp_path / "ext")
    assert c("network", "init", "--governors", "1", "--governor-address", outside.address, "--threshold", "2") == 0
    assert f"governor (external key): {outside.address}" in c.text and "2 governor(s)" in c.text
    c2 = Cli(tmp_path / "bad")
    assert c2("network", "init", "--governor-address", "0x1234") == 1
    assert "cli.bad_account" in capsys.readouterr().err
    assert c2("network", "init", "--governors", "1", "--threshold", "2") == 1
    assert "members.bad_threshold" in capsys.readouterr().err


def test_unreachable_chain_is_one_clear_line(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("node", "status", env={"EIDLN_CHAIN": "http://127.0.0.1:9"}) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: chain.unavailable: cannot reach the chain at http://127.0.0.1:9")
    assert err.count("\n") == 1
