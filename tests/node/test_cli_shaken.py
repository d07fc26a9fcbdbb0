"""``eidln pki init | serve``: the files and their modes, the x5u server (in a thread and as a real process),
and one-line errors."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509

from node.cli import main
from node.cli.shaken import pki_server

ROOT = Path(__file__).resolve().parents[2]
FILES = {"root.pem", "ca.pem", "sp.pem", "ca.crl.pem", "root-key.pem", "ca-key.pem", "sp-key.pem"}


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki") / "pki"
    lines: list[str] = []
    assert main(["pki", "init", "--spc", "567j", "--out", str(out)], env={}, out=lines.append) == 0
    assert len(lines) == len(FILES) + 1 and "SHAKEN 567J" in lines[-1]
    return out


def test_init_writes_files_with_private_keys_0600(pki_dir: Path) -> None:
    assert {p.name for p in pki_dir.iterdir()} == FILES
    for name in FILES:
        mode = (pki_dir / name).stat().st_mode & 0o777
        assert mode == (0o600 if name.endswith("-key.pem") else 0o644), name
    sp = x509.load_pem_x509_certificate((pki_dir / "sp.pem").read_bytes())
    assert sp.subject.rfc4514_string() == "CN=SHAKEN 567J,C=US"


def test_init_refuses_to_overwrite(pki_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (pki_dir / "sp-key.pem").read_bytes()
    assert main(["pki", "init", "--spc", "1234", "--out", str(pki_dir)], env={}, out=lambda _: None) == 1
    assert capsys.readouterr().err.startswith("error: config.invalid: ")
    assert (pki_dir / "sp-key.pem").read_bytes() == before


@pytest.mark.parametrize("spc", ["12", "12345", "12-4", "", "1é34"])
def test_bad_spc_is_one_line(spc: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "init", "--spc", spc, "--out", str(tmp_path / "x")], env={}, out=lambda _: None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: shaken.bad_tnauthlist: SPC ")
    assert not (tmp_path / "x").exists()


def test_serve_needs_a_pki_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pki", "serve", "--dir", str(tmp_path), "--port", "0"], env={}, out=lambda _: None) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: config.invalid: ")


@pytest.fixture
def served(pki_dir: Path) -> Iterator[str]:
    server = pki_server(pki_dir, "127.0.0.1", 0)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    t.join(timeout=10)


def test_serve_chain_and_crl(served: str, pki_dir: Path) -> None:
    with httpx.Client(base_url=served) as c:
        r = c.get("/sp-chain.pem")
        assert r.status_code == 200 and r.headers["cache-control"] == "max-age=3600"
        assert r.content == (pki_dir / "sp.pem").read_bytes() + (pki_dir / "ca.pem").read_bytes()
        chain = x509.load_pem_x509_certificates(r.content)
        assert [c.subject.rfc4514_string() for c in chain] == ["CN=SHAKEN 567J,C=US", "CN=Test STI-CA,C=US"]
        crl = c.get("/ca.crl.pem")
        assert crl.status_code == 200 and crl.content == (pki_dir / "ca.crl.pem").read_bytes()
        assert crl.headers["cache-control"] == "max-age=3600"
        for path in ("/sp-key.pem", "/ca-key.pem", "/", "/../sp-key.pem", "/%2e%2e/etc/passwd", "/sp-chain.pem/x"):
            assert c.get(path).status_code == 404, path
        for method in ("POST", "PUT", "DELETE", "HEAD"):
            r = c.request(method, "/sp-chain.pem")
            assert r.status_code == 405 and r.headers["allow"] == "GET", method


@pytest.mark.slow
def test_serve_as_a_real_process(pki_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "pki", "serve", "--dir", str(pki_dir), "--port",
                             str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline, r = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/sp-chain.pem")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert r is not None and r.status_code == 200 and r.headers["cache-control"] == "max-age=3600"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert b"sp-chain.pem" in out
