"""Compile the Vyper sources into ``build/<Name>.json`` (ABI, bytecode, source digest, compiler settings).

Run: ``python -m contracts.build`` (``--check`` exits 1 if the committed artifacts differ).
"""

from __future__ import annotations

import hashlib
import json
import sys

from contracts import BUILD_DIR, EVM_VERSION, NAMES, VYPER_VERSION, source_path


def compile_one(name: str) -> dict[str, object]:
    import vyper
    from vyper.compiler.settings import OptimizationLevel, Settings

    if vyper.__version__ != VYPER_VERSION:
        raise SystemExit(f"contracts need vyper {VYPER_VERSION}, found {vyper.__version__}")
    src = source_path(name).read_text()
    out = vyper.compile_code(
        src,
        contract_path=f"{name}.vy",
        output_formats=["abi", "bytecode"],
        settings=Settings(evm_version=EVM_VERSION, optimize=OptimizationLevel.GAS),
    )
    return {
        "contractName": name,
        "compiler": f"vyper-{VYPER_VERSION}",
        "evmVersion": EVM_VERSION,
        "optimize": "gas",
        "source_sha256": hashlib.sha256(src.encode()).hexdigest(),
        "abi": out["abi"],
        "bytecode": out["bytecode"],
    }


def render(data: dict[str, object]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    BUILD_DIR.mkdir(exist_ok=True)
    stale = []
    for name in NAMES:
        text = render(compile_one(name))
        path = BUILD_DIR / f"{name}.json"
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
            size = (len(json.loads(text)["bytecode"]) - 2) // 2
            print(f"{name}: {size} bytes of init code")
    if stale:
        print("stale artifacts: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
