"""The fast tier starts no process (``tests/conftest.py``): a test not marked ``slow`` that starts one fails, by
each way the standard library starts one, even when the code under test swallows the failure; a slow test may.

Each case runs in an inner pytest session (``pytester``, in this process) with the hooks of ``tests/conftest.py``.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = """
from tests.conftest import (pytest_runtest_call, pytest_runtest_makereport, pytest_runtest_setup,
                            pytest_runtest_teardown)

def pytest_configure(config):
    config.addinivalue_line("markers", "slow: may start processes")
"""

# pytest-benchmark runs git when a session starts: in the inner session, that would be this (fast) test's process
INNER = ("-p", "no:cacheprovider", "-p", "no:benchmark")

FAST = """
import multiprocessing, os, pty, subprocess, sys
from concurrent.futures import ProcessPoolExecutor

import pytest

def test_subprocess_run():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_popen_swallowed():
    try:
        subprocess.Popen([sys.executable, "-c", "pass"]).wait()
    except BaseException as exc:  # code under test that hides the guard's failure: the report hook still fails it
        print("swallowed", type(exc).__name__)

def test_multiprocessing_spawn():
    p = multiprocessing.get_context("spawn").Process(target=print)
    p.start()
    p.join()

def test_forkserver_pool():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver")) as pool:
        pool.submit(print).result()

def test_os_fork():
    if os.fork() == 0:
        os._exit(0)

def test_pty_fork():
    if pty.fork()[0] == 0:
        os._exit(0)

def test_os_system():
    os.system("true")

@pytest.fixture
def server():
    proc = subprocess.Popen([sys.executable, "-m", "http.server", "0"])
    yield proc
    proc.kill()

def test_fixture_starts_a_server(server):
    assert server.pid > 0

def test_no_process():
    assert sum(range(4)) == 6
"""


def test_a_fast_test_that_starts_a_process_fails(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner=FAST)
    result = pytester.runpytest_inprocess(*INNER)
    outcomes = {r.nodeid.split("::")[-1]: (r.when, r.outcome)
                for r in result.reprec.getreports("pytest_runtest_logreport")  # type: ignore[attr-defined]
                if r.failed or r.when == "call"}
    assert outcomes == {
        "test_subprocess_run": ("call", "failed"), "test_popen_swallowed": ("call", "failed"),
        "test_multiprocessing_spawn": ("call", "failed"), "test_forkserver_pool": ("call", "failed"),
        "test_os_fork": ("call", "failed"), "test_pty_fork": ("call", "failed"), "test_os_system": ("call", "failed"),
        "test_fixture_starts_a_server": ("setup", "failed"), "test_no_process": ("call", "passed")}
    text = result.stdout.str()
    for started in ("subprocess.Popen.__init__", "multiprocessing.process.BaseProcess.start", "os.fork",
                    "os.system"):
        assert f"started a process in its call: {started}(" in text, started
    assert "started a process in its setup: subprocess.Popen.__init__(" in text
    assert text.count("mark it @pytest.mark.slow") >= 8


@pytest.mark.slow
def test_a_slow_test_may_start_a_process(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_inner="""
import subprocess, sys
import pytest

pytestmark = pytest.mark.slow

def test_subprocess_run():
    assert subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True).stdout == "42\\n"
""")
    pytester.runpytest_inprocess(*INNER).assert_outcomes(passed=1)
