"""The TN story through the command line: vetting (DID Auth first), a grant, a delegation, chains, revocation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from node.cli.identity import _synced
from node.runtime import open_runtime
from node.settings import Settings
from tests.node.test_cli import Cli
from wallet import Wallet
from wallet.didauth import Challenge, authentication_key_at, parse_challenge, verify_credential_evidence

pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


def wait_for_chain_clock(cli: Cli, timeout: float = 120.0) -> None:
    """Wait for the state "the wall clock has passed the chain's newest block". The embedded chain stamps each block
    at least one second after its parent, so a burst of transactions runs its clock ahead of the wall clock, and a
    signature made "now" would predate a key just added (the DID Auth proof is checked against the key as the ledger
    had it at its ``iat``)."""
    with open_runtime(Settings.from_env(cli.env)) as rt:
        head = rt.backend.block(rt.backend.head()).timestamp
    deadline = time.monotonic() + timeout
    while time.time() < head + 1:  # a whole second later: int(time.time()) is then past the block
        assert time.monotonic() < deadline, f"the chain's clock stays ahead of the wall clock (block time {head})"
        time.sleep(0.05)


class Party:
    """One participant's wallet on the shared home (same chain and index, own wallet file)."""

    def __init__(self, cli: Cli, name: str, home: Path) -> None:
        self.cli, self.env = cli, {"EIDLN_WALLET": str(home / f"{name}.wallet")}
        assert self("wallet", "init") == 0
        self.address = cli.lines[1].split()[-1]
        self.did = ""

    def __call__(self, *argv: str) -> int:
        return self.cli(*argv, env=self.env)

    def create_did(self, *argv: str) -> None:
        assert self("did", "create", *argv) == 0
        self.did = self.cli.lines[-1]

    def challenge(self, subject: Party) -> str:
        """Step 1 of vetting, as this (vetting agency's) wallet: the challenge line for ``subject``."""
        assert self("vet", "challenge", "--subject", subject.did) == 0
        return self.cli.lines[-1]

    def prove(self, challenge: str) -> str:
        """Step 2, as the subject: the proof line."""
        wait_for_chain_clock(self.cli)
        assert self("did", "prove", self.did, "--challenge", challenge) == 0
        return self.cli.lines[-1]

    def vet(self, subject: Party, *argv: str) -> int:
        """The three steps of vetting ``subject``, then ``eidln vet`` with ``argv``."""
        challenge = self.challenge(subject)
        proof = subject.prove(challenge)
        return self("vet", "--subject", subject.did, "--challenge", challenge, "--proof", proof, *argv)


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

    assert vetter.vet(ent, "--legal-name", "Acme Corp", "--jurisdiction", "US-DE", "--lei", "5493001KJTIIGC8Y1R12") == 0
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


LEI = ("--legal-name", "Acme Corp", "--jurisdiction", "US-DE", "--lei", "5493001KJTIIGC8Y1R12")


@pytest.mark.slow
def test_vetting_needs_did_auth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``eidln vet challenge`` / ``eidln did prove`` / ``eidln vet`` between wallets on the embedded chain: every way
    to get a credential without the subject's key fails with its own code; the issued credential's evidence
    re-checks."""
    cli = Cli(tmp_path / "home")
    assert cli("network", "init") == 0
    vetter, other_vetter, ent, mallory = (Party(cli, n, tmp_path) for n in ("vetter", "vetter2", "ent", "mallory"))
    for p in (vetter, other_vetter):
        assert cli("member", "propose", "admit", "--as", "governor1", "--account", p.address, "--roles",
                   "TNSP,VETTER", "--spc", "1234" if p is vetter else "5678") == 0
    for p in (ent, mallory):
        assert vetter("member", "onboard", "--as", "@wallet", "--account", p.address) == 0
    vetter.create_did()
    other_vetter.create_did()
    ent.create_did("--key-type", "p256")  # ES256 proofs; the tn story has Ed25519
    mallory.create_did()

    def refused(party: Party, code: str, *argv: str, rc: int = 1) -> None:
        capsys.readouterr()
        assert party(*argv) == rc, argv
        err = capsys.readouterr().err
        assert err.startswith(f"error: {code}: ") and err.count("\n") == 1, err

    challenge = vetter.challenge(ent)
    parsed = parse_challenge(challenge)
    assert (parsed.domain, parsed.subject, parsed.expires - parsed.created) == (vetter.did, ent.did, 600)
    proof = ent.prove(challenge)

    def vet(challenge_line: str = challenge, proof_line: str = proof) -> tuple[str, ...]:
        return "vet", "--subject", ent.did, "--challenge", challenge_line, "--proof", proof_line, *LEI

    # no proof, no credential
    refused(vetter, "cli.usage", "vet", "--subject", ent.did, *LEI, rc=2)
    refused(vetter, "cli.usage", "vet", "--subject", ent.did, "--challenge", challenge, *LEI, rc=2)
    refused(vetter, "cli.usage", "vet", "challenge", "--subject", ent.did, "--proof", proof, rc=2)
    # only the subject's wallet can answer; a challenge answered for another DID
    refused(mallory, "wallet.unknown_did", "did", "prove", ent.did, "--challenge", challenge)
    refused(mallory, "didauth.wrong_subject", "did", "prove", mallory.did, "--challenge", challenge)
    # bad proofs: garbage, one signature character changed, the answer to another challenge, someone else's
    refused(vetter, "didauth.malformed", *vet(proof_line="not-a-proof"))
    head, _, sig = proof.rpartition(".")
    refused(vetter, "didauth.signature_invalid", *vet(proof_line=f"{head}.{'B' if sig[0] == 'A' else 'A'}{sig[1:]}"))
    refused(vetter, "didauth.wrong_nonce", *vet(challenge_line=vetter.challenge(ent)))
    theirs = vetter.challenge(mallory)
    refused(vetter, "didauth.wrong_subject", *vet(challenge_line=theirs, proof_line=mallory.prove(theirs)))
    # challenges this vetter did not hand out: another agency's, and one the subject made up itself
    refused(vetter, "didauth.wrong_domain", *vet(challenge_line=other_vetter.challenge(ent)))
    now = int(time.time())
    forged = Challenge(nonce="A" * 43, domain=vetter.did, subject=ent.did, created=now, expires=now + 600).text()
    refused(vetter, "didauth.unknown_challenge", *vet(challenge_line=forged, proof_line=ent.prove(forged)))
    refused(vetter, "didauth.bad_challenge", *vet(challenge_line=challenge + "x"))

    assert vetter(*vet()) == 0
    credential_id = cli.lines[-1]
    refused(vetter, "didauth.unknown_challenge", *vet())  # a challenge serves once
    assert cli("tn", "list", "--holder", ent.did) == 0 and "ENTERPRISE_IDENTITY" in cli.text

    issued = Wallet.open(tmp_path / "vetter.wallet", cli.env["EIDLN_PASSPHRASE"]).metadata["issued"][credential_id]
    (ev,) = issued["evidence"]
    assert ev["type"] == ["DIDAuthentication"] and ev["authSignature"] == proof
    assert (ev["authDomain"], ev["authMethod"], ev["authChallenge"]) == (vetter.did, f"{ent.did}#key-1", parsed.nonce)
    with open_runtime(Settings.from_env(cli.env)) as rt:
        key_at = authentication_key_at(_synced(rt))
        assert verify_credential_evidence(issued, key_at=key_at, now=int(time.time())).ok
