"""The OSP node's in-memory view of its ledger copy, the only thing the call path reads.

:meth:`LedgerSnapshot.refresh` runs off the call path (after each sync batch, or on a timer): it brings the TN
index up to date (incrementally, via :class:`node.api.ledger.IndexView`), forgets the cached DID states of DIDs
that changed, and reloads the vetted enterprise identities. The call path then reads only dictionaries: the DID
state of a signer is replayed from the index once and cached until that DID changes. No network, ever.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from did_method.document import DidState
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.ledger.records import Kind, Status
from node.sync.didhistory import IndexHistory
from node.sync.indexview import IndexView
from node.tnindex import TNIndex

__all__ = ["LedgerSnapshot", "Vetting", "UNKNOWN_CACHE"]

UNKNOWN_CACHE = 10_000  # DIDs remembered as unknown (a bounded negative cache)


@dataclass(frozen=True, slots=True)
class Vetting:
    """A live-or-not EnterpriseIdentity credential of one subject, as anchored and synced (issuer role checked)."""

    credential_id: str
    issuer: bytes
    status: Status
    valid_from: int
    valid_until: int
    legal_name: str
    brand_name: str | None

    def live(self, now: int) -> bool:
        return self.status is Status.ACTIVE and self.valid_from <= now < self.valid_until


class LedgerSnapshot:
    """TN index + DID states + vetted identities from the node's index file (read-only)."""

    def __init__(self, index_path: Path, *, network: str, chain_id: int) -> None:
        self.network = network
        self._view = IndexView(index_path, network=network)
        self._history = IndexHistory(index_path)
        self._resolver = Resolver(self._history, network=network, chain_id=chain_id)
        self.lock = threading.RLock()
        self._dids: dict[bytes, DidState] = {}
        self._unknown: OrderedDict[bytes, None] = OrderedDict()
        self._vetted: dict[bytes, tuple[Vetting, ...]] = {}
        self._members: dict[str, int] = {}  # lower-case account -> role bits
        self._pos: tuple[int, int] | None = None
        self.tn: TNIndex = TNIndex()
        self.refresh()

    def refresh(self) -> bool:
        """Catch up with the index file; True if anything changed. Safe to call from another thread."""
        last = self._view.rows("SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC LIMIT 1")
        pos = tuple(last[0]) if last else (-1, -1)
        if pos == self._pos:
            return False
        tn = self._view.tn_index()
        vetted = self._load_vetted()
        members = {str(a).lower(): int(r) for a, r in self._view.rows("SELECT account, roles FROM members")}
        with self.lock:
            if self._pos is None or pos < self._pos:
                self._dids.clear()  # a reorg: forget everything
                self._unknown.clear()
            else:
                changed = "SELECT DISTINCT did FROM did_changes WHERE (block, log_index) > (?, ?)"
                for (ident,) in self._view.rows(changed, self._pos):
                    self._dids.pop(bytes(ident), None)
                    self._unknown.pop(bytes(ident), None)
            self.tn, self._vetted, self._members = tn, vetted, members
            self._pos = (int(pos[0]), int(pos[1]))
        return True

    @property
    def position(self) -> tuple[int, int] | None:
        """The last ledger event (block, log index) this snapshot reflects."""
        return self._pos

    def _load_vetted(self) -> dict[bytes, tuple[Vetting, ...]]:
        rows = self._view.rows(
            "SELECT c.subject, c.issuer, c.status, c.valid_from, c.valid_until, c.credential FROM credentials c "
            "WHERE c.kind = ? AND c.id NOT IN (SELECT id FROM rejected_credentials)", (int(Kind.ENTERPRISE_IDENTITY),))
        out: dict[bytes, list[Vetting]] = {}
        for subject, issuer, status, valid_from, valid_until, cred in rows:
            vc = json.loads(bytes(cred))
            subj = vc.get("credentialSubject", {})
            out.setdefault(bytes(subject), []).append(Vetting(
                str(vc.get("id")), bytes(issuer), Status(status), valid_from, valid_until,
                str(subj.get("legalName", "")), subj.get("brandName")))
        return {k: tuple(v) for k, v in out.items()}

    def did_state(self, ident: bytes) -> DidState | None:
        """The current state of a DID (``deactivated`` included), or None if the ledger does not know it.

        Known DIDs are cached until they change (their number is bounded by the ledger). Unknown ones are
        remembered in a bounded negative cache: a caller can name any number of DIDs that do not exist."""
        state = self._dids.get(ident)
        if state is not None:
            return state
        if ident in self._unknown:
            return None
        res = self._resolver.resolve(format_did(self.network, ident))
        state = res.state
        with self.lock:
            if state is not None:
                self._dids[ident] = state
            else:
                self._unknown[ident] = None
                if len(self._unknown) > UNKNOWN_CACHE:
                    self._unknown.popitem(last=False)
        return state

    def roles(self, account: str) -> int:
        """The member roles (``node.ledger.roles.Role`` bits) of a ledger account now; 0 if not a member."""
        return self._members.get(account.lower(), 0)

    def vetting(self, ident: bytes, now: int) -> Vetting | None:
        """A live vetted identity of the subject at ``now`` (the newest), or None."""
        live = [v for v in self._vetted.get(ident, ()) if v.live(now)]
        return max(live, key=lambda v: v.valid_from) if live else None

    def close(self) -> None:
        self._history.close()
        self._view.db.close()
