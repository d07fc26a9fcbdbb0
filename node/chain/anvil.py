"""Run a real anvil process (Foundry's dev chain) as a free-gas, QBFT-shaped local chain for tests and demos.

Design decisions:

* **The real binary, never the npm shim.** ``node_modules/.bin/anvil`` is a Node wrapper that forwards
  only SIGINT/SIGTERM; SIGKILL on it orphans the real anvil, which keeps its port. :func:`find_anvil`
  looks, in order, at an explicit path, ``$EIDLN_ANVIL``,
  ``<repo>/.tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`` and ``anvil`` on ``PATH``.
  (This is dev tooling started at the process edge, so reading one environment variable is deliberate.)
* **Flags** (each checked against ``anvil --help`` 1.7.1): ``--chain-id 1337`` (anvil's dev signer
  otherwise stays on 31337), ``--hardfork cancun`` (what the Vyper contracts are compiled for),
  ``--base-fee 0 --gas-price 0 --disable-min-priority-fee`` (free gas: a brand-new, unfunded account can
  send zero-fee type-2 transactions; tested), ``--quiet`` (anvil 1.7.1 has no ``--silent``), and
  ``--prune-history N``: without it anvil writes every historical state under ``~/.foundry/anvil/tmp``
  and never deletes it (13 GB after ~14k blocks). Bare ``--prune-history`` keeps *no* old state, so
  ``eth_call`` at any block but the newest fails with ``BlockOutOfRangeError``; ``N`` (default 128)
  keeps that many recent states, in memory only.
* ``--gas-limit 100000000`` by default, the embedded chain's genesis limit: the ledger asks for up to 40M gas
  for an anchor batch, which anvil's default 30M block limit refuses. A block above the gas target does not
  raise the base fee: anvil treats an explicit ``--base-fee 0`` as a constant (tested).
* Auto-mined blocks within one wall-clock second share a timestamp (the embedded chain and QBFT make them
  strictly increase); rules that compare block timestamps must not rely on a new second per block.
* ``state_path`` adds ``--state F --state-interval 1``: anvil loads F if it exists and rewrites it every
  second and on SIGTERM. Block hashes, storage, receipts and logs survive a restart; historical states
  (``eth_call`` at old blocks) do not. SIGKILL loses at most the last second.
* **Ports**: a free localhost port is chosen by binding port 0; if anvil loses the race for it, start
  retries on a new port. :meth:`AnvilProcess.restart` keeps the port, so URLs held by clients stay valid.
* **No orphans**: :meth:`AnvilProcess.stop` sends SIGTERM (so ``--state`` is dumped), waits, then
  SIGKILLs; every running child is also killed from an ``atexit`` hook. (Nothing helps if the Python
  process itself is SIGKILLed.)
* anvil's stderr goes to a temporary file, not a pipe (a full pipe would block anvil); its tail is quoted
  when anvil dies during start-up.
"""

from __future__ import annotations

import atexit
import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from node.errors import ChainUnavailable, ConfigError

__all__ = ["AnvilProcess", "find_anvil", "INSTALL_HINT"]

