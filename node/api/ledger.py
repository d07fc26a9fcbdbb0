"""Read-only REST views of the node's index: credentials by id / holder / issuer, the live chains for a
number, and the credentials the node refused at sync.

Everything comes from the node's own SQLite index (a read-only connection) and the in-memory TN index,
rebuilt when the index has advanced. Bad input is a 400/404 RFC 9457 problem (a coded error the app's handler
answers, :mod:`node.api.errors`), never a 500.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from contracts.vocab import credential_key, parse_tn
from did_method.errors import DidError
from did_method.syntax import format_did, parse_did
from node.api.errors import ApiError
from node.api.status import status_list_credential
from node.statuslist import status_list_entry
from node.sync.indexview import IndexView

__all__ = ["ledger_router", "IndexView"]



def ledger_router(view: IndexView) -> APIRouter:
    r = APIRouter(prefix="/v1")

    @r.get("/credentials/{credential_id:path}", summary="One credential by its id (URI) or registry key (0x…)")
    def one(credential_id: str) -> JSONResponse:
        try:
            key = bytes.fromhex(credential_id[2:]) if credential_id.startswith("0x") else credential_key(credential_id)
        except ValueError:
            raise ApiError("a credential key is 0x followed by 64 hex digits", code="credentials.bad_id") from None
        if len(key) != 32:
            raise ApiError("a credential key is 32 bytes", code="credentials.bad_id")
        row = view.read(lambda q: q.credential(key))
        if row is not None:
            body = view.credential(row)
            if view.status_issuer is not None:
                index = [k for k, _ in view.rows_status()].index(key)
                body["credentialStatus"] = [
                    status_list_entry(list_url=f"{view.status_issuer.base_url}/v1/status/{p}", index=index, purpose=p)
                    for p in ("revocation", "suspension")]
            return JSONResponse(body)
        rejected = view.read(lambda q: q.rejection(key))
        if rejected is not None:
            raise ApiError(f"the node refused this credential at sync: {rejected[0]}: {rejected[1]}",
                           code="credentials.rejected")
        raise ApiError("no such credential in this node's index", code="credentials.not_found")

    @r.get("/credentials", summary="Credentials by holder or issuer DID")
    def many(holder: str | None = Query(None), issuer: str | None = Query(None)) -> JSONResponse:
        if (holder is None) == (issuer is None):
            raise ApiError("give exactly one of holder or issuer", code="credentials.bad_query")
        try:
            ident = parse_did(holder or issuer or "").ident
        except DidError as exc:  # a bad query parameter of this route (400), not a resolution (a 501 for did:web)
            raise ApiError(exc.message, code="credentials.bad_query") from None
        column = "subject" if holder else "issuer"
        rows = view.read(lambda q: q.credentials_by(column, ident))
        return JSONResponse([view.credential(x) for x in rows])

    @r.get("/tn/{number}/chains", summary="The live chains that cover a number now")
    def chains(number: str) -> JSONResponse:
        tn = parse_tn(number)  # numbers.bad_number (400) goes to the app's handler as raised
        found = view.tn_index().chains(tn, now=int(view.clock()))
        return JSONResponse({"tn": str(tn), "chains": [
            {"subject": format_did(view.network, ch.leaf.subject), "mayOriginate": ch.may_originate,
             "links": ["0x" + c.id.hex() for c in ch.links]} for ch in found]})

    @r.get("/status/{purpose}", summary="The signed Bitstring Status List credential (revocation or suspension)")
    def status(purpose: str) -> JSONResponse:
        if purpose not in ("revocation", "suspension"):
            raise ApiError("the lists are revocation and suspension", code="status.unknown_purpose")
        if view.status_issuer is None:
            raise ApiError("this node publishes no status list (no EIDLN_STATUS_DID)", code="status.not_configured")
        with view.lock:
            body = status_list_credential(view.reader, view.status_issuer, purpose, clock=view.clock)
        return JSONResponse(body, media_type="application/vc")

    @r.get("/rejected", summary="Credentials refused at sync, with the reason")
    def rejected() -> JSONResponse:
        rows = view.read(lambda q: q.rejections())
        return JSONResponse([{"key": "0x" + bytes(i).hex(), "block": b, "code": c, "message": m}
                             for i, b, c, m in rows])

    return r
