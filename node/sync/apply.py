"""Apply one accepted contract event to the derived tables (one handler per event, a fixed lifecycle).

Handlers are deterministic functions of (event, current derived state): replaying the ``events`` table from
empty rebuilds every derived table exactly. They mirror the contracts' effects; the contracts enforce the
rules, so an event that contradicts the local state (which would mean a bug or a forged chain) raises
:class:`node.errors.StoreError` and the whole batch is rolled back rather than half-applied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from node.errors import StoreError
from wallet.credentials import role_of_anchored

__all__ = ["apply_event", "HANDLERS"]

Handler = Callable[[sqlite3.Connection, dict[str, Any]], None]
HANDLERS: dict[tuple[str, str], Handler] = {}

_PROPOSAL_STATES = {"ProposalExecuted": "executed", "ProposalCancelled": "cancelled"}
_STATUS = {1: "active", 2: "revoked", 3: "suspended"}


def handles(contract: str, name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[(contract, name)] = fn
        return fn

    return register


Checker = Callable[[sqlite3.Connection, Mapping[str, Any]], Any]


def apply_event(db: sqlite3.Connection, ev: dict[str, Any], *, check: Checker | None = None) -> None:
    """Apply one event. ``check`` re-verifies anchored credentials (node.sync.verify); a credential it
    rejects goes to ``rejected_credentials`` with the reason instead of ``credentials``."""
    if check is not None and (ev["contract"], ev["name"]) == ("CredentialRegistry", "CredentialAnchored"):
        rejection = check(db, ev)
        if rejection is not None:
            a = ev["args"]
            db.execute("INSERT INTO rejected_credentials (id, block, log_index, code, message, status, credential) "
                       "VALUES (?, ?, ?, ?, ?, 1, ?)", (_hex(a["id"]), ev["block"], ev["log_index"], rejection.code,
                                                         rejection.message, _hex(a["credential"])))
            return
    handler = HANDLERS.get((ev["contract"], ev["name"]))
    if handler is not None:  # events that only matter as history (e.g. SystemBound) have no table
        handler(db, ev)


def _hex(v: str) -> bytes:
    return bytes.fromhex(v[2:])


# ---------------------------------------------------------------- Members


@handles("Members", "MemberAdmitted")
def _admitted(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO members (account, roles, spc, name, since_block) VALUES (?, ?, ?, ?, ?)",
               (a["account"], a["roles"], a["spc"], a["name"], ev["block"]))
    db.execute("DELETE FROM onboarded WHERE account = ?", (a["account"],))


@handles("Members", "RolesChanged")
def _roles_changed(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    cur = db.execute("UPDATE members SET roles = ? WHERE account = ?", (a["new_roles"], a["account"]))
    if cur.rowcount != 1:
        raise StoreError(f"RolesChanged for unknown member {a['account']}", code="store.inconsistent")


@handles("Members", "MemberRemoved")
def _removed(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    db.execute("DELETE FROM members WHERE account = ?", (ev["args"]["account"],))


@handles("Members", "ThresholdChanged")
def _threshold(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    db.execute("INSERT INTO meta (key, value) VALUES ('threshold', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (str(ev["args"]["new_threshold"]),))


@handles("Members", "ProposalCreated")
def _proposal(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO proposals (id, proposer, target, calldata, deadline, votes, state, created_block) "
               "VALUES (?, ?, ?, ?, ?, 0, 'open', ?)",
               (a["proposal_id"], a["proposer"], a["target"], _hex(a["calldata"]), a["deadline"], ev["block"]))


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


@handles("NumberAuthority", "BlocksAssigned")
def _blocks(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    first = a["start"] // 1000
    db.executemany("INSERT INTO number_blocks (block, holder, since) VALUES (?, ?, ?)",
                   [(first + i, a["holder"], a["epoch"]) for i in range(a["count"] // 1000)])


@handles("NumberAuthority", "NumbersAssigned")
def _numbers(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.executemany("INSERT INTO numbers (tn, holder, since) VALUES (?, ?, ?)",
                   [(a["start"] + i, a["holder"], a["epoch"]) for i in range(a["count"])])


@handles("NumberAuthority", "NumbersPorted")
def _ported(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    start, count, ts = a["start"], a["count"], a["epoch"]
    db.execute("INSERT INTO ports (block, log_index, start, count, from_holder, to_holder, epoch) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)",
               (ev["block"], ev["log_index"], start, count, a["from_holder"], a["to_holder"], ts))
    first, nblocks = start // 1000, count // 1000
    whole = start % 1000 == 0 and count % 1000 == 0 and not db.execute(
        "SELECT 1 FROM numbers WHERE tn >= ? AND tn < ? LIMIT 1", (start, start + count)).fetchone()
    if whole:  # the contract moved whole blocks
        db.executemany("UPDATE number_blocks SET holder = ?, since = ? WHERE block = ?",
                       [(a["to_holder"], ts, first + i) for i in range(nblocks)])
    else:
        db.executemany("INSERT INTO numbers (tn, holder, since) VALUES (?, ?, ?) "
                       "ON CONFLICT(tn) DO UPDATE SET holder = excluded.holder, since = excluded.since",
                       [(start + i, a["to_holder"], ts) for i in range(count)])


# ---------------------------------------------------------------- DIDRegistry


def _did_history(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    """Every DID change, keyed by DID, in chain order: what resolution (at any version) replays."""
    db.execute("INSERT INTO did_changes (did, block, log_index, timestamp, name, args) VALUES (?, ?, ?, ?, ?, ?)",
               (_hex(ev["args"]["did"]), ev["block"], ev["log_index"], ev["timestamp"], ev["name"],
                json.dumps(ev["args"], sort_keys=True)))


@handles("DIDRegistry", "DIDCreated")
def _did_created(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    db.execute("INSERT INTO dids (did, controller, deactivated, created_block, updated_block) VALUES (?, ?, 0, ?, ?)",
               (_hex(a["did"]), a["controller"], ev["block"], ev["block"]))
    _did_history(db, ev)


def _did_touched(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    cur = db.execute("UPDATE dids SET updated_block = ? WHERE did = ?", (ev["block"], _hex(ev["args"]["did"])))
    if cur.rowcount != 1:
        raise StoreError(f"{ev['name']} for unknown DID {ev['args']['did']}", code="store.inconsistent")
    _did_history(db, ev)


for _name in ("KeyAdded", "KeyRevoked", "ServiceSet", "ServiceRemoved"):
    HANDLERS[("DIDRegistry", _name)] = _did_touched


@handles("DIDRegistry", "ControllerChanged")
def _controller(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    _did_touched(db, ev)
    db.execute("UPDATE dids SET controller = ? WHERE did = ?", (ev["args"]["controller"], _hex(ev["args"]["did"])))


@handles("DIDRegistry", "DIDDeactivated")
def _deactivated(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    _did_touched(db, ev)
    db.execute("UPDATE dids SET deactivated = 1 WHERE did = ?", (_hex(ev["args"]["did"]),))


# ---------------------------------------------------------------- CredentialRegistry


@handles("CredentialRegistry", "CredentialAnchored")
def _anchored(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    credential = _hex(a["credential"])
    db.execute(
        "INSERT INTO credentials (id, kind, issuer, subject, parent, flags, depth, valid_from, valid_until, "
        "root_holder, root_since, status, tns, credential, anchored_block, anchored_at, role) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
        (_hex(a["id"]), a["kind"], _hex(a["issuer"]), _hex(a["subject"]), _hex(a["parent"]), a["flags"],
         a["depth"], a["valid_from"], a["valid_until"], a["root_holder"], a["root_since"],
         json.dumps([[r["start"], r["count"]] for r in a["tns"]]), credential, ev["block"],
         ev["timestamp"], role_of_anchored(credential, a["kind"])))


@handles("CredentialRegistry", "StatusChanged")
def _status(db: sqlite3.Connection, ev: dict[str, Any]) -> None:
    a = ev["args"]
    if a["new_status"] not in _STATUS:
        raise StoreError(f"unknown credential status {a['new_status']}", code="store.inconsistent")
    cur = db.execute("UPDATE credentials SET status = ? WHERE id = ?", (a["new_status"], _hex(a["id"])))
    if cur.rowcount != 1:
        cur = db.execute("UPDATE rejected_credentials SET status = ? WHERE id = ?", (a["new_status"], _hex(a["id"])))
    if cur.rowcount != 1:
        raise StoreError(f"StatusChanged for unknown credential {a['id']}", code="store.inconsistent")
