"""The one reader of the node's index database (``index.sqlite``): every query any part of the node makes of it.

The writer side is :mod:`node.sync.store` (schema, transactions, meta) with :mod:`node.sync.apply` and
:mod:`node.sync.follower` (events and derived tables). Everything else reads through :class:`IndexReader`, on
whichever connection it holds: a read-only one (the REST views, the DID history, the OSP's snapshot, the CLI) or the
sync transaction's own (the credential checks of :mod:`node.sync.verify`, which must see the batch being applied).
A table or column renamed is then changed here and in the writer, nowhere else.

Rows are returned as the tables hold them (bytes ids, JSON text where the table keeps JSON); callers shape them.
The reader takes no lock: a connection shared between threads is guarded by its owner.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from contracts.vocab import Kind

__all__ = ["IndexReader", "CREDENTIAL_COLUMNS"]

# the columns of one credential as the REST views and the CLI show it
CREDENTIAL_COLUMNS = "id, kind, issuer, subject, status, tns, credential, anchored_block"
_BY = {"issuer": "issuer", "subject": "subject"}  # columns a credential list may be filtered by

Row = tuple[Any, ...]


class IndexReader:
    """Named queries over one connection to an index file."""

    __slots__ = ("db",)

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    # ------------------------------------------------------------------ position

    def last_position(self) -> tuple[int, int] | None:
        """The last event applied, as (block, log index); None for an empty index."""
        row = self.db.execute("SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC "
                              "LIMIT 1").fetchone()
        return None if row is None else (int(row[0]), int(row[1]))

    def newest_block_time(self) -> int:
        """The timestamp of the newest block the index recorded (0 if none)."""
        return int(self.db.execute("SELECT MAX(timestamp) FROM blocks").fetchone()[0] or 0)

    # ------------------------------------------------------------------ members

    def member_roles(self) -> dict[str, int]:
        """Lower-case account → role bits, for every member."""
        return {str(a).lower(): int(r) for a, r in self.db.execute("SELECT account, roles FROM members")}

    def roles_of(self, account: str) -> int:
        """The role bits of one member account as stored (0 if not a member)."""
        row = self.db.execute("SELECT roles FROM members WHERE account = ?", (account,)).fetchone()
        return int(row[0]) if row else 0

    def members(self) -> list[Row]:
        """(account, roles, spc, name, since_block), oldest first."""
        return self.db.execute("SELECT account, roles, spc, name, since_block FROM members "
                               "ORDER BY since_block, account").fetchall()

    def onboarded(self) -> list[Row]:
        """(account, endorser, kind), oldest first."""
        return self.db.execute("SELECT account, endorser, kind FROM onboarded ORDER BY since_block").fetchall()

    def proposals(self) -> list[Row]:
        """(id, proposer, target, calldata, votes, state), by id."""
        return self.db.execute("SELECT id, proposer, target, calldata, votes, state FROM proposals "
                               "ORDER BY id").fetchall()

    # ------------------------------------------------------------------ DIDs

    def did_controller(self, ident: bytes) -> tuple[str, bool] | None:
        """(controller account, deactivated) of a DID; None if the index does not know it."""
        row = self.db.execute("SELECT controller, deactivated FROM dids WHERE did = ?", (ident,)).fetchone()
        return None if row is None else (str(row[0]), bool(row[1]))

    def did_changes(self, ident: bytes, *, before: tuple[int, int] | None = None) -> list[Row]:
        """(block, log_index, timestamp, name, args JSON) of every change of a DID, in chain order (only those
        before ``before`` when given)."""
        q = "SELECT block, log_index, timestamp, name, args FROM did_changes WHERE did = ?"
        params: tuple[Any, ...] = (ident,)
        if before is not None:
            q += " AND (block, log_index) < (?, ?)"
            params += before
        return self.db.execute(q + " ORDER BY block, log_index", params).fetchall()

    def dids_changed_after(self, position: tuple[int, int]) -> set[bytes]:
        """The DIDs with a change after ``position``."""
        return {bytes(d) for (d,) in self.db.execute(
            "SELECT DISTINCT did FROM did_changes WHERE (block, log_index) > (?, ?)", position)}

    # ------------------------------------------------------------------ credentials

    def credential(self, key: bytes) -> Row | None:
        """:data:`CREDENTIAL_COLUMNS` of one accepted credential by registry key."""
        return self.db.execute(f"SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = ?", (key,)).fetchone()

    def credentials_by(self, column: str, ident: bytes) -> list[Row]:
        """:data:`CREDENTIAL_COLUMNS` of the accepted credentials whose ``issuer`` or ``subject`` is ``ident``."""
        col = _BY[column]
        return self.db.execute(f"SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE {col} = ? "
                               "ORDER BY anchored_block", (ident,)).fetchall()

    def credential_list(self, *, issuer: bytes | None = None, subject: bytes | None = None) -> list[Row]:
        """(id, kind, issuer, subject, status, tns, credential) of the accepted credentials, optionally of one
        issuer and / or subject, oldest first."""
        q = "SELECT id, kind, issuer, subject, status, tns, credential FROM credentials WHERE 1 = 1"
        params: list[Any] = []
        if issuer is not None:
            q += " AND issuer = ?"
            params.append(issuer)
        if subject is not None:
            q += " AND subject = ?"
            params.append(subject)
        return self.db.execute(q + " ORDER BY anchored_block", params).fetchall()

    def anchoring(self, key: bytes) -> Row | None:
        """(credential bytes, anchored block, anchored at) of an accepted credential."""
        return self.db.execute("SELECT credential, anchored_block, anchored_at FROM credentials WHERE id = ?",
                               (key,)).fetchone()

    def credential_documents(self) -> list[Row]:
        """(id, credential bytes) of every accepted credential."""
        return self.db.execute("SELECT id, credential FROM credentials").fetchall()

    def subject_of(self, key: bytes) -> bytes | None:
        """The subject of an accepted credential (None if the node did not accept it)."""
        row = self.db.execute("SELECT subject FROM credentials WHERE id = ?", (key,)).fetchone()
        return None if row is None else bytes(row[0])

    def accepted(self, key: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM credentials WHERE id = ?", (key,)).fetchone() is not None

    def identities(self, subjects: Iterable[bytes] | None = None) -> list[Row]:
        """(subject, issuer, status, valid_from, valid_until, credential) of the accepted EnterpriseIdentity
        credentials, of every subject or of ``subjects``."""
        sql = "SELECT subject, issuer, status, valid_from, valid_until, credential FROM credentials WHERE kind = ?"
        if subjects is None:
            return self.db.execute(sql, (int(Kind.ENTERPRISE_IDENTITY),)).fetchall()
        return [r for s in sorted(set(subjects))
                for r in self.db.execute(sql + " AND subject = ?", (int(Kind.ENTERPRISE_IDENTITY), s)).fetchall()]

    def tn_records(self) -> sqlite3.Cursor:
        """The TN credentials (grants, delegations) in insertion (= chain) order, parents before children: (id, kind,
        issuer, subject, parent, flags, depth, valid_from, valid_until, root_holder, root_since, status, tns, role)."""
        return self.db.execute("SELECT id, kind, issuer, subject, parent, flags, depth, valid_from, valid_until, "
                               "root_holder, root_since, status, tns, role FROM credentials WHERE kind IN (?, ?) "
                               "ORDER BY rowid", (int(Kind.TN_RIGHT_TO_USE), int(Kind.TN_DELEGATION)))

    def number_blocks(self) -> sqlite3.Cursor:
        """(thousand-block, holder, since) of every assigned block."""
        return self.db.execute("SELECT block, holder, since FROM number_blocks")

    def single_numbers(self) -> sqlite3.Cursor:
        """(tn, holder, since) of every number held on its own."""
        return self.db.execute("SELECT tn, holder, since FROM numbers")

    def statuses(self) -> dict[bytes, int]:
        """Registry key → status of every accepted credential."""
        return {bytes(i): int(s) for i, s in self.db.execute("SELECT id, status FROM credentials")}

    def anchored_in_order(self) -> list[bytes]:
        """The registry keys of every anchored credential (accepted or not), in anchoring order."""
        rows = self.db.execute("SELECT json_extract(args, '$.id') FROM events WHERE contract = 'CredentialRegistry' "
                               "AND name = 'CredentialAnchored' ORDER BY block, log_index").fetchall()
        return [bytes.fromhex(h[2:]) for (h,) in rows]

    # ------------------------------------------------------------------ refused credentials

    def rejection(self, key: bytes) -> Row | None:
        """(code, message) of a credential the node refused; None if it did not."""
        return self.db.execute("SELECT code, message FROM rejected_credentials WHERE id = ?", (key,)).fetchone()

    def rejections(self) -> list[Row]:
        """(id, block, code, message) of every refused credential, oldest first."""
        return self.db.execute("SELECT id, block, code, message FROM rejected_credentials ORDER BY block").fetchall()
