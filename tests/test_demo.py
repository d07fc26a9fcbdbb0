"""The README's main job (`make demo` = `eidln demo`) runs and tells the story the issue asks for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from node.demo import run_demo


def test_demo_rows(tmp_path: Path) -> None:
    lines: list[str] = []
    rows = run_demo(lines.append, tmp_path / "kept")
    assert [(r.attest, r.reason) for r in rows] == [
        ("A", "ledger.verified"), ("B", "evidence.none"), ("B", "ppt.replay"), ("B", "tn.not_in_range"),
        ("B", "tn.revoked")]
    assert all(r.verstat == f"TN-Validation-Passed ({r.attest})" for r in rows)  # the TSP verifies every header
    assert rows[0].brand == "Acme Health" and all(r.brand == "-" for r in rows[1:])
    assert (tmp_path / "kept" / "audit.sqlite").exists() and any("kept in" in line for line in lines)


@pytest.mark.slow
def test_eidln_demo_command(tmp_path: Path) -> None:
    env = dict(os.environ, EIDLN_HOME=str(tmp_path / "home"))
    run = subprocess.run([sys.executable, "-m", "node.cli", "demo"], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    table = run.stdout.split("decision µs", 1)[1]
    assert "call center signs with its DID key" in table and "ledger.verified" in table
    assert table.count("TN-Validation-Passed") == 5 and "tn.revoked" in table
    assert float(run.stdout.rsplit("Done in ", 1)[1].split(" s")[0]) < 60
