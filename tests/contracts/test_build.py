"""The committed artifacts are exactly what the committed sources compile to, and fit EIP-170."""

from __future__ import annotations

import json

import pytest
import vyper
from vyper.compiler.settings import OptimizationLevel, Settings

from contracts import BUILD_DIR, EVM_VERSION, NAMES, artifact, source_path
from contracts.build import compile_one, render


@pytest.mark.parametrize("name", NAMES)
def test_recompiling_reproduces_the_artifact(name: str) -> None:
    assert render(compile_one(name)) == (BUILD_DIR / f"{name}.json").read_text()


@pytest.mark.parametrize("name", NAMES)
def test_runtime_code_fits_eip170(name: str) -> None:
    out = vyper.compile_code(source_path(name).read_text(), output_formats=["bytecode_runtime"],
                             settings=Settings(evm_version=EVM_VERSION, optimize=OptimizationLevel.GAS))
    assert (len(out["bytecode_runtime"]) - 2) // 2 <= 24576


def test_every_external_function_has_natspec() -> None:
    for name in NAMES:
        data = json.loads((BUILD_DIR / f"{name}.json").read_text())
        assert data["evmVersion"] == "cancun" and data["compiler"] == "vyper-0.4.3"
        src = source_path(name).read_text()
        blocks = src.split("@external")[1:]
        for block in blocks:
            header, _, body = block.partition(":\n")
            assert body.lstrip().startswith('"""'), f"{name}: no NatSpec for {header.strip()}"
    assert artifact("Members").abi
