"""The CLI's one error edge: every command, given bad arguments, ends with one line ``error: <code>: <message>``.

:data:`CASES` holds, for every leaf command of the real argparse tree, bad command lines: at least one usage
error (exit status 2, ``cli.usage``) and at least one bad value or bad setting (exit status 1 with a specific
code, never ``internal.error``). A new command without its cases fails :func:`test_every_command_has_cases`.
The cases run in process against one embedded-chain home (a network, a TNSP/vetter member, a wallet with a
DID); none of them may change it. ``node run`` and ``node serve`` get only errors that stop them before they
serve. A few run again as real subprocesses (``slow``), to show that no traceback reaches real stderr.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import node.cli.ledger
from did_method import errors as did_errors
from node.cli import ERROR_ROOTS, _parser, commands, main
from wallet.didauth import Challenge, new_challenge

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery staple"
OTHER_DID = "did:eidln:local:XXXXXXXXXXXXXXXXXXXXXX"  # well formed, not this wallet's, not on the ledger
LEI = "5493001KJTIIGC8Y1R12"
# DID Auth challenge lines of another agency for {other}: one alive for an hour, one long expired
LIVE = new_challenge(domain=OTHER_DID, subject=OTHER_DID, now=int(time.time()), lifetime=3600).text()
EXPIRED = Challenge(nonce="A" * 43, domain=OTHER_DID, subject=OTHER_DID, created=10**9, expires=10**9 + 600).text()
DID_KEYWORDS = sorted({c.code for c in vars(did_errors).values()
                       if isinstance(c, type) and issubclass(c, did_errors.DidError)})
# The one line: a dotted code (or a W3C DID Resolution keyword, the codes of DidError), then a message.
LINE = re.compile(r"^error: (?P<code>[a-z_]+(?:\.[a-z0-9_]+)+|" + "|".join(DID_KEYWORDS) + r"): (?P<message>.+)$")

pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


@dataclass(frozen=True)
class Home:
    env: dict[str, str]
    did: str
    tmp: Path

    def argv(self, line: str) -> list[str]:
        """``line`` split like a shell would, with {did}, {other}, {tmp}, {file}, {missing} filled in."""
        return shlex.split(line.format(did=self.did, other=OTHER_DID, tmp=self.tmp, lei=LEI,
                                       file=self.tmp / "plain.txt", missing=self.tmp / "missing" / "x"))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, cheap_kdfs: None) -> Home:
    tmp = tmp_path_factory.mktemp("cli-errors")
    (tmp / "plain.txt").write_text("not a wallet, not a key, not a directory\n")
    env = {"EIDLN_HOME": str(tmp / "home"), "EIDLN_CHAIN": "embedded", "EIDLN_PASSPHRASE": PASSPHRASE}
    lines: list[str] = []

    def ok(*argv: str) -> None:
        lines.clear()
        assert main(list(argv), env=env, out=lines.append) == 0, argv

    ok("network", "init")
    ok("account", "new", "tel")
    ok("member", "propose", "admit", "--as", "governor1", "--account", "tel", "--roles", "TNSP,VETTER", "--spc", "1234")
    ok("wallet", "init")
    ok("member", "onboard", "--as", "tel", "--account", lines[1].split()[-1])
    ok("did", "create")
    return Home(env, lines[-1], tmp)


# command -> [(bad command line after the command's words, exit status, code, extra environment)]
Case = tuple[str, int, str, dict[str, str]]
U = "cli.usage"
FRESH = {"EIDLN_HOME": "{tmp}/fresh"}  # a home without a network
CASES: dict[str, list[Case]] = {
    "network init": [
        ("--governors x", 2, U, {}),
        ("--bogus", 2, U, {}),
        ("", 1, "config.network_exists", {}),
        ("--governors -1", 1, "cli.bad_value", FRESH),
        ("--governors 40", 1, "cli.bad_value", FRESH),
        ("--governors 32 --governor-address 0x0000000000000000000000000000000000000001", 1,
         "members.too_many_governors", FRESH),
        ("--name BAD", 1, "config.invalid", FRESH),
        ("--governor-address 0x12", 1, "cli.bad_account", FRESH),
        ("--threshold 0", 1, "members.bad_threshold", FRESH),
        ("", 1, "cli.file_unwritable", {"EIDLN_HOME": "{file}/home"}),
    ],
    "network besu-config": [
        ("--validators x", 2, U, {}),
        ("--out", 2, U, {}),
        ("--out {tmp}/besu --validators 2", 1, "config.validators", {}),
        ("--out {tmp}/besu --chain-id 0", 1, "config.genesis", {}),
        ("--out {file}/besu", 1, "cli.file_unwritable", {}),
    ],
    "account new": [
        ("", 2, U, {}),
        ("../x", 1, "keystore.bad_name", {}),
        ("tel", 1, "keystore.exists", {}),
        ("someone", 1, "cli.file_unwritable", {"EIDLN_HOME": "{file}/home"}),
    ],
    "account list": [
        ("extra", 2, U, {}),
        ("", 1, "config.invalid", {"EIDLN_PASSPHRASE": "", "EIDLN_PASSPHRASE_FILE": "{missing}"}),
    ],
    "member propose admit": [
        ("--as governor1 --account tel", 2, U, {}),
        ("--as governor1 --account 0x12 --roles TNSP", 1, "cli.bad_account", {}),
        ("--as governor1 --account tel --roles BOGUS", 1, "members.bad_roles", {}),
        ("--as nobody --account tel --roles TNSP", 1, "keystore.not_found", {}),
    ],
    "member propose set-roles": [
        ("--as governor1 --roles TNSP", 2, U, {}),
        ("--as governor1 --account nobody --roles TNSP", 1, "keystore.not_found", {}),
        ("--as governor1 --account tel --roles ''", 1, "members.bad_roles", {}),
    ],
    "member propose remove": [
        ("--account tel", 2, U, {}),
        ("--as governor1 --account 0xzz", 1, "cli.bad_account", {}),
    ],
    "member propose offboard": [
        ("--as governor1", 2, U, {}),
        ("--as governor1 --account 0x12", 1, "cli.bad_account", {}),
    ],
    "member propose threshold": [
        ("--as governor1 --value x", 2, U, {}),
        ("--as governor1 --value -1", 1, "members.bad_threshold", {}),
        ("--as governor1 --value 0", 1, "members.bad_threshold", {}),
    ],
    "member propose assign-blocks": [
        ("--as governor1 --start +12025550000 --count 1000", 2, U, {}),
        ("--as governor1 --start abc --count 1000 --holder tel", 1, "numbers.bad_number", {}),
        ("--as governor1 --start +12025550000 --count -5 --holder tel", 1, "numbers.bad_count", {}),
        ("--as governor1 --start +12025550000 --count 99999999999999999999 --holder tel", 1, "numbers.bad_count",
         {}),
    ],
    "member propose assign-numbers": [
        ("--as governor1 --count 1 --holder tel", 2, U, {}),
        ("--as governor1 --start +12025550000 --count 0 --holder tel", 1, "numbers.bad_count", {}),
    ],
    "member propose port": [
        ("--as governor1 --start +12025550000", 2, U, {}),
        ("--as governor1 --start 12 --to tel", 1, "numbers.bad_number", {}),
        ("--as governor1 --start +12025550000 --count -1 --to tel", 1, "numbers.bad_count", {}),
    ],
    "member vote": [
        ("--as governor1", 2, U, {}),
        ("x --as governor1", 2, U, {}),
        ("-1 --as governor1", 1, "members.proposal_not_open", {}),
        ("99 --as governor1", 1, "members.proposal_not_open", {}),
        ("99 --as nobody", 1, "keystore.not_found", {}),
    ],
    "member cancel": [
        ("1", 2, U, {}),
        ("-1 --as governor1", 1, "members.proposal_not_open", {}),
        (f"{2**256} --as governor1", 1, "members.proposal_not_open", {}),
    ],
    "member onboard": [
        ("--as tel", 2, U, {}),
        ("--as tel --account 0x12", 1, "cli.bad_account", {}),
        ("--as tel --account 0x0000000000000000000000000000000000000001 --kind " + "k" * 40, 1, "cli.bad_value",
         {}),
    ],
    "member list": [
        ("--bogus", 2, U, {}),
        ("", 1, "config.invalid", {"EIDLN_CHAIN": "ftp://example.com"}),
        ("", 1, "config.no_network", FRESH),
    ],
    "member proposals": [
        ("--open x", 2, U, {}),
        ("", 1, "config.invalid", {"EIDLN_CHAIN_ID": "abc"}),
    ],
    "node run": [  # never to completion: only errors that stop it before it follows the chain
        ("--bogus", 2, U, {}),
        ("--once x", 2, U, {}),
        ("", 1, "config.invalid", {"EIDLN_SYNC_INTERVAL": "abc"}),
        ("", 1, "config.invalid", {"EIDLN_SYNC_INTERVAL": "0"}),
        ("", 1, "config.invalid", {"EIDLN_CHAIN": "ws://127.0.0.1:8546"}),
        ("--once", 1, "config.no_network", FRESH),
        ("", 1, "config.no_network", FRESH),  # no network.json fails at once; only a chain outage is retried
    ],
    "node status": [
        ("--max-lag x", 2, U, {}),
        ("--max-lag -1", 1, "cli.bad_value", {}),
        ("", 1, "config.invalid", {"EIDLN_CONFIRMATIONS": "-1"}),
    ],
    "node serve": [  # never serves: only errors that stop it first
        ("--bogus", 2, U, {}),
        ("", 1, "config.invalid", {"EIDLN_API_PORT": "99999"}),
        ("", 1, "config.invalid", {"EIDLN_SYNC_INTERVAL": "-1"}),
        ("", 1, "config.invalid", {"EIDLN_CHAIN": "not-a-url"}),
        ("", 1, "config.invalid", {"EIDLN_STI_X5U": "ftp://example.com/sp.pem"}),
    ],
    "wallet init": [
        ("extra", 2, U, {}),
        ("", 1, "wallet.exists", {}),
        ("", 1, "config.no_passphrase", {"EIDLN_PASSPHRASE": "", "EIDLN_WALLET": "{tmp}/w1.json"}),
        ("", 1, "wallet.weak_passphrase", {"EIDLN_WALLET_PASSPHRASE": "short", "EIDLN_WALLET": "{tmp}/w2.json"}),
        ("", 1, "cli.file_unwritable", {"EIDLN_WALLET": "{file}/w.json"}),
    ],
    "wallet export": [
        ("", 2, U, {}),
        ("{file}", 1, "wallet.exists", {}),
        ("{file}/backup.json", 1, "cli.file_unwritable", {}),
        ("{tmp}/backup.json", 1, "wallet.not_found", {"EIDLN_WALLET": "{missing}"}),
    ],
    "wallet import": [
        ("", 2, U, {}),
        ("{missing}", 1, "wallet.not_found", {"EIDLN_WALLET": "{tmp}/w3.json"}),
        ("{file}", 1, "wallet.corrupt", {"EIDLN_WALLET": "{tmp}/w3.json"}),
        ("{tmp}/home/wallet.json", 1, "cli.file_unwritable", {"EIDLN_WALLET": "{file}/w.json"}),
    ],
    "wallet unlock": [
        ("--ttl soon", 2, U, {}),
        ("--ttl 0", 1, "cli.bad_value", {}),
        ("--ttl 86401", 1, "cli.bad_value", {}),
        ("", 1, "config.no_passphrase", {"EIDLN_PASSPHRASE": ""}),
        ("", 1, "wallet.wrong_passphrase", {"EIDLN_WALLET_PASSPHRASE": "not the passphrase at all"}),
        ("", 1, "wallet.not_found", {"EIDLN_WALLET": "{missing}"}),
        ("", 1, "cli.file_unwritable", {"EIDLN_SESSION_DIR": "{file}/sessions"}),
    ],
    "wallet lock": [
        ("extra", 2, U, {}),
        ("", 1, "wallet.session_dir_unsafe", {"EIDLN_SESSION_DIR": "{file}"}),
    ],
    "did create": [
        ("--key-type rsa", 2, U, {}),
        ("", 1, "wallet.not_found", {"EIDLN_WALLET": "{missing}"}),
    ],
    "did show": [
        ("extra", 2, U, {}),
        ("", 1, "wallet.corrupt", {"EIDLN_WALLET": "{file}"}),
        ("", 1, "wallet.session_invalid", {"EIDLN_PASSPHRASE": "", "EIDLN_WALLET_SESSION": "not-a-token"}),
        ("", 1, "wallet.session_expired", {"EIDLN_PASSPHRASE": "",  # no such session: locked, or expired and swept
                                           "EIDLN_WALLET_SESSION": "eidln-ws1." + "0" * 32 + "." + "A" * 43}),
    ],
    "did rotate": [
        ("", 2, U, {}),
        ("{did} --key-type rsa", 2, U, {}),
        ("not-a-did", 1, "invalidDid", {}),
        ("{other}", 1, "wallet.unknown_did", {}),
        ("{did} --key nokey", 1, "wallet.no_such_key", {}),
    ],
    "did add-key": [
        ("", 2, U, {}),
        ("{did} --key-type rsa", 2, U, {}),
        ("not-a-did", 1, "invalidDid", {}),
        ("{other}", 1, "wallet.unknown_did", {}),
    ],
    "did revoke-key": [
        ("{did}", 2, U, {}),
        ("not-a-did key-1", 1, "invalidDid", {}),
        ("{other} key-1", 1, "wallet.unknown_did", {}),
        ("{did} nokey", 1, "wallet.no_such_key", {}),
        ("{did} key-1", 1, "did.last_key", {}),
    ],
    "did add-service": [
        ("{did} --id brand --type BrandService", 2, U, {}),
        ("not-a-did --id brand --type BrandService --endpoint https://brand.example", 1, "invalidDid", {}),
        ("{did} --id 'bad fragment' --type BrandService --endpoint https://brand.example", 1, "cli.bad_value", {}),
        ("{did} --id brand --type BrandService --endpoint not-a-uri", 1, "cli.bad_value", {}),
        ("{did} --id brand --type BrandService --endpoint ''", 1, "did.bad_service", {}),
    ],
    "did deactivate": [
        ("", 2, U, {}),
        ("did:web:example.com", 1, "methodNotSupported", {}),
        ("{other}", 1, "wallet.unknown_did", {}),
    ],
    "did resolve": [
        ("", 2, U, {}),
        ("not-a-did", 1, "invalidDid", {}),
        ("{other}", 1, "notFound", {}),
        ("{did} --at yesterday", 1, "invalidOptions", {}),
        ("{did} --version-id abc", 1, "invalidOptions", {}),
    ],
    "vet": [
        ("--subject {other} --legal-name Acme", 2, U, {}),
        ("--subject {other} --legal-name Acme --jurisdiction US-DE --lei {lei}", 2, U, {}),  # no proof
        ("--subject {other} --legal-name Acme --jurisdiction US-DE --lei {lei} --proof x", 2, U, {}),
        ("--subject {other} --legal-name Acme --jurisdiction US-DE --challenge x --proof y", 1,
         "wallet.bad_credential", {}),
        ("--lei {lei} --subject {other} --legal-name Acme --jurisdiction US-DE --valid-days -1 --challenge x "
         "--proof y", 1, "cli.bad_value", {}),
        ("--lei {lei} --subject {other} --legal-name Acme --jurisdiction US-DE --vetting-date yesterday "
         "--challenge x --proof y", 1, "cli.bad_value", {}),
        ("--lei {lei} --subject {other} --legal-name Acme --jurisdiction US-DE --logo http://logo.example "
         "--challenge x --proof y", 1, "wallet.bad_credential", {}),
        ("--lei {lei} --subject not-a-did --legal-name Acme --jurisdiction US-DE --challenge x --proof y", 1,
         "invalidDid", {}),
        ("--lei {lei} --subject {other} --legal-name Acme --jurisdiction US-DE --challenge x --proof y", 1,
         "didauth.bad_challenge", {}),
        (f"--lei {{lei}} --subject {{other}} --legal-name Acme --jurisdiction US-DE --challenge {LIVE} --proof y", 1,
         "didauth.wrong_domain", {}),
        (f"--lei {{lei}} --subject {{did}} --legal-name Acme --jurisdiction US-DE --challenge {LIVE} --proof y "
         "--as-did {other}", 1, "didauth.wrong_subject", {}),
        (f"--lei {{lei}} --subject {{other}} --legal-name Acme --jurisdiction US-DE --challenge {EXPIRED} --proof y "
         "--as-did {other}", 1, "didauth.expired", {}),
        (f"--lei {{lei}} --subject {{other}} --legal-name Acme --jurisdiction US-DE --challenge {LIVE} --proof y "
         "--as-did {other}", 1, "didauth.unknown_challenge", {}),
        ("challenge", 2, U, {}),
        ("chalenge --subject {other}", 2, U, {}),
        ("challenge --subject {other} --lei {lei}", 2, U, {}),
        ("challenge --subject {other} --proof y", 2, U, {}),
        ("challenge --subject not-a-did", 1, "invalidDid", {}),
        ("challenge --subject {other} --as-did {other}", 1, "wallet.unknown_did", {}),
        ("challenge --subject {other}", 1, "wallet.not_found", {"EIDLN_WALLET": "{missing}"}),
    ],
    "did prove": [
        ("{did}", 2, U, {}),
        ("--challenge x", 2, U, {}),
        ("{did} --challenge x", 1, "didauth.bad_challenge", {}),
        (f"not-a-did --challenge {LIVE}", 1, "invalidDid", {}),
        (f"{{did}} --challenge {LIVE}", 1, "didauth.wrong_subject", {}),
        (f"{{other}} --challenge {LIVE}", 1, "wallet.unknown_did", {}),
        (f"{{other}} --challenge {LIVE}", 1, "wallet.not_found", {"EIDLN_WALLET": "{missing}"}),
    ],
    "tn grant": [
        ("--subject {other}", 2, U, {}),
        ("--subject {other} --start abc", 1, "numbers.bad_number", {}),
        ("--subject {other} --start +12025550100 --count -1", 1, "numbers.bad_count", {}),
        ("--subject {other} --start +12025550100 --valid-days 99999999999999", 1, "cli.bad_value", {}),
        ("--subject not-a-did --start +12025550100", 1, "invalidDid", {}),
        ("--subject {other} --start +12025550100 --as-did {other}", 1, "wallet.unknown_did", {}),
    ],
    "tn delegate": [
        ("--subject {other} --start +12025550100", 2, U, {}),
        ("--parent urn:uuid:00000000-0000-0000-0000-000000000000 --subject {other} --start +12025550100", 1,
         "cli.unknown_credential", {}),
        ("--parent urn:uuid:00000000-0000-0000-0000-000000000000 --subject {other} --start x", 1,
         "numbers.bad_number", {}),
        ("--parent urn:uuid:00000000-0000-0000-0000-000000000000 --subject {other} --start +12025550100 "
         "--count 0", 1, "numbers.bad_count", {}),
    ],
    "tn revoke": [
        ("", 2, U, {}),
        ("urn:uuid:00000000-0000-0000-0000-000000000000", 1, "credentials.not_found", {}),
    ],
    "tn suspend": [
        ("a b", 2, U, {}),
        ("bogus", 1, "credentials.not_found", {}),
    ],
    "tn reinstate": [
        ("", 2, U, {}),
        ("bogus", 1, "credentials.not_found", {}),
    ],
    "tn list": [
        ("--holder", 2, U, {}),
        ("--holder not-a-did", 1, "invalidDid", {}),
        ("--issuer did:eidln", 1, "invalidDid", {}),
    ],
    "tn chain": [
        ("", 2, U, {}),
        ("12", 1, "numbers.bad_number", {}),
        ("+1202555010x", 1, "numbers.bad_number", {}),
    ],
    "pki init": [
        ("--spc 1234", 2, U, {}),
        ("--spc 12 --out {tmp}/pki", 1, "shaken.bad_tnauthlist", {}),
        ("--spc 1234 --out {file}", 1, "cli.file_unwritable", {}),
        ("--spc 1234 --out {file}/pki", 1, "cli.file_unwritable", {}),
    ],
    "pki import-key": [
        ("", 2, U, {}),
        ("--pem {missing}", 1, "cli.file_unreadable", {}),
        ("--pem {tmp}", 1, "cli.file_unreadable", {}),
        ("--pem {file}", 1, "config.invalid", {}),
    ],
    "pki serve": [
        ("--port 8444", 2, U, {}),
        ("--dir {tmp} --port x", 2, U, {}),
        ("--dir {missing}", 1, "config.invalid", {}),
        ("--dir {tmp} --port 99999", 1, "cli.bad_value", {}),
        ("--dir {tmp} --port -1", 1, "cli.bad_value", {}),
    ],
    "call sign": [
        ("{did} --credential urn:uuid:1 --to +12025550100", 2, U, {}),
        ("{did} --credential X --from not-a-number --to +12025550100", 1, "passport.bad_claims", {}),
        ("{did} --credential urn:uuid:1 --from +12025550142 --to bad", 1, "passport.bad_claims", {}),
        ("{did} --credential X --from +12025550142 --to +12025550100", 1, "passport.bad_claims", {}),
        ("not-a-did --credential urn:uuid:1 --from +12025550142 --to +12025550100", 1, "invalidDid", {}),
        ("{other} --credential urn:uuid:1 --from +12025550142 --to +12025550100", 1, "wallet.unknown_did", {}),
    ],
    "call sign-cert": [
        ("--did {did} --from +12025550142 --to +12025550100", 2, U, {}),  # no --x5u
        ("--x5u https://sca.example/c.pem --from +12025550142 --to +12025550100", 2, U, {}),  # no key
        ("--did {did} --key sti --x5u https://sca.example/c.pem --from +12025550142 --to +12025550100", 2, U, {}),
        ("--did {did} --x5u https://sca.example/c.pem --from nope --to +12025550100", 1, "passport.bad_claims", {}),
        ("--did {did} --x5u https://sca.example/c.pem --from +12025550142 --to +12025550100", 1,
         "passport.alg_not_allowed", {}),  # an Ed25519 DID key cannot sign ES256
        ("--key nope --x5u https://sca.example/c.pem --from +12025550142 --to +12025550100", 1,
         "wallet.no_such_key", {}),
        ("--did {did} --x5u ftp://x --ppt rcd --from +12025550142 --to +12025550100", 1, "passport.alg_not_allowed",
         {}),
    ],
    "audit bundle": [
        ("", 2, U, {}),
        ("some-origid", 2, U, {}),
        ("some-origid --out {tmp}/b.json", 1, "audit.disabled", {}),  # this home never served: no audit log
        ("some-origid --out {tmp}/b.json", 1, "config.no_network", FRESH),
        ("some-origid --out {tmp}/b.json", 1, "config.invalid", {"EIDLN_STI_X5U": "ftp://x"}),
    ],
    "audit verify": [
        ("", 2, U, {}),
        ("{file} --trust-roots", 2, U, {}),
        ("{missing}", 1, "cli.file_unreadable", {}),
        ("{tmp}", 1, "cli.file_unreadable", {}),
        ("{file}", 1, "audit.bundle_invalid", {}),
        ("{file} --trust-roots {file}", 1, "config.invalid", {}),
        ("{file} --trust-roots {missing}", 1, "cli.file_unreadable", {}),
    ],
    "demo": [
        ("--keep", 2, U, {}),
        ("--keep {file}", 1, "config.invalid", {}),
        ("--keep {file}/demo", 1, "cli.file_unwritable", {}),
    ],
}


def _cases() -> list[Any]:
    """The ids name the live challenge ``{live}``: it differs at each import, and pytest-xdist's workers must collect
    the same ids."""
    return [pytest.param(cmd, line, rc, code, env,
                         id=f"{cmd}: {line.replace(LIVE, '{live}') or '(none)'}{' ' + str(env) if env else ''}")
            for cmd, rows in CASES.items() for line, rc, code, env in rows]


def run(home: Home, argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    extra = {k: v.format(tmp=home.tmp, file=home.tmp / "plain.txt", missing=home.tmp / "missing" / "x")
             for k, v in env.items()}
    capsys.readouterr()
    rc = main(argv, env={**home.env, **extra}, out=lambda _line: None)
    return rc, capsys.readouterr().err


def one_line(err: str) -> re.Match[str]:
    assert "Traceback" not in err, err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    m = LINE.match(err.rstrip("\n"))
    assert m, f"not 'error: <code>: <message>': {err!r}"
    return m


def test_every_command_has_cases() -> None:
    """The table covers exactly the real command tree, each command with a usage case and a bad-input case."""
    tree = {" ".join(words) for words, _parser_ in commands(_parser())}
    assert len(tree) >= 40
    assert sorted(tree - set(CASES)) == [], "commands without bad-argument cases in CASES"
    assert sorted(set(CASES) - tree) == [], "CASES names commands the CLI does not have"
    for cmd, rows in CASES.items():
        assert {rc for _line, rc, _code, _env in rows} == {1, 2}, f"{cmd}: needs exit 2 (usage) and exit 1 cases"


@pytest.mark.parametrize(("cmd", "line", "rc", "code", "env"), _cases())
def test_bad_arguments_are_one_line(home: Home, cmd: str, line: str, rc: int, code: str, env: dict[str, str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    got, err = run(home, [*cmd.split(), *home.argv(line)], env, capsys)
    m = one_line(err)
    assert (got, m["code"]) == (rc, code), err
    if rc == 2:
        assert m["message"].endswith(f"(see eidln {cmd} --help)"), err


def test_bad_number_is_named(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9, item 11: a traceback before; now the option and the value are named."""
    rc, err = run(home, ["call", "sign", home.did, "--credential", "X", "--from", "not-a-number", "--to",
                         "+12025550100"], {}, capsys)
    assert rc == 1
    assert err == "error: passport.bad_claims: --from 'not-a-number' is not a telephone number (digits, * or #)\n"


