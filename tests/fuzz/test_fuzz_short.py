"""A short fuzz pass of every target, in CI: no crash, and every harness reaches both its parser's success path
and its typed-error path (a harness that never calls its parser, or only ever feeds it garbage, fails here).

Nine worker processes of 2,000 inputs each: about 7 s on two idle cores. The full run is
``python -m tests.fuzz --jobs 2`` (1,100,000 inputs; figures in ``tests/fuzz/results.json``).
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.fuzz.__main__ import run
from tests.fuzz.harnesses import TARGETS, Input, seed

RUNS = 2_000


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, Any]]:
    done = run(list(TARGETS), runs=RUNS, jobs=min(4, os.cpu_count() or 1), seed=1, echo=False)
    return {r["target"]: r for r in done["targets"]}


@pytest.mark.slow
@pytest.mark.parametrize("name", TARGETS)
def test_no_crash_and_both_paths_reached(results: dict[str, dict[str, Any]], name: str) -> None:
    r = results[name]
    assert r["status"] == "ok", f"{name}: {r['signatures']}"
    assert r["crashes"] == 0 and r["inputs"] == RUNS
    assert r["ok"] > 0, f"{name}: the parser never returned: the harness cannot reach its success path"
    assert r["errors"] > 0, f"{name}: the parser never raised its typed error"


def test_seed_layout_is_what_the_harness_reads() -> None:
    data = seed(b"payload\x00more", 7, 200, n=3)
    inp = Input(data, 3)
    assert inp.controls == [7, 200, 0] and inp.payload == b"payload\x00more"
    assert inp.fields(3) == [b"payload", b"more", b""]
    with pytest.raises(ValueError):
        seed(b"", 1, 2, n=1)
