"""``eidln``: the command line.

Every failure ends as one line on stderr, ``error: <code>: <message>``, and a non-zero exit status:

* 1 for refused operations, bad input and bad settings: every error of the project's error trees
  (:data:`ERROR_ROOTS`), translated here and nowhere else;
* 2 for bad usage (``cli.usage``: a missing or unknown argument, a value argparse cannot convert); the line ends
  with the ``--help`` of the command concerned;
* 70 (``EX_SOFTWARE``) for a defect: any other exception is ``internal.error`` naming its type, and the traceback
  is printed too only when ``EIDLN_DEBUG=1``;
* 130 for Ctrl-C (``cli.interrupted``);
* 141, and no message, when the reader of stdout went away (``eidln tn list | head -1``).

Building the parser imports no command's dependencies (no EVM, eth_account, BLS, Data Integrity or SHAKEN code):
each command module imports what a command uses inside it, and :mod:`node.runtime` loads the chain stack when a
command opens the chain. ``eidln --help`` answers in a fraction of a second; ``tests/node/test_cli_startup.py`` keeps
it so (``benchmarks/cli.py`` measures it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NoReturn

from node.cli import audit, credentials, demo, identity, ledger, shaken
from node.errors import ConfigError, NodeError
from node.settings import Settings
from wallet.errors import CodedError
from wallet.strictjson import restore_recursion_limit

__all__ = ["main", "ERROR_ROOTS", "EXIT_FAILURE", "EXIT_USAGE", "EXIT_SOFTWARE", "EXIT_INTERRUPTED", "EXIT_SIGPIPE",
           "commands"]

# The root of every error the project raises on purpose (contracts.errors.CodedError): NodeError (ConfigError, the
# chain and store errors, KeystoreError, PolicyError, SipInputError, StatusListError), the wallet-side errors
# (WalletError, CredentialError, PassportError, the Data Integrity errors, ShakenError, strictjson's JsonError) and
# DidError (the W3C DID Resolution keywords) all derive from it; each has a ``code`` and a ``message``.
ERROR_ROOTS: tuple[type[CodedError], ...] = (CodedError,)

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_SOFTWARE = 70  # sysexits.h EX_SOFTWARE: an internal software error
EXIT_INTERRUPTED = 130
EXIT_SIGPIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool whose output pipe was closed
_MAX_DETAIL = 200


class UsageError(NodeError):
    """Bad usage, found by argparse (exit status 2)."""

    code = "cli.usage"


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose errors are :class:`UsageError` instead of a usage block and ``sys.exit(2)``.

    ``add_subparsers`` creates sub-parsers of ``type(self)``, so the whole command tree gets this override."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="eidln", description="EIDLN: TN right-to-use ledger for STIR/SHAKEN")
    sub = p.add_subparsers(dest="group", required=True)
    identity.register_node(ledger.register(sub))
    identity.register(sub)
    credentials.register(sub)
    shaken.register(sub)
    identity.register_call(sub)
    audit.register(sub)
    demo.register(sub)
    for _words, leaf in commands(p):
        leaf.set_defaults(command_prog=leaf.prog)
    return p


def commands(parser: argparse.ArgumentParser) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every leaf command of ``parser``'s tree: (its words, e.g. ``("member", "propose", "admit")``, its parser)."""

    def walk(p: argparse.ArgumentParser, words: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...],
                                                                              argparse.ArgumentParser]]:
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield words, p
        for action in subs:
            for name, child in action.choices.items():
                yield from walk(child, (*words, name))

    yield from walk(parser, ())


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()).strip()


def _fail(exc: CodedError) -> None:
    print(f"error: {exc.code}: {_one_line(exc.message) or '(no message)'}", file=sys.stderr, flush=True)


def _short(exc: BaseException) -> str:
    detail = _one_line(str(exc))
    if len(detail) > _MAX_DETAIL:
        detail = detail[:_MAX_DETAIL - 3] + "..."
    return type(exc).__name__ + (f": {detail}" if detail else "")


def _settings(env: Mapping[str, str] | None) -> Settings:
    """:meth:`Settings.from_env`, where anything it raises outside :data:`ERROR_ROOTS` (a passphrase file that is
    not UTF-8 text, ...) is a bad setting as well, not a defect of the command."""
    try:
        return Settings.from_env(env)
    except ERROR_ROOTS:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure at the settings edge is a bad setting
        raise ConfigError(f"cannot read the settings: {_short(exc)}") from exc


def _print(line: str) -> None:
    print(line, flush=True)


class _OutputClosed(Exception):
    """The reader of stdout went away (``eidln tn list | head -1``): not an error of the command."""


def _guarded(out: Callable[[str], None]) -> Callable[[str], None]:
    def emit(line: str) -> None:
        try:
            out(line)
        except BrokenPipeError as exc:
            raise _OutputClosed from exc

    return emit


def _stdout_closed() -> int:
    try:  # else the interpreter's last flush of stdout fails again and prints "Exception ignored ..."
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # stdout is not a file (in-process callers, tests): nothing to flush
        return EXIT_SIGPIPE
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return EXIT_SIGPIPE


def main(argv: Sequence[str] | None = None, *, env: dict[str, str] | None = None,
         out: Callable[[str], None] = _print) -> int:
    """Run one command and return its exit status (module docstring); ``env`` defaults to ``os.environ``."""
    debug = (os.environ if env is None else env).get("EIDLN_DEBUG", "") == "1"
    emit = _guarded(out)
    try:
        args, extra = _parser().parse_known_args(argv)
        if extra:
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see {args.command_prog} --help)")
        started = time.monotonic()
        # The parser's imports are done; the commands import their own, and node.runtime restores the limit again
        # after the chain stack (py-evm, py_ecc: 100,000) is loaded. Parsers of input must not run with it.
        restore_recursion_limit()
        rc: int = args.fn(_settings(env), args, emit)
        if args.group == "network" and args.cmd == "init":
            emit(f"done in {time.monotonic() - started:.1f} s")
        return rc
    except _OutputClosed:
        return _stdout_closed()
    except UsageError as exc:
        _fail(exc)
        return EXIT_USAGE
    except ERROR_ROOTS as exc:
        _fail(exc)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        _fail(NodeError("interrupted", code="cli.interrupted"))
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help: argparse printed the help
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else EXIT_FAILURE
    except Exception as exc:  # noqa: BLE001 - the one edge where a defect becomes one line, not a traceback
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        hint = "" if debug else " (set EIDLN_DEBUG=1 for the traceback)"
        _fail(NodeError(_short(exc) + hint, code="internal.error"))
        return EXIT_SOFTWARE
