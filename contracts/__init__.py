"""The ledger's Vyper contracts: sources in ``src/``, compiled artifacts in ``build/``.

Artifacts are committed; ``python -m contracts.build`` regenerates them and the test suite checks that
recompiling the sources reproduces them byte for byte (same Vyper version, EVM target ``cancun``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["NAMES", "EVM_VERSION", "VYPER_VERSION", "Artifact", "artifact", "source_path", "BUILD_DIR"]

SRC_DIR = Path(__file__).parent / "src"
BUILD_DIR = Path(__file__).parent / "build"
NAMES = ("Members", "NumberAuthority", "DIDRegistry", "CredentialRegistry")
EVM_VERSION = "cancun"
VYPER_VERSION = "0.4.3"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    source_sha256: str


def source_path(name: str) -> Path:
    return SRC_DIR / f"{name}.vy"


@cache
def artifact(name: str) -> Artifact:
    """The committed artifact of contract ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(f"unknown contract {name!r}")
    data = json.loads((BUILD_DIR / f"{name}.json").read_text())
    return Artifact(name=name, abi=data["abi"], bytecode=bytes.fromhex(data["bytecode"][2:]),
                    source_sha256=data["source_sha256"])
