"""Session-wide fixtures. Only ``anvil`` lives here: one real anvil process shared by every test module."""

from __future__ import annotations

from collections.abc import Iterator

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
