"""The TN story through the command line: vetting, a grant, a delegation, chains, revocation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.node.test_cli import Cli


class Party:
    """One participant's wallet on the shared home (same chain and index, own wallet file)."""

    def __init__(self, cli: Cli, name: str, home: Path) -> None:
        self.cli, self.env = cli, {"EIDLN_WALLET": str(home / f"{name}.wallet")}
        assert self("wallet", "init") == 0
        self.address = cli.lines[1].split()[-1]
        self.did = ""

    def __call__(self, *argv: str) -> int:
        return self.cli(*argv, env=self.env)

    def create_did(self) -> None:
        assert self("did", "create") == 0
        self.did = self.cli.lines[-1]


@pytest.mark.slow
def test_tn_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(tmp_path / "home")
    assert cli("network", "init") == 0
    tnsp, vetter, ent, cc = (Party(cli, n, tmp_path) for n in ("tnsp", "vetter", "ent", "cc"))
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", tnsp.address, "--roles", "TNSP",
               "--spc", "1234", "--name", "Tel One") == 0
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", vetter.address, "--roles", "VETTER",
               "--name", "Vet Co") == 0
    assert cli("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+12025550000",
               "--count", "1000", "--holder", tnsp.address) == 0
    for p in (ent, cc):
        assert tnsp("member", "onboard", "--as", "@wallet", "--account", p.address) == 0
    for p in (tnsp, vetter, ent, cc):
        p.create_did()

    assert vetter("vet", "--subject", ent.did, "--legal-name", "Acme Corp", "--jurisdiction", "US-DE",
                  "--lei", "5493001KJTIIGC8Y1R12") == 0
    assert tnsp("tn", "grant", "--subject", ent.did, "--start", "+12025550100", "--count", "100") == 0
    grant = cli.lines[-1]
    assert ent("tn", "delegate", "--parent", grant, "--subject", cc.did, "--start", "+12025550140",
               "--count", "10") == 0
    delegation = cli.lines[-1]

    assert cli("tn", "chain", "+1 202 555 0143") == 0
    text = cli.text
    assert f"{cc.did} [may originate] via {delegation}" in text and f"{ent.did} [may originate] via {grant}" in text
    assert cli("tn", "list", "--holder", cc.did) == 0 and delegation in cli.text
    assert cli("tn", "list") == 0 and "ENTERPRISE_IDENTITY" in cli.text and "rejected" not in cli.text

    # refusals: numbers the TNSP does not hold; a delegation wider than its parent; a stranger revoking
    assert tnsp("tn", "grant", "--subject", ent.did, "--start", "+12025560000") == 1
    assert "credentials.numbers_not_held" in capsys.readouterr().err
    assert ent("tn", "delegate", "--parent", grant, "--subject", cc.did, "--start", "+12025550190",
               "--count", "20") == 1
    assert "credentials.not_a_subset" in capsys.readouterr().err
    assert cc("tn", "revoke", delegation) == 1
    assert "credentials.not_issuer" in capsys.readouterr().err

    assert ent("tn", "revoke", delegation) == 0
    assert cli("tn", "chain", "+12025550143") == 0
    assert cc.did not in cli.text and ent.did in cli.text
    assert tnsp("tn", "suspend", grant) == 0
    assert cli("tn", "chain", "+12025550143") == 1 and "no live chain" in cli.text
    assert tnsp("tn", "reinstate", grant) == 0
    assert cli("tn", "chain", "+12025550143") == 0
