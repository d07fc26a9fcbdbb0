"""The one JSON reader for request bodies: duplicate member names and NaN / Infinity are errors, not silently
resolved (the last duplicate would otherwise win, and two parsers could read one body two ways)."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key[:40]!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicates, parse_constant=_no_constant)


def loads(raw: bytes | str) -> Any:
    """Parse strict JSON; ``ValueError`` (with a short reason) for anything else, including bad UTF-8 and nesting
    too deep for the parser."""
    try:
        return _DECODER.decode(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise ValueError("nested too deeply") from None
