"""Apply one accepted contract event to the derived tables (one handler per event, a fixed lifecycle).

Handlers are deterministic functions of (event, current derived state): replaying the ``events`` table from
empty rebuilds every derived table exactly. Each returns the :mod:`node.sync.changes` value it made (or None), so
that the in-memory readers take the very same change instead of re-deriving it. They mirror the contracts'
effects; the contracts enforce the rules, so an event that contradicts the local state (which would mean a bug or a
forged chain) raises :class:`node.errors.StoreError` and the whole batch is rolled back rather than half-applied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from contracts.vocab import Kind
from node.errors import StoreError
from node.sync.changes import Anchored, Change, DidChanged, MembersChanged, StatusSet, holding, unhex
from wallet.credentials import role_of_anchored

__all__ = ["apply_event", "HANDLERS"]

Handler = Callable[[sqlite3.Connection, dict[str, Any]], Change | None]
HANDLERS: dict[tuple[str, str], Handler] = {}

_PROPOSAL_STATES = {"ProposalExecuted": "executed", "ProposalCancelled": "cancelled"}
_STATUS = {1: "active", 2: "revoked", 3: "suspended"}


def handles(contract: str, name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[(contract, name)] = fn
        return fn

    return register


Checker = Callable[[sqlite3.Connection, Mapping[str, Any]], Any]


def apply_event(db: sqlite3.Connection, ev: dict[str, Any], *, check: Checker | None = None) -> Change | None:
    """Apply one event; the change it made (None for history-only events and refused credentials). ``check``
    re-verifies anchored credentials (node.sync.verify); a credential it rejects goes to ``rejected_credentials``
    with the reason instead of ``credentials``."""
    if check is not None and (ev["contract"], ev["name"]) == ("CredentialRegistry", "CredentialAnchored"):
        rejection = check(db, ev)
        if rejection is not None:
            a = ev["args"]
            db.execute("INSERT INTO rejected_credentials (id, block, log_index, code, message, status, credential) "
                       "VALUES (?, ?, ?, ?, ?, 1, ?)", (unhex(a["id"]), ev["block"], ev["log_index"], rejection.code,
                                                         rejection.message, unhex(a["credential"])))
            return None
    handler = HANDLERS.get((ev["contract"], ev["name"]))
    if handler is None:  # events that only matter as history (e.g. SystemBound) have no table
        return None
    return handler(db, ev)




# ---------------------------------------------------------------- Members


@handles("Members", "MemberAdmitted")
def _admitted(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    a = ev["args"]
    db.execute("INSERT INTO members (account, roles, spc, name, since_block) VALUES (?, ?, ?, ?, ?)",
               (a["account"], a["roles"], a["spc"], a["name"], ev["block"]))
    db.execute("DELETE FROM onboarded WHERE account = ?", (a["account"],))
    return MembersChanged()


@handles("Members", "RolesChanged")
def _roles_changed(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    a = ev["args"]
    cur = db.execute("UPDATE members SET roles = ? WHERE account = ?", (a["new_roles"], a["account"]))
    if cur.rowcount != 1:
        raise StoreError(f"RolesChanged for unknown member {a['account']}", code="store.inconsistent")
    return MembersChanged()


@handles("Members", "MemberRemoved")
def _removed(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    db.execute("DELETE FROM members WHERE account = ?", (ev["args"]["account"],))
    return MembersChanged()


@handles("Members", "ThresholdChanged")
def _threshold(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES ('threshold', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(ev["args"]["new_threshold"]),))


@handles("Members", "ProposalCreated")
def _proposal(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO proposals (id, proposer, target, calldata, deadline, votes, state, created_block) "
               "VALUES (?, ?, ?, ?, ?, 0, 'open', ?)",
               (a["proposal_id"], a["proposer"], a["target"], unhex(a["calldata"]), a["deadline"], ev["block"]))


@handles("Members", "Voted")
def _voted(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO votes (proposal_id, voter, block) VALUES (?, ?, ?)",
               (a["proposal_id"], a["voter"], ev["block"]))
    db.execute("UPDATE proposals SET votes = ? WHERE id = ?", (a["votes"], a["proposal_id"]))


def _proposal_state(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    db.execute("UPDATE proposals SET state = ? WHERE id = ?",
               (_PROPOSAL_STATES[ev["name"]], ev["args"]["proposal_id"]))


HANDLERS[("Members", "ProposalExecuted")] = _proposal_state
HANDLERS[("Members", "ProposalCancelled")] = _proposal_state


@handles("Members", "AccountOnboarded")
def _onboarded(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO onboarded (account, endorser, kind, since_block) VALUES (?, ?, ?, ?)",
               (a["account"], a["endorser"], a["kind"], ev["block"]))


@handles("Members", "AccountOffboarded")
def _offboarded(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    db.execute("DELETE FROM onboarded WHERE account = ?", (ev["args"]["account"],))


# ---------------------------------------------------------------- NumberAuthority


def _holding(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    """BlocksAssigned, NumbersAssigned, NumbersPorted: the one holdings rule (:func:`node.sync.changes.holding`)."""
    h = holding(ev["name"], ev["args"], has_single=lambda start, end: db.execute(
        "SELECT 1 FROM numbers WHERE tn >= ? AND tn < ? LIMIT 1", (start, end)).fetchone() is not None)
    if ev["name"] == "NumbersPorted":
        a = ev["args"]
        db.execute("INSERT INTO ports (block, log_index, start, count, from_holder, to_holder, epoch) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (ev["block"], ev["log_index"], h.start, h.count, a["from_holder"], h.holder, h.since))
    # an assignment inserts (assigning held numbers again would be an inconsistent chain: the insert fails and the
    # batch rolls back); a port replaces
    ported = ev["name"] == "NumbersPorted"
    if h.blocks:
        db.executemany("UPDATE number_blocks SET holder = ?, since = ? WHERE block = ?" if ported else
                       "INSERT INTO number_blocks (holder, since, block) VALUES (?, ?, ?)",
                       [(h.holder, h.since, b) for b in h.block_numbers()])
    else:
        db.executemany("INSERT INTO numbers (tn, holder, since) VALUES (?, ?, ?)" + (
            " ON CONFLICT(tn) DO UPDATE SET holder = excluded.holder, since = excluded.since" if ported else ""),
            [(tn, h.holder, h.since) for tn in h.numbers()])
    return h


for _name in ("BlocksAssigned", "NumbersAssigned", "NumbersPorted"):
    HANDLERS[("NumberAuthority", _name)] = _holding


# ---------------------------------------------------------------- DIDRegistry


def _did_history(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    """Every DID change, keyed by DID, in chain order: what resolution (at any version) replays."""
    ident = unhex(ev["args"]["did"])
    db.execute("INSERT INTO did_changes (did, block, log_index, timestamp, name, args) VALUES (?, ?, ?, ?, ?, ?)",
               (ident, ev["block"], ev["log_index"], ev["timestamp"], ev["name"],
                json.dumps(ev["args"], sort_keys=True)))
    return DidChanged(ident)


@handles("DIDRegistry", "DIDCreated")
def _did_created(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    a = ev["args"]
    db.execute("INSERT INTO dids (did, controller, deactivated, created_block, updated_block) VALUES (?, ?, 0, ?, ?)",
               (unhex(a["did"]), a["controller"], ev["block"], ev["block"]))
    return _did_history(db, ev)


def _did_touched(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    cur = db.execute("UPDATE dids SET updated_block = ? WHERE did = ?", (ev["block"], unhex(ev["args"]["did"])))
    if cur.rowcount != 1:
        raise StoreError(f"{ev['name']} for unknown DID {ev['args']['did']}", code="store.inconsistent")
    return _did_history(db, ev)


for _name in ("KeyAdded", "KeyRevoked", "ServiceSet", "ServiceRemoved"):
    HANDLERS[("DIDRegistry", _name)] = _did_touched


@handles("DIDRegistry", "ControllerChanged")
def _controller(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    change = _did_touched(db, ev)
    db.execute("UPDATE dids SET controller = ? WHERE did = ?", (ev["args"]["controller"], unhex(ev["args"]["did"])))
    return change


@handles("DIDRegistry", "DIDDeactivated")
def _deactivated(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    change = _did_touched(db, ev)
    db.execute("UPDATE dids SET deactivated = 1 WHERE did = ?", (unhex(ev["args"]["did"]),))
    return change


# ---------------------------------------------------------------- CredentialRegistry


@handles("CredentialRegistry", "CredentialAnchored")
def _anchored(db: sqlite3.Connection, ev: dict[str, Any]) -> Change:
    a = ev["args"]
    credential = unhex(a["credential"])
    change = Anchored.from_event(a, role=role_of_anchored(credential, a["kind"]))
    db.execute(
        "INSERT INTO credentials (id, kind, issuer, subject, parent, flags, depth, valid_from, valid_until, "
        "root_holder, root_since, status, tns, credential, anchored_block, anchored_at, role) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
        (change.id, change.kind, change.issuer, change.subject, change.parent, change.flags, change.depth,
         change.valid_from, change.valid_until, change.root_holder, change.root_since,
         json.dumps([list(r) for r in change.tns]), credential, ev["block"], ev["timestamp"], change.role))
    return change


@handles("CredentialRegistry", "StatusChanged")
def _status(db: sqlite3.Connection, ev: dict[str, Any]) -> Change | None:
    a = ev["args"]
    if a["new_status"] not in _STATUS:
        raise StoreError(f"unknown credential status {a['new_status']}", code="store.inconsistent")
    ident = unhex(a["id"])
    row = db.execute("UPDATE credentials SET status = ? WHERE id = ? RETURNING kind, subject",
                     (a["new_status"], ident)).fetchone()
    if row is not None:
        return StatusSet(ident, Kind(row[0]), bytes(row[1]), a["new_status"])
    cur = db.execute("UPDATE rejected_credentials SET status = ? WHERE id = ?", (a["new_status"], ident))
    if cur.rowcount != 1:
        raise StoreError(f"StatusChanged for unknown credential {a['id']}", code="store.inconsistent")
    return None  # a credential this node refused: nobody reads it as live
