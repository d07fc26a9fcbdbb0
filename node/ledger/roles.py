"""Member roles as the Members contract encodes them (a bit set)."""

from __future__ import annotations

from enum import IntFlag

from node.errors import NodeError

__all__ = ["Role", "parse_roles", "format_roles"]


class Role(IntFlag):
    GOVERNOR = 1
    TNSP = 2
    RESP_ORG = 4
    TN_RESELLER = 8
    VETTER = 16
    OSP = 32


def parse_roles(text: str) -> Role:
    """``"TNSP,OSP"`` (case-insensitive, ``-`` or ``_``) -> ``Role.TNSP | Role.OSP``."""
    roles = Role(0)
    for part in text.split(","):
        name = part.strip().upper().replace("-", "_")
        if not name:
            continue
        if name not in Role.__members__:
            raise NodeError(f"unknown role {part.strip()!r}; roles are {', '.join(Role.__members__)}",
                            code="members.bad_roles")
        roles |= Role[name]
    if not roles:
        raise NodeError("no role given", code="members.bad_roles")
    return roles


def format_roles(value: int) -> str:
    return ",".join(r.name for r in Role if value & r and r.name) or "-"
