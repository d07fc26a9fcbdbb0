"""A command line that answers at once (issue 11): what each kind of command imports, in a fresh interpreter.

Building the parser loads none of the chain stack (py-evm: ``eth``; eth_account and the BLS code of py_ecc it pulls
in), the Data Integrity, SHAKEN or HTTP code. Commands that need no chain (``did show``, ``call sign``) never load it;
commands that only read the ledger (``node status``, ``tn list``) load py-evm but no account code; and whatever a
command imported, it ends with CPython's default recursion limit (py-evm and py_ecc raise it on import). Wall times
are measured by ``python -m benchmarks.cli``, not asserted here: the machine is shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.node.test_cli import Cli

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ("eth", "eth_account", "eth_keyfile", "eth_keys", "eth_abi", "eth_utils", "py_ecc", "web3", "node.chain",
         "node.ledger", "node.keystore", "node.sync")
ACCOUNTS = ("eth_account", "eth_keyfile", "node.keystore")
OTHER = ("pyld", "wallet.dataintegrity", "node.shaken", "node.attest", "node.api", "fastapi", "uvicorn", "httpx",
         "http.server", "wallet.didauth")
CHILD = """
import json, os, sys
from node.cli import main
argv = json.loads(os.environ["ARGV"])
rc = main(argv, out=lambda _line: None) if argv is not None else None
print(json.dumps({"rc": rc, "limit": sys.getrecursionlimit(), "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class Home:
    env: dict[str, str]
    did: str
    session: str


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    cli = Cli(tmp_path_factory.mktemp("startup") / "home")
    assert cli("network", "init") == 0
    assert cli("account", "new", "tel") == 0
    assert cli("member", "propose", "admit", "--as", "governor1", "--account", "tel", "--roles", "TNSP",
               "--spc", "1234") == 0
    assert cli("wallet", "init") == 0
    assert cli("member", "onboard", "--as", "tel", "--account", cli.lines[1].split()[-1]) == 0
    assert cli("did", "create") == 0
    did = cli.lines[-1]
    assert cli("wallet", "unlock") == 0
    return Home(cli.env, did, cli.lines[-1].split("=", 1)[1])


def child(argv: list[str] | None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``main(argv)`` (or only ``import node.cli``) in a fresh interpreter; what it loaded."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("EIDLN_") and k != "XDG_RUNTIME_DIR"}
    done = subprocess.run([sys.executable, "-c", CHILD], env={**base, **(env or {}), "ARGV": json.dumps(argv)},
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def loaded(result: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if any(m == n or m.startswith(n + ".") for m in result["modules"])]


@pytest.mark.slow
@pytest.mark.parametrize("argv", [None, ["--help"], ["did", "--help"], ["tn", "grant", "--help"]],
                         ids=["import", "--help", "did --help", "tn grant --help"])
def test_the_parser_loads_nothing_heavy(argv: list[str] | None) -> None:
    result = child(argv)
    assert result["rc"] in (None, 0)
    assert loaded(result, CHAIN + OTHER + ("wallet.keystore", "wallet.passport", "nacl")) == []


@pytest.mark.slow
def test_commands_without_a_chain_do_not_load_it(home: Home) -> None:
    session = {**home.env, "EIDLN_PASSPHRASE": "", "EIDLN_WALLET_SESSION": home.session}
    sign = ["call", "sign", home.did, "--credential", "urn:uuid:x", "--from", "+12025550142", "--to", "+12025550199"]
    for argv, env in ((["did", "show"], home.env), (["did", "show"], session), (sign, session), (sign, home.env)):
        result = child(argv, env)
        assert result["rc"] == 0, argv
        assert loaded(result, CHAIN + OTHER) == [], argv


@pytest.mark.slow
def test_reading_the_ledger_loads_no_account_code(home: Home) -> None:
    for argv in (["node", "status"], ["tn", "list"], ["did", "resolve", home.did]):
        result = child(argv, home.env)
        assert result["rc"] == 0, argv
        assert "eth" in result["modules"] and loaded(result, ACCOUNTS + OTHER) == [], argv
        assert result["limit"] == 1000, argv


@pytest.mark.slow
def test_the_recursion_limit_is_restored_after_signing(home: Home) -> None:
    session = {**home.env, "EIDLN_PASSPHRASE": "", "EIDLN_WALLET_SESSION": home.session}
    for argv, env in ((["did", "create"], session), (["account", "list"], home.env)):
        result = child(argv, env)
        assert result["rc"] == 0, argv
        assert "eth_account" in result["modules"] and result["limit"] == 1000, argv


def test_help_constants_match_the_library() -> None:
    """The parser shows two library constants without importing their modules; they must agree."""
    from node.cli import credentials, identity
    from wallet import didauth, session

    assert identity.DEFAULT_TTL == session.DEFAULT_TTL
    assert credentials.CHALLENGE_MINUTES == didauth.CHALLENGE_LIFETIME // 60
