"""Error codes: every contract revert reason is a unique namespaced code; docs/errors.md lists every code.

(a) Every ``assert``/``raise`` in ``contracts/src/*.vy`` carries a reason ``"<namespace>: <words>"`` in its
    contract's own namespace; :func:`node.errors.code_from_reason` maps distinct reasons to distinct codes,
    and none of them equals the code of an error class.
(b) ``docs/errors.md`` names (in backticks) every contract code, every error-class code and every code the
    node passes explicitly as ``code="..."``, so the page cannot drift from the code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from node import errors
from node.errors import NodeError, code_from_reason
from node.keystore import KeystoreError

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "contracts" / "src").glob("*.vy"))
DOC = ROOT / "docs" / "errors.md"

NAMESPACE = {"Members": "members", "NumberAuthority": "numbers", "DIDRegistry": "did",
             "CredentialRegistry": "credentials"}
REASON_SHAPE = re.compile(r"^[a-z_]+: [a-z0-9 _/-]+$")

_STATEMENT_START = re.compile(r"^[ \t]*(assert|raise)\b", re.M)
_TRAILING_REASON = re.compile(r'"([^"\\]*)"[ \t]*(?:#[^\n]*)?$')
_STRING = re.compile(r'"[^"\\]*"')
_EXPLICIT_CODE = re.compile(r'\bcode\s*=\s*"([a-z_]+\.[a-z0-9_]+)"|"code":\s*"([a-z_]+\.[a-z0-9_]+)"')


def _statements(source: str) -> list[tuple[int, str]]:
    """Every ``assert``/``raise`` statement and its line number; lines inside open brackets are joined."""
    lines = source.splitlines()
    out = []
    for m in _STATEMENT_START.finditer(source):
        first = source.count("\n", 0, m.start())
        text, depth, i = "", 0, first
        while True:
            line = lines[i]
            text += line.strip() + " "
            code_part = _STRING.sub('""', line).split("#", 1)[0]
            depth += code_part.count("(") + code_part.count("[") - code_part.count(")") - code_part.count("]")
            if depth <= 0 or i + 1 >= len(lines):
                break
            i += 1
        out.append((first + 1, text.strip()))
    return out


def revert_reasons() -> dict[str, list[tuple[str, int, str | None]]]:
    """Contract name -> [(file name, line, reason or None when the statement has no reason string)]."""
    found: dict[str, list[tuple[str, int, str | None]]] = {}
    for path in SOURCES:
        rows = []
        for line_no, stmt in _statements(path.read_text()):
            m = _TRAILING_REASON.search(stmt)
            rows.append((path.name, line_no, m.group(1) if m else None))
        found[path.stem] = rows
    return found


def class_codes() -> dict[str, str]:
    """Error class name -> class-level code, for node/errors.py and the keystore."""
    classes = [getattr(errors, name) for name in errors.__all__]
    classes = [c for c in classes if isinstance(c, type) and issubclass(c, NodeError)] + [KeystoreError]
    return {c.__name__: c.code for c in classes}


def explicit_codes() -> set[str]:
    """Codes the node passes explicitly (``code="x.y"``, or ``"code": "x.y"`` in a problem body) anywhere in
    node/."""
    return {a or b for path in (ROOT / "node").rglob("*.py")
            for a, b in _EXPLICIT_CODE.findall(path.read_text())}


def contract_codes() -> dict[str, set[str]]:
    """Code -> the distinct reasons that produce it."""
    out: dict[str, set[str]] = defaultdict(set)
    for rows in revert_reasons().values():
        for _file, _line, reason in rows:
            if reason is not None:
                out[code_from_reason(reason)].add(reason)
    return out


# ------------------------------------------------------------------------------------------------ (a)


def test_every_contract_is_scanned() -> None:
    assert {p.stem for p in SOURCES} == set(NAMESPACE)
    for name, rows in revert_reasons().items():
        assert len(rows) >= 10, f"{name}: only {len(rows)} assert/raise statements found"


@pytest.mark.parametrize("contract", sorted(NAMESPACE))
def test_reasons_are_namespaced(contract: str) -> None:
    problems = []
    for file, line, reason in revert_reasons()[contract]:
        where = f"{file}:{line}"
        if reason is None:
            problems.append(f"{where}: no revert reason (the node would only see ledger.reverted)")
        elif not REASON_SHAPE.match(reason):
            problems.append(f"{where}: {reason!r} does not match {REASON_SHAPE.pattern}")
        elif reason.split(":", 1)[0] != NAMESPACE[contract]:
            problems.append(f"{where}: {reason!r} is not in the {NAMESPACE[contract]!r} namespace")
        elif code_from_reason(reason) == "ledger.reverted":
            problems.append(f"{where}: {reason!r} does not convert to a code")
    assert not problems, "\n".join(problems)


def test_codes_are_unique() -> None:
    codes = contract_codes()
    clashes = {code: sorted(reasons) for code, reasons in codes.items() if len(reasons) > 1}
    assert not clashes, f"distinct revert reasons map to one code: {clashes}"
    by_contract = {name: {code_from_reason(r) for _f, _l, r in rows if r is not None}
                   for name, rows in revert_reasons().items()}
    names = sorted(by_contract)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = by_contract[a] & by_contract[b]
            assert not shared, f"{a} and {b} share codes {shared}"
    overlap = set(codes) & set(class_codes().values())
    assert not overlap, f"contract codes equal to error-class codes: {overlap}"


def test_conversion_examples() -> None:
    assert code_from_reason("members: not governor") == "members.not_governor"
    assert code_from_reason("numbers: holder not resp org") == "numbers.holder_not_resp_org"
    assert code_from_reason("") == "ledger.reverted"
    assert code_from_reason("not namespaced") == "ledger.reverted"


# ------------------------------------------------------------------------------------------------ (b)


def _documented(code: str, doc: str) -> bool:
    return f"`{code}`" in doc


def test_errors_doc_lists_every_contract_code() -> None:
    doc = DOC.read_text()
    missing = sorted(c for c in contract_codes() if not _documented(c, doc))
    assert not missing, f"docs/errors.md does not list: {missing}"


def test_errors_doc_lists_every_node_code() -> None:
    from did_method import errors as did_errors
    from wallet.errors import CODES as WALLET_CODES

    doc = DOC.read_text()
    did_keywords = {c.code for c in vars(did_errors).values()
                    if isinstance(c, type) and issubclass(c, did_errors.DidError) and c is not did_errors.DidError
                    and c is not did_errors.MultikeyError}
    from wallet.dataintegrity.errors import CODES as VC_CODES
    from wallet.passport.errors import CODES as PASSPORT_CODES

    wanted = set(class_codes().values()) | explicit_codes() | WALLET_CODES | did_keywords | VC_CODES | PASSPORT_CODES
    missing = sorted(c for c in wanted if not _documented(c, doc))
    assert not missing, f"docs/errors.md does not list: {missing}"


def test_errors_doc_lists_no_unknown_code() -> None:
    """Every code in the first column of a table in docs/errors.md still exists."""
    from node.shaken import errors as shaken_errors
    from wallet.dataintegrity.errors import CODES as VC_CODES
    from wallet.errors import CODES as WALLET_CODES
    from wallet.passport.errors import CODES as PASSPORT_CODES

    shaken_codes = {v for k, v in vars(shaken_errors).items() if k.isupper() and isinstance(v, str)
                    and v.startswith("shaken.")}
    from node.attest.reasons import REASONS

    known = (set(contract_codes()) | set(class_codes().values()) | explicit_codes() | WALLET_CODES | VC_CODES
             | PASSPORT_CODES | shaken_codes | set(REASONS))
    listed = re.findall(r"^\| `([a-z_]+\.[a-z0-9_]+)` \|", DOC.read_text(), re.M)
    assert listed, "no code tables found in docs/errors.md"
    stale = sorted(set(listed) - known)
    assert not stale, f"docs/errors.md lists codes the code no longer produces: {stale}"


def test_errors_doc_lists_every_attestation_reason() -> None:
    from node.attest.reasons import REASONS

    text = DOC.read_text()
    missing = [code for code in REASONS if f"`{code}`" not in text]
    assert not missing, f"docs/errors.md does not list the attestation reasons {missing}"
