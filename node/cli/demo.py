"""``eidln demo``: the whole call-time story on a fresh embedded chain (see :mod:`node.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from node.cli.ledger import Out, user_file
from node.settings import Settings

__all__ = ["register"]


def cmd_demo(_s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.demo import run_demo

    keep = Path(a.keep) if a.keep else None
    if keep is not None and not keep.exists():
        with user_file(keep, write=True):
            keep.mkdir(parents=True)
    rows = run_demo(out, keep)
    return 0 if rows and rows[0].attest == "A" else 1


def register(sub: Any) -> None:
    d = sub.add_parser("demo", help="the whole story on a fresh embedded chain: vetting, grant, delegation, a call "
                                    "signed by a call center, the OSP's attestation, SHAKEN verification")
    d.add_argument("--keep", metavar="DIR", default=None,
                   help="keep the chain, wallets, index and audit log in DIR (default: a temporary directory)")
    d.set_defaults(fn=cmd_demo)