def test_unknown_command_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"], env={}) == 2
    assert one_line(capsys.readouterr().err)["message"].startswith("argument group: invalid choice: 'frobnicate'")
    assert main([], env={}) == 2
    one_line(capsys.readouterr().err)
    assert main(["member", "vote", "--help"], env={}) == 0
    out = capsys.readouterr()
    assert out.out.startswith("usage: eidln member vote") and out.err == ""


def test_bad_setting_outside_the_error_tree_is_config_invalid(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Settings.from_env reads EIDLN_PASSPHRASE_FILE as UTF-8; a binary file raised UnicodeDecodeError."""
    (tmp_path / "pass").write_bytes(b"\xff\xfe secret")
    env = {"EIDLN_HOME": str(tmp_path), "EIDLN_PASSPHRASE_FILE": str(tmp_path / "pass")}
    assert main(["account", "list"], env=env) == 1
    m = one_line(capsys.readouterr().err)
    assert m["code"] == "config.invalid" and "not UTF-8" in m["message"]


def _boom(*_args: object) -> int:
    raise KeyError("a defect")


def test_a_defect_is_one_line_with_exit_70(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(node.cli.ledger, "cmd_account_list", _boom)
    env = {"EIDLN_HOME": str(tmp_path)}
    assert main(["account", "list"], env=env) == 70
    err = capsys.readouterr().err
    assert err == "error: internal.error: KeyError: 'a defect' (set EIDLN_DEBUG=1 for the traceback)\n"
    assert main(["account", "list"], env={**env, "EIDLN_DEBUG": "1"}) == 70
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):") and "in _boom" in err
    assert err.splitlines()[-1] == "error: internal.error: KeyError: 'a defect'"


def test_ctrl_c_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(node.cli.ledger, "cmd_account_list", interrupted)
    assert main(["account", "list"], env={"EIDLN_HOME": str(tmp_path)}) == 130
    assert capsys.readouterr().err == "error: cli.interrupted: interrupted\n"


def test_closed_stdout_is_silent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``eidln ... | head -1``: the reader went away; that is no defect (it was ``internal.error``)."""
    def closed(_line: str) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    argv = ["pki", "init", "--spc", "1234", "--out", str(tmp_path / "pki")]
    assert main(argv, env={}, out=closed) == 141
    assert capsys.readouterr().err == ""


def test_broken_pipe_elsewhere_is_still_a_defect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def pipe(*_args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(node.cli.ledger, "cmd_account_list", pipe)
    assert main(["account", "list"], env={"EIDLN_HOME": str(tmp_path)}) == 70
    assert one_line(capsys.readouterr().err)["code"] == "internal.error"


def test_every_error_class_is_under_a_root() -> None:
    """Every public exception class of node, wallet and did_method is caught by the one edge (ERROR_ROOTS),
    except those that never reach the CLI."""
    import importlib
    import inspect
    import pkgutil

    never_in_cli = {
        "node.api.stir.ServiceException": "an ATIS-1000082 HTTP answer, rendered by the STIR routes",
        "node.shaken._der.DERError": "the private DER reader's; node.shaken translates it to shaken.bad_tnauthlist",
    }
    outside = []
    for pkg in ("node", "wallet", "did_method"):
        for info in pkgutil.walk_packages(importlib.import_module(pkg).__path__, pkg + "."):
            if info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for name, obj in vars(module).items():
                if (inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == module.__name__
                        and not name.startswith("_") and not issubclass(obj, ERROR_ROOTS)
                        and f"{module.__name__}.{name}" not in never_in_cli):
                    outside.append(f"{module.__name__}.{name}")
    assert outside == [], "error classes the CLI would report as internal.error; add their root to ERROR_ROOTS"


# ------------------------------------------------------------------------------------------- real processes


SUBPROCESS_CASES = [
    pytest.param(["call", "sign", "{did}", "--credential", "X", "--from", "not-a-number", "--to", "+12025550100"],
                 {}, 1, "passport.bad_claims", id="call sign --from not-a-number"),
    pytest.param(["member", "vote"], {}, 2, "cli.usage", id="member vote (usage)"),
    pytest.param(["pki", "import-key", "--pem", "{missing}"], {}, 1, "cli.file_unreadable", id="pki import-key"),
    pytest.param(["node", "run"], {"EIDLN_SYNC_INTERVAL": "soon"}, 1, "config.invalid", id="node run bad setting"),
    pytest.param(["node", "serve"], {"EIDLN_CHAIN": "ws://127.0.0.1:8546"}, 1, "config.invalid",
                 id="node serve bad chain URL"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "env", "rc", "code"), SUBPROCESS_CASES)
def test_real_process_prints_one_line(home: Home, argv: list[str], env: dict[str, str], rc: int, code: str) -> None:
    argv = [a.format(did=home.did, missing=home.tmp / "missing" / "x") for a in argv]
    proc = subprocess.run([sys.executable, "-m", "node.cli", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **home.env, **env})
    assert proc.returncode == rc, proc.stderr
    assert one_line(proc.stderr)["code"] == code


@pytest.mark.slow
def test_real_process_closed_stdout(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-m", "node.cli", "pki", "init", "--spc", "1234", "--out",
                           str(tmp_path / "pki")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={**os.environ, "EIDLN_HOME": str(tmp_path)}) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # before the process has written anything: its first line meets a closed pipe
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 141
    assert err == ""


@pytest.mark.slow
def test_real_process_defect_is_one_line(tmp_path: Path) -> None:
    script = ("import sys, node.cli.ledger as ledger\n"
              "def boom(*a): raise ValueError('a defect')\n"
              "ledger.cmd_account_list = boom\n"
              "from node.cli import main\n"
              "sys.exit(main(['account', 'list']))\n")
    env = {**os.environ, "EIDLN_HOME": str(tmp_path)}
    env.pop("EIDLN_DEBUG", None)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=env)
    assert proc.returncode == 70
    assert proc.stderr == "error: internal.error: ValueError: a defect (set EIDLN_DEBUG=1 for the traceback)\n"
