"""Feed a TN index with contract events the way the node's pipeline does: each event becomes the
:mod:`node.sync.changes` value the sync computes for it (the one holdings rule, the anchored record), and the index
applies that change. For tests that drive a :class:`TNIndex` without a SQLite index behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from node.sync.changes import Anchored, Change, StatusSet, holding
from node.tnindex import TNIndex
from wallet.credentials import role_of_anchored


def changes_of(index: TNIndex, ev: Mapping[str, Any]) -> list[Change]:
    name, a = ev["name"], ev["args"]
    if ev["contract"] == "NumberAuthority" and name in ("BlocksAssigned", "NumbersAssigned", "NumbersPorted"):
        singles = index.single_numbers()
        return [holding(name, a, has_single=lambda start, end: any(start <= tn < end for tn in singles))]
    if (ev["contract"], name) == ("CredentialRegistry", "CredentialAnchored"):
        role = role_of_anchored(bytes.fromhex(a["credential"][2:]), a["kind"]) if "credential" in a else ""
        return [Anchored.from_event(a, role=role)]
    if (ev["contract"], name) == ("CredentialRegistry", "StatusChanged"):
        ident = bytes.fromhex(a["id"][2:])
        known = index.get(ident)
        return [StatusSet(ident, int(known.kind) if known else 0, known.subject if known else b"", a["new_status"])]
    return []


def feed(index: TNIndex, events: Iterable[Mapping[str, Any]]) -> TNIndex:
    for ev in events:
        for change in changes_of(index, ev):
            index.apply(change)
    return index
