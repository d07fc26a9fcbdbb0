"""The committed artifacts are exactly what the committed sources compile to, and fit EIP-170.

Compiling is the slow part (about 1.5 s a contract), so each contract is compiled once per run, and only in the
full tier (``make test``, which CI runs): the same check as ``python -m contracts.build --check``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
import vyper
from vyper.compiler.settings import OptimizationLevel

from contracts import BUILD_DIR, EVM_VERSION, NAMES, artifact, source_path
from contracts.build import compile_one, render


@dataclass(frozen=True)
class Built:
    artifact: str  # render(compile_one(name)): what ``python -m contracts.build`` writes
    runtime_size: int  # bytes of runtime code, from the same compilation


@pytest.fixture(scope="module")
def built() -> dict[str, Built]:
    """Every contract compiled once, by ``contracts.build.compile_one``. The compiler is asked for the runtime code
    too (``bytecode_runtime``) in that same compilation, with the settings checked (cancun, optimized for gas), so
    the EIP-170 test measures the very code of the artifact; ``compile_one`` sees exactly the output it asked for."""
    real = vyper.compile_code
    runtime: list[str] = []

    def compile_code(*args: Any, **kwargs: Any) -> dict[str, Any]:
        settings = kwargs["settings"]
        assert (settings.evm_version, settings.optimize) == (EVM_VERSION, OptimizationLevel.GAS)
        out = dict(real(*args, **{**kwargs, "output_formats": [*kwargs["output_formats"], "bytecode_runtime"]}))
        runtime.append(out.pop("bytecode_runtime"))
        return out

    result = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(vyper, "compile_code", compile_code)
        for name in NAMES:
            text = render(compile_one(name))
            (code,) = runtime  # one compilation
            runtime.clear()
            result[name] = Built(text, (len(code) - 2) // 2)
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_recompiling_reproduces_the_artifact(built: dict[str, Built], name: str) -> None:
    assert built[name].artifact == (BUILD_DIR / f"{name}.json").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_runtime_code_fits_eip170(built: dict[str, Built], name: str) -> None:
    assert 0 < built[name].runtime_size <= 24576


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