_REPO = Path(__file__).resolve().parents[2]
_NPM_BINARY = Path(".tools/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
INSTALL_HINT = "install it with: npm install --prefix .tools @foundry-rs/anvil@1.7.1 (or set EIDLN_ANVIL)"

_CHILDREN: set[subprocess.Popen[bytes]] = set()


def _kill_children() -> None:
    for proc in list(_CHILDREN):
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not reap it in time
            pass
        _CHILDREN.discard(proc)


atexit.register(_kill_children)


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGKILL anvil when its parent dies, even by SIGKILL (no orphan keeps
    the port when atexit cannot run). A no-op elsewhere."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG


def find_anvil(explicit: str | os.PathLike[str] | None = None) -> str | None:
    """Path of the anvil binary to run, or None. An unusable explicit path gives None, never a fallback."""
    candidates: list[str | os.PathLike[str] | None]
    if explicit is not None:
        candidates = [explicit]
    else:
        candidates = [os.environ.get("EIDLN_ANVIL") or None, _REPO / _NPM_BINARY, shutil.which("anvil")]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _chain_id_answer(port: int, timeout: float) -> bool:
    """True when anvil answers ``eth_chainId`` on ``port`` (stdlib client: no proxies, no pooled sockets)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        return "result" in json.loads(conn.getresponse().read())
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        conn.close()


class AnvilProcess:
    """A running anvil on ``127.0.0.1``. Use as a context manager, or call :meth:`start` / :meth:`stop`."""

    def __init__(
        self,
        binary: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        chain_id: int = 1337,
        hardfork: str = "cancun",
        block_time: float | None = None,
        state_path: Path | None = None,
        gas_limit: int | None = 100_000_000,  # as the embedded chain and the Besu genesis
        prune_history: int = 128,
        start_timeout: float = 15.0,
        stop_timeout: float = 10.0,
    ) -> None:
        found = find_anvil(binary)
        if found is None:
            where = f"at {binary}" if binary is not None else "(looked at $EIDLN_ANVIL, .tools/, PATH)"
            raise ConfigError(f"the anvil binary was not found {where}; {INSTALL_HINT}")
        self.binary = found
        self.chain_id = chain_id
        self.hardfork = hardfork
        self.block_time = block_time
        self.state_path = Path(state_path) if state_path is not None else None
        self.gas_limit = gas_limit
        self.prune_history = prune_history
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._port = port  # chosen on first start, then kept (restart keeps the URL)
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    # -- properties -------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("anvil has no port before start()")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def args(self, port: int) -> list[str]:
        """The full command line for ``port``."""
        argv = [
            self.binary,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--chain-id",
            str(self.chain_id),
            "--hardfork",
            self.hardfork,
            "--prune-history",
            str(self.prune_history),
            "--base-fee",
            "0",
            "--gas-price",
            "0",
            "--disable-min-priority-fee",
            "--quiet",
        ]
        if self.block_time is not None:
            argv += ["--block-time", f"{self.block_time:g}"]
        if self.state_path is not None:
            argv += ["--state", str(self.state_path), "--state-interval", "1"]
        if self.gas_limit is not None:
            argv += ["--gas-limit", str(self.gas_limit)]
        return argv

    # -- lifecycle --------------------------------------------------------------------------------------

    def start(self) -> AnvilProcess:
        """Start anvil and return once ``eth_chainId`` answers; ChainUnavailable if it dies or times out."""
        if self.running:
            return self
        attempts = 1 if self._port is not None else 3
        for attempt in range(attempts):
            port = self._port if self._port is not None else _free_port()
            try:
                self._launch(port)
                self._port = port
                return self
            except ChainUnavailable as exc:
                if attempt == attempts - 1 or "address already in use" not in exc.message.lower():
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _launch(self, port: int) -> None:
        self._stderr = tempfile.TemporaryFile(prefix="anvil-stderr-")
        self._proc = subprocess.Popen(
            self.args(port), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only async-signal-safe prctl in the child
        )
        _CHILDREN.add(self._proc)
        deadline = time.monotonic() + self.start_timeout
        while not (_chain_id_answer(port, timeout=0.5) and self._proc.poll() is None):
            if self._proc.poll() is not None:
                code = self._proc.returncode
                tail = self._stderr_tail()
                self._reap()
                raise ChainUnavailable(f"anvil exited with code {code} while starting on port {port}: {tail}")
            if time.monotonic() > deadline:
                tail = self._stderr_tail()
                self.stop()
                raise ChainUnavailable(f"anvil did not answer on port {port} within {self.start_timeout:g} s: {tail}")
            time.sleep(0.01)

    def stop(self) -> None:
        """SIGTERM (anvil dumps ``--state``), wait up to ``stop_timeout``, then SIGKILL. Idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._reap()

    def restart(self) -> AnvilProcess:
        """Stop and start again on the same port (with ``state_path``, the chain continues where it was)."""
        self.stop()
        deadline = time.monotonic() + 5.0
        while True:  # the old socket may linger a moment after the process is gone
            try:
                return self.start()
            except ChainUnavailable as exc:
                if "address already in use" not in exc.message.lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _reap(self) -> None:
        if self._proc is not None:
            _CHILDREN.discard(self._proc)
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _stderr_tail(self, limit: int = 600) -> str:
        if self._stderr is None:
            return "(no output)"
        self._stderr.flush()
        self._stderr.seek(0)
        text = self._stderr.read().decode("utf-8", "replace").strip()
        return " ".join(text[-limit:].split()) or "(no output)"

    def __enter__(self) -> AnvilProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}, {self.url}" if self.running else "stopped"
        return f"AnvilProcess({state})"
