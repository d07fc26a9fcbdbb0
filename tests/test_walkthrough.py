"""The README's main job (`make demo` = scripts/walkthrough.sh) runs and tells the story it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_walkthrough(tmp_path: Path) -> None:
    env = dict(os.environ, EIDLN_HOME=str(tmp_path / "eidln"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    run = subprocess.run([str(ROOT / "scripts" / "walkthrough.sh")], env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    for code in ("credentials.numbers_not_held", "credentials.not_a_subset", "members.not_governor",
                 "didauth.unknown_challenge"):
        assert f"error: {code}:" in run.stderr
    before, after = out.split("Acme revokes the delegation")
    chains_before = [line for line in before.splitlines() if line.startswith("+12025550143:")]
    chains_after = [line for line in after.splitlines() if line.startswith("+12025550143:")]
    assert len(chains_before) == 2 and any("TN_DELEGATION" in line for line in chains_before)
    assert len(chains_after) == 1 and "TN_DELEGATION" not in chains_after[0]
    assert "lag        0 block(s)" in out
