"""Read-only REST views of the node's index: credentials by id / holder / issuer, the live chains for a
number, and the credentials the node refused at sync.

Everything comes from the node's own SQLite index (a read-only connection) and the in-memory TN index,
rebuilt when the index has advanced. Bad input is a 400/404 RFC 9457 problem, never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from contracts.vocab import credential_key
from did_method.errors import DidError
from did_method.syntax import format_did, parse_did
from node.api.status import status_list_credential
from node.statuslist import status_list_entry
from node.sync.indexview import IndexView

__all__ = ["ledger_router", "IndexView"]

PROBLEM = "application/problem+json"


def _problem(status: int, code: str, detail: str, instance: str) -> JSONResponse:
    return JSONResponse({"type": f"https://eidln.example/problems/{code}", "title": code, "status": status,
                         "detail": detail, "instance": instance}, status_code=status, media_type=PROBLEM)


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
