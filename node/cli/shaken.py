"""``eidln pki init | serve``: a throw-away SHAKEN test PKI on disk, and an HTTP server for its x5u chain.

Decisions:

* ``init`` writes :func:`node.shaken.pki.generate_test_pki`'s files (keys 0600, certificates 0644) and refuses
  to overwrite an existing ``sp-key.pem``: a fresh PKI invalidates every PASSporT signed with the old one.
* The SPC must be what ATIS-1000080 SP certificates carry: an OCN-like code of 4 letters or digits
  (``1234``, ``567J``); anything else is ``shaken.bad_tnauthlist`` (it is the TNAuthList's only entry).
* ``serve`` is the STI-CR stand-in: ``GET /sp-chain.pem`` (SP certificate then STI-CA, as ATIS-1000074 §5.3.1
  wants the x5u resource), ``/sp.pem``, ``/ca.pem``, ``/root.pem`` and ``/ca.crl.pem``, read once at start
  into memory, with ``Cache-Control: max-age=3600``. Nothing else is served (no directory listing, no keys,
  no path from the request ever touches the file system); methods other than GET are 405.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.cli.ledger import bounded, user_file
from node.errors import ConfigError
from node.settings import Settings

if TYPE_CHECKING:  # the commands import the SHAKEN code and http.server: the parser does not
    from http.server import ThreadingHTTPServer

__all__ = ["register", "pki_server", "chain_files"]

Out = Callable[[str], None]
_SPC = re.compile(r"[0-9A-Z]{4}")
CACHE_CONTROL = "max-age=3600"
PEM = "application/x-pem-file"
PKIX_CRL = "application/pkix-crl"


def cmd_pki_init(_s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.shaken.errors import BAD_TNAUTHLIST, ShakenError
    from node.shaken.pki import generate_test_pki

    spc = a.spc.strip().upper()
    if not _SPC.fullmatch(spc):
        raise ShakenError(BAD_TNAUTHLIST, f"SPC {a.spc[:20]!r} must be 4 letters or digits (an OCN such as 1234)")
    out_dir = Path(a.out)
    if (out_dir / "sp-key.pem").exists():
        raise ConfigError(f"{out_dir / 'sp-key.pem'} exists; choose another --out (a new PKI invalidates the old)")
    with user_file(out_dir, write=True):
        pki = generate_test_pki(spc=spc, out_dir=out_dir, now=datetime.now(UTC))
    for name in sorted(pki.pems):
        path = out_dir / name
        out(f"{path}  ({oct(path.stat().st_mode & 0o777)[2:]})")
    out(f"SP certificate 'SHAKEN {spc}' valid until {pki.sp_cert.not_valid_after_utc:%Y-%m-%d}; "
        f"serve the chain with: eidln pki serve --dir {out_dir}")
    return 0


def chain_files(directory: Path) -> dict[str, tuple[bytes, str]]:
    """URL path -> (bytes, media type) of what :func:`pki_server` serves, read now from ``directory``."""
    try:
        sp, ca, root, crl = ((directory / n).read_bytes() for n in ("sp.pem", "ca.pem", "root.pem", "ca.crl.pem"))
    except OSError as exc:
        raise ConfigError(f"{directory} is not a test PKI directory (eidln pki init): {exc.strerror}: "
                          f"{exc.filename}") from None
    return {"/sp-chain.pem": (sp + ca, PEM), "/sp.pem": (sp, PEM), "/ca.pem": (ca, PEM), "/root.pem": (root, PEM),
            "/ca.crl.pem": (crl, PKIX_CRL)}


def pki_server(directory: Path, host: str = "127.0.0.1", port: int = 8444) -> ThreadingHTTPServer:
    """A bound (not yet serving) HTTP server for the chain files; ``port=0`` picks a free port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    files = chain_files(directory)

    class Handler(BaseHTTPRequestHandler):
        server_version = "eidln-pki"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            found = files.get(self.path.split("?", 1)[0])
            if found is None:
                self._send(404, b"not found\n", "text/plain")
                return
            self._send(200, found[0], found[1], cache=True)

        def _refuse(self) -> None:
            self._send(405, b"GET only\n", "text/plain", allow=True)

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _refuse  # noqa: N815

        def _send(self, status: int, body: bytes, ctype: str, *, cache: bool = False, allow: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if cache:
                self.send_header("Cache-Control", CACHE_CONTROL)
            if allow:
                self.send_header("Allow", "GET")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return

    return ThreadingHTTPServer((host, port), Handler)


def cmd_pki_serve(_s: Settings, a: argparse.Namespace, out: Out) -> int:
    bounded(a.port, "--port", 0, 65535)  # 0: any free port
    try:
        server = pki_server(Path(a.dir), a.host, a.port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {a.host}:{a.port}: {exc.strerror}") from None
    host, port = str(server.server_address[0]), int(server.server_address[1])
    out(f"serving {a.dir} on http://{host}:{port}/ (x5u: http://{host}:{port}/sp-chain.pem); Ctrl-C stops")
    with server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out("stopped")
    return 0


def cmd_pki_import_key(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from did_method.ident import KeyType
    from node.cli.identity import _open_wallet

    with user_file(a.pem):
        pem = Path(a.pem).read_bytes()
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{a.pem} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigError(f"{a.pem} is not a P-256 key (SHAKEN signs ES256)")
    w = _open_wallet(s)
    w.import_key(a.name, KeyType.P256, key.private_numbers().private_value.to_bytes(32, "big"))
    w.save()
    out(f"imported {a.pem} into {s.wallet_file} as {a.name!r}; set EIDLN_STI_KEY={a.name} and delete the PEM file")
    return 0


def register(sub: Any) -> None:
    """Add ``pki init`` and ``pki serve`` to the top-level sub-parsers."""
    pki = sub.add_parser("pki", help="a SHAKEN test PKI (root, STI-CA, SP certificate) and its x5u server")
    cmds = pki.add_subparsers(dest="cmd", required=True)
    init = cmds.add_parser("init", help="generate a test PKI for one SPC")
    init.add_argument("--spc", required=True, help="the service provider code (OCN), e.g. 1234")
    init.add_argument("--out", required=True, metavar="DIR", help="directory for the PEM files")
    init.set_defaults(fn=cmd_pki_init)
    imp = cmds.add_parser("import-key", help="put an SP (STI) private key into the node's encrypted wallet, "
                                             "for EIDLN_STI_KEY")
    imp.add_argument("--pem", required=True, help="PKCS#8 / SEC1 PEM of a P-256 key (e.g. <dir>/sp-key.pem)")
    imp.add_argument("--name", default="sti", help="key name in the wallet (default: sti)")
    imp.set_defaults(fn=cmd_pki_import_key)
    serve = cmds.add_parser("serve", help="serve the SP certificate chain (x5u) and the CRL over HTTP")
    serve.add_argument("--dir", required=True, help="a directory written by eidln pki init")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8444)
    serve.set_defaults(fn=cmd_pki_serve)
