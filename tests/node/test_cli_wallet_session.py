"""`eidln wallet unlock | lock` and the commands that open the wallet through EIDLN_WALLET_SESSION (embedded chain)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node.settings import Settings
from tests.node.test_cli import Cli
from wallet import Wallet

PASS = "correct horse battery staple"
pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A network whose TNSP onboarded the wallet's account, so that the wallet may create DIDs."""
    c = Cli(tmp_path / "home")
    assert c("network", "init") == 0
    assert c("account", "new", "tel") == 0
    assert c("member", "propose", "admit", "--as", "governor1", "--account", "tel", "--roles", "TNSP",
             "--spc", "1234") == 0
    assert c("wallet", "init") == 0
    assert c("member", "onboard", "--as", "tel", "--account", c.lines[1].split()[-1]) == 0
    return c


def unlock(cli: Cli, *extra: str) -> dict[str, str]:
    """The environment after ``eval "$(eidln wallet unlock)"``, without any passphrase."""
    assert cli("wallet", "unlock", *extra) == 0
    comment, export = cli.lines
    assert comment.startswith("# ") and "unlocked until" in comment and "eidln wallet lock" in comment
    name, token = export.removeprefix("export ").split("=", 1)
    assert name == "EIDLN_WALLET_SESSION" and token.startswith("eidln-ws1.")
    return {"EIDLN_PASSPHRASE": "", "EIDLN_WALLET_SESSION": token}


def _header(cli: Cli) -> dict[str, object]:
    header: dict[str, object] = json.loads((Path(cli.env["EIDLN_HOME"]) / "wallet.json").read_bytes())["header"]
    return header


def test_commands_run_in_a_session_without_the_passphrase(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    session = unlock(cli, "--ttl", "600")
    before = _header(cli)
    assert cli("did", "create", env=session) == 0
    did = cli.lines[-1]
    assert cli("did", "add-key", did, env=session) == 0  # two more saves, each without Argon2id
    after = _header(cli)
    assert {k: v for k, v in after.items() if k != "nonce"} == {k: v for k, v in before.items() if k != "nonce"}
    assert cli("did", "show", env=session) == 0 and did in cli.text
    assert cli("call", "sign", did, "--credential", "urn:uuid:x", "--from", "+12025550142", "--to", "+12025550199",
               env=session) == 0
    assert cli.lines[0].count(".") >= 2 and ";ppt=eidln" in cli.lines[0]
    assert cli("member", "onboard", "--as", "@wallet", "--account", "0x" + "11" * 20, env=session) == 1
    assert "members.not_endorser" in capsys.readouterr().err  # signed by the wallet account the session opened
    assert capsys.readouterr().err == ""
    # the file at rest is what it was: the passphrase opens it, with the session's changes
    assert did in Wallet.open(Path(cli.env["EIDLN_HOME"]) / "wallet.json", PASS).metadata["dids"]


def test_lock_ends_the_session(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    session = unlock(cli)
    other = unlock(cli)
    assert cli("wallet", "lock", env=session) == 0
    assert cli.lines == [f"# 2 session(s) of {Path(cli.env['EIDLN_HOME']) / 'wallet.json'} ended",
                         "unset EIDLN_WALLET_SESSION"]
    for env in (session, other):
        assert cli("did", "show", env=env) == 1
        err = capsys.readouterr().err
        assert err.startswith("error: wallet.session_expired: ") and err.count("\n") == 1
        assert env["EIDLN_WALLET_SESSION"] not in err
    assert list((Path(cli.env["EIDLN_HOME"]) / "sessions").iterdir()) == []


def test_a_bad_session_gives_way_to_the_passphrase(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    session = unlock(cli)
    token = session["EIDLN_WALLET_SESSION"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert cli("did", "show", env={"EIDLN_WALLET_SESSION": forged}) == 0  # the passphrase is set: it opens
    err = capsys.readouterr().err
    assert err.startswith("warning: wallet.session_invalid: ") and "with the passphrase" in err and forged not in err
    assert cli("did", "show", env={**session, "EIDLN_WALLET_SESSION": forged}) == 1  # no passphrase: refused
    assert capsys.readouterr().err.startswith("error: wallet.session_invalid: ")
    assert cli("did", "create") == 0  # a save with the passphrase draws a fresh salt ...
    assert cli("did", "show", env=session) == 1  # ... after which the session is stale
    assert capsys.readouterr().err.startswith("error: wallet.session_stale: ")


def test_unlock_refuses_a_wrong_passphrase(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("wallet", "unlock", env={"EIDLN_WALLET_PASSPHRASE": "not the passphrase at all"}) == 1
    assert capsys.readouterr().err.startswith("error: wallet.wrong_passphrase: ")
    assert cli.lines == []
    sessions = Path(cli.env["EIDLN_HOME"]) / "sessions"
    assert not sessions.exists() or list(sessions.iterdir()) == []


def test_where_sessions_live(tmp_path: Path) -> None:
    assert Settings.from_env({"EIDLN_HOME": str(tmp_path)}).sessions_dir == tmp_path / "sessions"
    assert Settings.from_env({"XDG_RUNTIME_DIR": "/run/user/1000"}).sessions_dir == Path("/run/user/1000/eidln")
    assert Settings.from_env({"XDG_RUNTIME_DIR": "/run/user/1000", "EIDLN_SESSION_DIR": str(tmp_path)}) \
        .sessions_dir == tmp_path
    s = Settings.from_env({"EIDLN_WALLET_SESSION": "eidln-ws1.secret-token"})
    assert "secret-token" not in repr(s) and "wallet_session=set" in repr(s)


def test_unlock_prints_only_what_eval_may_run(tmp_path: Path) -> None:
    """A line break in the wallet's path stays inside the comment line."""
    c = Cli(tmp_path / "home")
    wallet = str(tmp_path / "odd\nrm -rf nothing.wallet")
    assert c("wallet", "init", env={"EIDLN_WALLET": wallet}) == 0
    assert c("wallet", "unlock", env={"EIDLN_WALLET": wallet}) == 0
    assert len(c.lines) == 2 and c.text.count("\n") == 1  # two lines, whatever the path holds
    assert c.lines[0].startswith("# ") and "odd\\nrm -rf" in c.lines[0]
    assert c.lines[1].startswith("export EIDLN_WALLET_SESSION=eidln-ws1.")
