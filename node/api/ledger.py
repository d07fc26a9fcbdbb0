"""Read-only REST views of the node's index: credentials by id / holder / issuer, the live chains for a
number, and the credentials the node refused at sync.

Everything comes from the node's own SQLite index (a read-only connection) and the in-memory TN index,
rebuilt when the index has advanced. Bad input is a 400/404 RFC 9457 problem, never a 500.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from did_method.errors import DidError
from did_method.syntax import format_did, parse_did
from node.api.status import StatusIssuer, status_indexes, status_list_credential
from node.ledger.records import Kind, Status, credential_key
from node.statuslist import status_list_entry
from node.tnindex import TNIndex, build_from_db

__all__ = ["ledger_router", "IndexView"]

PROBLEM = "application/problem+json"


def _problem(status: int, code: str, detail: str, instance: str) -> JSONResponse:
    return JSONResponse({"type": f"https://eidln.example/problems/{code}", "title": code, "status": status,
                         "detail": detail, "instance": instance}, status_code=status, media_type=PROBLEM)


class IndexView:
    """The index file read-only, plus a TN index rebuilt when the synced block moves."""

    def __init__(self, index_path: Path, *, network: str, clock: Callable[[], float] = time.time,
                 status_issuer: StatusIssuer | None = None) -> None:
        self.db = sqlite3.connect(f"file:{index_path}?mode=ro", uri=True, check_same_thread=False)
        self.network = network
        self.clock = clock
        self.status_issuer = status_issuer
        self._lock = threading.Lock()
        self._tn: TNIndex | None = None
        self._pos: tuple[int, ...] | None = None  # the last event (block, log_index) the TN index reflects
        self.rebuilds = 0

    @property
    def lock(self) -> threading.Lock:
        return self._lock

    def rows_status(self) -> list[tuple[bytes, int]]:
        with self._lock:
            return status_indexes(self.db)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.db.execute(sql, params).fetchall()

    def tn_index(self) -> TNIndex:
        """The TN index, brought up to date with the events synced since the last call (incrementally:
        number holdings and accepted credentials only; rejected ones are skipped). A reorg, or anything the
        incremental path cannot apply, rebuilds it from the index tables."""
        with self._lock:
            last = self.db.execute("SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC "
                                   "LIMIT 1").fetchone()
            if self._tn is None or self._pos is None or self._reorged(last):
                return self._rebuild(last)
            rows = self.db.execute("SELECT block, log_index, contract, name, args FROM events WHERE (block, log_index) "
                                   "> (?, ?) AND contract IN ('NumberAuthority', 'CredentialRegistry') "
                                   "ORDER BY block, log_index", self._pos).fetchall()
            try:
                for block, log_index, contract, name, args in rows:
                    a = json.loads(args)
                    if contract == "CredentialRegistry" and self._rejected(a["id"]):
                        continue
                    self._tn.apply_event({"contract": contract, "name": name, "args": a})
                    self._pos = (block, log_index)
            except Exception:  # an event the index cannot take incrementally (e.g. a parent it never saw)
                return self._rebuild(last)
            if last is not None:
                self._pos = tuple(last)
            return self._tn

    def _reorged(self, last: Any) -> bool:
        """The events the TN index reflects are no longer all in the index file (a reorg was undone)."""
        assert self._pos is not None
        if self._pos == (-1, -1):
            return False
        if last is None or tuple(last) < self._pos:
            return True
        return self.db.execute("SELECT 1 FROM events WHERE (block, log_index) = (?, ?)", self._pos).fetchone() is None

    def _rejected(self, hex_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM rejected_credentials WHERE id = ?",
                               (bytes.fromhex(hex_id[2:]),)).fetchone() is not None

    def _rebuild(self, last: Any) -> TNIndex:
        self._tn = build_from_db(self.db)
        self._pos = tuple(last) if last is not None else (-1, -1)
        self.rebuilds += 1
        return self._tn

    def credential(self, r: tuple[Any, ...]) -> dict[str, Any]:
        cid, kind, issuer, subject, status, tns, cred, block = r
        return {"id": json.loads(bytes(cred)).get("id"), "key": "0x" + bytes(cid).hex(), "kind": Kind(kind).name,
                "issuer": format_did(self.network, bytes(issuer)), "subject": format_did(self.network, bytes(subject)),
                "status": Status(status).name.lower(), "anchoredBlock": block,
                "tnAuthList": [{"start": str(s), "count": c} for s, c in json.loads(tns)],
                "credential": json.loads(bytes(cred))}


_COLS = "id, kind, issuer, subject, status, tns, credential, anchored_block"


def ledger_router(view: IndexView) -> APIRouter:
    r = APIRouter(prefix="/v1")

    @r.get("/credentials/{credential_id:path}", summary="One credential by its id (URI) or registry key (0x…)")
    def one(credential_id: str) -> JSONResponse:
        instance = f"/v1/credentials/{credential_id}"
        try:
            key = bytes.fromhex(credential_id[2:]) if credential_id.startswith("0x") else credential_key(credential_id)
        except ValueError:
            return _problem(400, "credentials.bad_id", "a credential key is 0x followed by 64 hex digits", instance)
        if len(key) != 32:
            return _problem(400, "credentials.bad_id", "a credential key is 32 bytes", instance)
        rows = view.rows(f"SELECT {_COLS} FROM credentials WHERE id = ?", (key,))
        if rows:
            body = view.credential(rows[0])
            if view.status_issuer is not None:
                index = [k for k, _ in view.rows_status()].index(key)
                body["credentialStatus"] = [
                    status_list_entry(list_url=f"{view.status_issuer.base_url}/v1/status/{p}", index=index, purpose=p)
                    for p in ("revocation", "suspension")]
            return JSONResponse(body)
        rejected = view.rows("SELECT code, message FROM rejected_credentials WHERE id = ?", (key,))
        if rejected:
            return _problem(409, "credentials.rejected", f"the node refused this credential at sync: "
                            f"{rejected[0][0]}: {rejected[0][1]}", instance)
        return _problem(404, "credentials.not_found", "no such credential in this node's index", instance)

    @r.get("/credentials", summary="Credentials by holder or issuer DID")
    def many(holder: str | None = Query(None), issuer: str | None = Query(None)) -> JSONResponse:
        if (holder is None) == (issuer is None):
            return _problem(400, "credentials.bad_query", "give exactly one of holder or issuer", "/v1/credentials")
        try:
            ident = parse_did(holder or issuer or "").ident
        except DidError as exc:
            return _problem(400, "credentials.bad_query", exc.message, "/v1/credentials")
        column = "subject" if holder else "issuer"
        rows = view.rows(f"SELECT {_COLS} FROM credentials WHERE {column} = ? ORDER BY anchored_block", (ident,))
        return JSONResponse([view.credential(x) for x in rows])

    @r.get("/tn/{number}/chains", summary="The live chains that cover a number now")
    def chains(number: str) -> JSONResponse:
        digits = number.removeprefix("+")
        if not digits.isdigit() or not 7 <= len(digits) <= 15:
            return _problem(400, "numbers.bad_number", f"{number!r} is not an E.164 number", f"/v1/tn/{number}/chains")
        found = view.tn_index().chains(int(digits), now=int(view.clock()))
        return JSONResponse({"tn": digits, "chains": [
            {"subject": format_did(view.network, ch.leaf.subject), "mayOriginate": ch.may_originate,
             "links": ["0x" + c.id.hex() for c in ch.links]} for ch in found]})

    @r.get("/status/{purpose}", summary="The signed Bitstring Status List credential (revocation or suspension)")
    def status(purpose: str) -> JSONResponse:
        instance = f"/v1/status/{purpose}"
        if purpose not in ("revocation", "suspension"):
            return _problem(404, "status.unknown_purpose", "the lists are revocation and suspension", instance)
        if view.status_issuer is None:
            return _problem(404, "status.not_configured", "this node publishes no status list (no EIDLN_STATUS_DID)",
                            instance)
        with view.lock:
            body = status_list_credential(view.db, view.status_issuer, purpose, clock=view.clock)
        return JSONResponse(body, media_type="application/vc")

    @r.get("/rejected", summary="Credentials refused at sync, with the reason")
    def rejected() -> JSONResponse:
        rows = view.rows("SELECT id, block, code, message FROM rejected_credentials ORDER BY block")
        return JSONResponse([{"key": "0x" + bytes(i).hex(), "block": b, "code": c, "message": m}
                             for i, b, c, m in rows])

    return r
