"""An OSP node as an operator runs it, on anvil: the world the soak (``benchmarks.soak``) and the outage tests use.

Everything is set up through the ``eidln`` command line (in process, :func:`node.cli.main`) exactly as the README
shows: a network on anvil (with a state file, so anvil can be stopped and started again with its chain), a TNSP that
is also the OSP, a vetting agency, a vetted enterprise with several grants (one per revocation the soak makes), the
test STI PKI with the key imported into the OSP's encrypted wallet, a trunk policy; then ``eidln pki serve`` and
``eidln node serve`` as real processes. The enterprise's dialer signs with the wallet library, as a dialer would.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from node.chain.anvil import AnvilProcess
from node.cli import main
from wallet import dids
from wallet.keys import Signer
from wallet.keystore import Wallet
from wallet.passport import sign_call

__all__ = ["OspWorld", "free_port", "rss_kib"]

PASSPHRASE = "correct horse battery staple"
CALLEE = "13105550000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    """Resident set size of a process, KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Grant:
    credential: str  # the credential id the dialer names in tnc
    first: int  # its first number (E.164 digits)
    count: int
    revoked_at: float | None = None  # wall time its revocation was mined


@dataclass
class OspWorld:
    root: Path
    grants: int = 4
    max_staleness: int = 5
    sync_interval: float = 0.2
    block_time: float | None = None  # anvil mines every block_time seconds; None: a block per transaction
    header_timeout: float = 2.0
    body_timeout: float = 2.0
    env: dict[str, str] = field(default_factory=dict)
    anvil: AnvilProcess | None = None
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    granted: list[Grant] = field(default_factory=list)
    base: str = ""
    x5u: str = ""
    enterprise: str = ""
    node: subprocess.Popen[bytes] | None = None  # the `eidln node serve` process
    _dialer: tuple[Signer, str] | None = None
    _calls: Iterator[int] = field(default_factory=itertools.count)  # next() is atomic: threads may call

    # ------------------------------------------------------------------ set-up

    def cli(self, *argv: str, wallet: str | None = None) -> list[str]:
        self.lines = []
        env = dict(self.env, **({"EIDLN_WALLET": str(self.root / f"{wallet}.wallet")} if wallet else {}))
        rc = main(list(argv), env=env, out=self.lines.append)
        if rc != 0:
            raise RuntimeError(f"eidln {' '.join(argv)} exited {rc}")
        return self.lines

    def _party(self, name: str) -> str:
        """A new wallet; the address of its ledger account."""
        return self.cli("wallet", "init", wallet=name)[1].split()[-1]

    def setup(self) -> OspWorld:
        self.root.mkdir(parents=True, exist_ok=True)
        self.anvil = AnvilProcess(state_path=self.root / "anvil-state.json", block_time=self.block_time).start()
        home = self.root / "home"
        self.env = {"EIDLN_HOME": str(home), "EIDLN_CHAIN": self.anvil.url, "EIDLN_PASSPHRASE": PASSPHRASE,
                    "EIDLN_SYNC_INTERVAL": str(self.sync_interval)}
        self.cli("network", "init")
        osp, vetter, ent = (self._party(name) for name in ("osp", "vetter", "ent"))
        self.cli("member", "propose", "admit", "--as", "governor1", "--account", osp, "--roles", "TNSP,OSP",
                 "--spc", "1234", "--name", "Tel One")
        self.cli("member", "propose", "admit", "--as", "governor1", "--account", vetter, "--roles", "VETTER",
                 "--name", "Vet Co")
        self.cli("member", "propose", "assign-blocks", "--as", "governor1", "--start", "+12025550000", "--count",
                 "1000", "--holder", osp)
        self.cli("member", "onboard", "--as", "@wallet", "--account", ent, wallet="osp")
        did = {name: self.cli("did", "create", wallet=name)[-1] for name in ("osp", "vetter", "ent")}
        self.enterprise = did["ent"]
        challenge = self.cli("vet", "challenge", "--subject", did["ent"], wallet="vetter")[-1]  # DID Auth first
        proof = self.cli("did", "prove", did["ent"], "--challenge", challenge, wallet="ent")[-1]
        self.cli("vet", "--subject", did["ent"], "--challenge", challenge, "--proof", proof, "--legal-name",
                 "Acme Corp", "--jurisdiction", "US-DE", "--lei", "5493001KJTIIGC8Y1R12", "--brand-name", "Acme",
                 wallet="vetter")
        for i in range(self.grants):
            first = 12025550100 + 10 * i
            cred = self.cli("tn", "grant", "--subject", did["ent"], "--start", f"+{first}", "--count", "10",
                            wallet="osp")[-1]
            self.granted.append(Grant(cred, first, 10))
        pki = self.root / "pki"
        self.cli("pki", "init", "--spc", "1234", "--out", str(pki))
        self.cli("pki", "import-key", "--pem", str(pki / "sp-key.pem"), "--name", "sti", wallet="osp")
        policy = self.root / "policy.toml"
        policy.write_text(f'[defaults]\nmax_staleness = {self.max_staleness}\n\n'
                          f'[trunks.acme]\ncustomers = ["{did["ent"]}"]\n')
        wallet = Wallet.open(self.root / "ent.wallet", PASSPHRASE)
        self._dialer = dids.signer_for(wallet, did["ent"])
        pki_port, api_port = free_port(), free_port()
        self.x5u = f"http://127.0.0.1:{pki_port}/sp-chain.pem"
        self.base = f"http://127.0.0.1:{api_port}"
        self.env.update(EIDLN_WALLET=str(self.root / "osp.wallet"), EIDLN_API_PORT=str(api_port),
                        EIDLN_POLICY=str(policy), EIDLN_STI_KEY="sti", EIDLN_STI_X5U=self.x5u,
                        EIDLN_TRUST_ROOTS=str(pki / "root.pem"), EIDLN_X5U_INSECURE="1",
                        EIDLN_HEADER_TIMEOUT=str(self.header_timeout), EIDLN_BODY_TIMEOUT=str(self.body_timeout),
                        EIDLN_READY_MAX_AGE=str(self.max_staleness))
        self._spawn(["pki", "serve", "--dir", str(pki), "--port", str(pki_port)], self.x5u)
        self.node = self._spawn(["node", "serve"], self.base + "/healthz")
        return self

    def _spawn(self, argv: list[str], url: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{argv[0]}-{argv[1]}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([sys.executable, "-m", "node.cli", *argv], env=dict(os.environ, **self.env),
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs.append(proc)
        deadline = time.monotonic() + 120
        while True:  # wait for the state "it answers"
            if proc.poll() is not None:
                raise RuntimeError(f"eidln {' '.join(argv)} exited {proc.returncode}; see {log.name}")
            try:
                httpx.get(url, timeout=1.0)
                return proc
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"eidln {' '.join(argv)} did not answer on {url}") from None
                time.sleep(0.1)

    # ------------------------------------------------------------------ calls

    def identity(self, orig: int, *, iat: int | None = None, dest: str = CALLEE) -> str:
        """The enterprise's Identity header for a call from ``orig`` (the grant covering it named in tnc)."""
        assert self._dialer is not None
        grant = next(g for g in self.granted if g.first <= orig < g.first + g.count)
        signer, kid = self._dialer
        return sign_call(signer, kid=kid, orig=str(orig), dest=[dest], iat=int(time.time()) if iat is None else iat,
                         credential_id=grant.credential)

    def call(self, orig: int, *, signed: bool = True, trunk: str = "acme") -> dict[str, Any]:
        """A ``/v1/attest`` body for a new call from ``orig`` (a new called number each time, so no two are the
        same call), with the enterprise's fresh PASSporT unless ``signed`` is false."""
        dest = f"1310{next(self._calls) % 10_000_000:07d}"
        return self.call_body(orig, self.identity(orig, dest=dest) if signed else None, trunk=trunk, dest=dest)

    @staticmethod
    def call_body(orig: int, identity: str | None, *, trunk: str = "acme", dest: str = CALLEE) -> dict[str, Any]:
        headers: dict[str, Any] = {"From": f"<sip:+{orig}@pbx.acme.example>", "To": f"<sip:+{dest}@osp.example>"}
        if identity is not None:
            headers["Identity"] = identity
        return {"trunk": trunk, "headers": headers}

    def grant_of(self, orig: int) -> Grant:
        return next(g for g in self.granted if g.first <= orig < g.first + g.count)

    def revoke(self, grant: Grant) -> None:
        """The TNSP revokes a grant through the CLI (a ledger transaction on anvil)."""
        self.cli("tn", "revoke", grant.credential, wallet="osp")
        grant.revoked_at = time.time()

    # ------------------------------------------------------------------ outage

    def chain_down(self) -> None:
        assert self.anvil is not None
        self.anvil.stop()

    def chain_up(self) -> None:
        assert self.anvil is not None
        self.anvil.start()

    def wait_ready(self, client: httpx.Client, timeout: float = 120.0) -> float:
        """Wait for the state "/readyz is 200"; the seconds it took."""
        started = time.monotonic()
        while client.get("/readyz").status_code != 200:
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the node was not ready within {timeout} s: {client.get('/readyz').text}")
            time.sleep(0.05)
        return time.monotonic() - started

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if self.anvil is not None:
            self.anvil.stop()

    def __enter__(self) -> OspWorld:
        return self.setup()

    def __exit__(self, *exc: object) -> None:
        self.close()
