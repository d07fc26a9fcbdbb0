"""``eidln``: the command line.

Every failure the node expects ends as one line on stderr (``error: <code>: <message>``) and a non-zero
exit status (1 for refused operations, bad input and bad settings, 2 for bad usage).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence

from did_method.errors import DidError
from node.cli import credentials, demo, identity, ledger, shaken
from node.errors import NodeError
from node.settings import Settings
from node.shaken.errors import ShakenError
from wallet.errors import WalletError

__all__ = ["main"]


def _print(line: str) -> None:
    print(line, flush=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="eidln", description="EIDLN: TN right-to-use ledger for STIR/SHAKEN")
    sub = p.add_subparsers(dest="group", required=True)
    identity.register_node(ledger.register(sub))
    identity.register(sub)
    credentials.register(sub)
    shaken.register(sub)
    identity.register_call(sub)
    demo.register(sub)
    return p


def main(argv: Sequence[str] | None = None, *, env: dict[str, str] | None = None,
         out: Callable[[str], None] = _print) -> int:
    args = _parser().parse_args(argv)
    started = time.monotonic()
    try:
        settings = Settings.from_env(env)
        rc: int = args.fn(settings, args, out)
    except (NodeError, WalletError, DidError, ShakenError) as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    if args.group == "network" and args.cmd == "init":
        out(f"done in {time.monotonic() - started:.1f} s")
    return rc
