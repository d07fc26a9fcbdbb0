"""Session-wide fixtures, and the rule of the fast tier.

* ``anvil``: one real anvil process shared by every test module (only ``slow`` tests use it).
* The fast tier (``make test-fast``: ``pytest -m "not slow"``) starts no process. A test that is not marked
  ``slow`` fails if it (or a fixture it sets up or tears down) starts one: anvil, a subprocess, a
  multiprocessing or forkserver pool, a server in another process. The guard wraps the standard library's
  ways to start a process for the setup, call and teardown of every such test (:func:`_processes_refused`); a
  test that swallows the failure still fails (:func:`pytest_runtest_makereport`). ``tests/test_tiers.py``
  shows the guard at work.
* ``cheap_kdfs``: test-only key-derivation cost for the modules that drive the CLI (opt-in, module scope).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from node.chain.anvil import AnvilProcess
from node.errors import ConfigError
from wallet.strictjson import restore_recursion_limit


@pytest.fixture(scope="session", autouse=True)
def default_recursion_limit() -> None:
    """Every test runs with CPython's default recursion limit, as the node's processes do (importing py-evm and
    py_ecc during collection raised it to 100,000)."""
    restore_recursion_limit()


@pytest.fixture
def py_ecc_recursion_limit() -> Iterator[None]:
    """The process of issue 9: importing the app pulls in py-evm and py_ecc, which raise the recursion limit to
    100,000. The session puts it back (above); readers of outside input must not depend on that, so tests that prove
    it raise the limit again for their duration, as py_ecc does."""
    import sys

    import node.api.app  # noqa: F401

    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 100_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilProcess]:
    """A running anvil (chain id 1337, cancun, zero fees, auto-mining), started once per session.

    A missing binary fails the test with the install command; it is never a skip.
    """
    try:
        proc = AnvilProcess()
    except ConfigError as exc:
        missing = str(exc)
    else:
        with proc:
            yield proc
        return
    pytest.fail(missing, pytrace=False)


@pytest.fixture(scope="module")
def cheap_kdfs() -> Iterator[None]:
    """Key derivation at the lowest cost the files allow, for a module that drives the CLI (``eidln``).

    A CLI command derives a key for every wallet or ledger-account file it opens, at the production cost: Argon2id
    MODERATE (256 MiB, 3 passes) for a wallet ``eidln wallet init`` created, scrypt n = 2**18 (256 MiB) for a key
    file ``eidln account new`` or ``network init`` wrote. Those derivations were most of the CLI tests' time.
    Here a new wallet gets Argon2id INTERACTIVE (what ``Wallet.create(fast=True)`` uses; the floor the wallet
    accepts when it opens a file) and a new key file scrypt n = 2**10. The derivations stay real, and each file
    records its parameters and is opened with them. The modules that assert the default parameters
    (``tests/wallet/test_keystore.py``, ``tests/wallet/test_session.py``) do not use this fixture.
    """
    import eth_keyfile.keyfile

    from wallet import envelope

    default_work_factor = eth_keyfile.keyfile.get_default_work_factor_for_kdf

    def work_factor(kdf: Any) -> int:
        return 1 << 10 if kdf == "scrypt" else default_work_factor(kdf)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(envelope, "MODERATE", envelope.INTERACTIVE)
        mp.setattr(eth_keyfile.keyfile, "get_default_work_factor_for_kdf", work_factor)
        yield


# -- the fast tier starts no process ---------------------------------------------------------------------------

_SPAWNED = pytest.StashKey[list[tuple[str, str]]]()


def _ways_to_start_a_process() -> list[tuple[Any, str]]:
    """Every standard-library entry point that starts a process. ``subprocess.Popen`` covers ``subprocess.run``,
    ``os.popen`` and asyncio's subprocesses; ``BaseProcess.start`` covers every multiprocessing start method,
    ``Pool`` and ``ProcessPoolExecutor``; ``os.fork`` covers ``os.spawn*``; ``os.forkpty`` covers ``pty.fork``;
    ``_posixsubprocess.fork_exec`` is what multiprocessing's spawn and forkserver helpers call."""
    import _posixsubprocess
    import multiprocessing.process

    ways: list[tuple[Any, str]] = [(subprocess.Popen, "__init__"), (multiprocessing.process.BaseProcess, "start"),
                                   (_posixsubprocess, "fork_exec")]
    ways += [(os, name) for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system") if hasattr(os, name)]
    return ways


def _refusal(original: Callable[..., Any], name: str, phase: str, spawned: list[tuple[str, str]]) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        shown = ", ".join([repr(a)[:200] for a in args if not isinstance(a, subprocess.Popen)]
                          + [f"{k}={v!r:.100}" for k, v in kwargs.items()])
        message = (f"a test not marked slow started a process in its {phase}: {name}({shown}); mark it "
                   "@pytest.mark.slow (anvil, subprocesses, process pools and servers in other processes are slow)")
        spawned.append((phase, message))
        pytest.fail(message, pytrace=False)

    refuse.__wrapped__ = original  # type: ignore[attr-defined]
    return refuse


@contextmanager
def _processes_refused(item: pytest.Item, phase: str) -> Iterator[None]:
    if item.get_closest_marker("slow") is not None:
        yield
        return
    spawned = item.stash.setdefault(_SPAWNED, [])
    with pytest.MonkeyPatch.context() as mp:
        for owner, attr in _ways_to_start_a_process():
            where = f"{owner.__module__}.{owner.__qualname__}" if isinstance(owner, type) else owner.__name__
            mp.setattr(owner, attr, _refusal(getattr(owner, attr), f"{where}.{attr}", phase, spawned))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _processes_refused(item, "setup"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _processes_refused(item, "call"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with _processes_refused(item, "teardown"):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """A refused process start fails the phase even if the code under test caught the failure."""
    report: pytest.TestReport = yield
    refused = [message for phase, message in item.stash.get(_SPAWNED, []) if phase == call.when]
    if refused and not report.failed:
        report.outcome = "failed"
        report.longrepr = "\n".join(refused)
    return report
