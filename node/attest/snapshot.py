"""The OSP node's in-memory view of its ledger copy, the only thing the call path reads.

:meth:`LedgerSnapshot.refresh` runs off the call path (after each sync batch): it brings the TN index up to date
(a new copy-on-write version, via :class:`node.sync.indexview.IndexView`), forgets the cached DID states of DIDs
that changed, reloads the vetted enterprise identities and member roles, and publishes all of it as one immutable
:class:`LedgerState` (one reference assignment). A call reads :attr:`LedgerSnapshot.state` once and decides on that
version from start to end: it never sees half of an update, and its decision names the exact ledger position it
used. The DID state of a signer is replayed from the index once and cached until that DID changes. No network, ever.

**Freshness.** Only the follower knows whether the index is current: when a sync cycle has reached the chain's head
it refreshes the snapshot with ``confirmed_at`` (the time it confirmed). :attr:`LedgerState.confirmed_at` is the
newest such confirmation; ``None`` means never. The ledger mechanism refuses to prove anything from a copy not
confirmed within the trunk policy's ``max_staleness`` (reason ``ledger.stale``), so an outage of the chain or of the
follower turns into **B**, never into a stale **A**.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from contracts.vocab import Kind, Status
from did_method.document import DidState
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.sync.didhistory import IndexHistory
from node.sync.indexview import IndexView
from node.sync.verify import MAX_CREDENTIAL
from node.tnindex import TNIndex
from wallet import strictjson
from wallet.didauth import authentication_key_at, verify_credential_evidence

__all__ = ["LedgerSnapshot", "LedgerState", "Vetting", "UNKNOWN_CACHE"]

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
    level: str = ""  # vettingLevel
    logo: str | None = None  # the vetted icn (https URL) ...
    logo_integrity: str | None = None  # ... and its digest, for rcdi
    call_reasons: tuple[str, ...] = ()  # the call reasons crn may carry
    did_auth: bool = False  # its DID Auth evidence verifies (the subject proved control of its DID key at vetting)

    def live(self, now: int) -> bool:
        return self.status is Status.ACTIVE and self.valid_from <= now < self.valid_until

    def accepted(self, agencies: frozenset[bytes], levels: frozenset[str], did_auth: bool = False) -> bool:
        """Issued by one of ``agencies`` at one of ``levels`` (an empty set accepts any), with verified DID Auth
        evidence when ``did_auth``."""
        return ((not agencies or self.issuer in agencies) and (not levels or self.level in levels)
                and (self.did_auth or not did_auth))


@dataclass(frozen=True, slots=True)
class LedgerState:
    """One complete version of the ledger copy as the call path sees it. Never changed once published."""

    tn: TNIndex
    vetted: Mapping[bytes, tuple[Vetting, ...]]
    members: Mapping[str, int]  # lower-case account -> role bits
    position: tuple[int, int] | None  # the last ledger event (block, log index) it reflects
    confirmed_at: float | None = None  # when the follower last confirmed the copy current; None: never

    def roles(self, account: str) -> int:
        """The member roles (``contracts.vocab.Role`` bits) of a ledger account; 0 if not a member."""
        return self.members.get(account.lower(), 0)

    def vetting(self, ident: bytes, now: int, *, agencies: frozenset[bytes] = frozenset(),
                levels: frozenset[str] = frozenset(), did_auth: bool = False) -> Vetting | None:
        """A live vetted identity of the subject at ``now`` (the newest) from an accepted agency and level (with
        verified DID Auth evidence when ``did_auth``), or None."""
        live = [v for v in self.vetted.get(ident, ()) if v.live(now) and v.accepted(agencies, levels, did_auth)]
        return max(live, key=lambda v: v.valid_from) if live else None

    def age(self, now: float) -> float | None:
        """Seconds since the copy was last confirmed current; None if it never was."""
        return None if self.confirmed_at is None else max(0.0, now - self.confirmed_at)


class LedgerSnapshot:
    """TN index + DID states + vetted identities from the node's index file (read-only), as :class:`LedgerState`
    versions. ``view`` shares the REST API's :class:`IndexView` (one TN index per node); without it the snapshot
    opens its own."""

    def __init__(self, index_path: Path, *, network: str, chain_id: int, view: IndexView | None = None) -> None:
        self.network = network
        self._view = view if view is not None else IndexView(index_path, network=network)
        self._own_view = view is None
        self._history = IndexHistory(index_path)
        self._resolver = Resolver(self._history, network=network, chain_id=chain_id)
        self._auth_key_at = authentication_key_at(self._resolver)  # DID Auth evidence, checked once per refresh
        self.lock = threading.RLock()  # guards the DID caches and publishing; readers of ``state`` never take it
        self._dids: dict[bytes, DidState] = {}
        self._unknown: OrderedDict[bytes, None] = OrderedDict()
        self._generation = 0  # bumped whenever cached DID states are invalidated
        self.state = LedgerState(TNIndex(), {}, {}, None)
        self.refresh()

    def refresh(self, *, confirmed_at: float | None = None) -> bool:
        """Catch up with the index file and publish a new :class:`LedgerState`; True if the ledger content changed.
        ``confirmed_at``: the follower has just confirmed that the index is current with the chain (see the module
        notice); without it the confirmation time stays as it was. Safe to call from another thread."""
        with self.lock:
            last = self._view.rows("SELECT block, log_index FROM events ORDER BY block DESC, log_index DESC LIMIT 1")
            pos = (int(last[0][0]), int(last[0][1])) if last else (-1, -1)
            old = self.state
            when = confirmed_at if confirmed_at is not None else old.confirmed_at
            if pos == old.position:
                if when != old.confirmed_at:
                    self.state = replace(old, confirmed_at=when)
                return False
            tn = self._view.tn_index()
            vetted = self._load_vetted()
            members = {str(a).lower(): int(r) for a, r in self._view.rows("SELECT account, roles FROM members")}
            self._generation += 1
            if old.position is None or pos < old.position:
                self._dids.clear()  # a reorg: forget everything
                self._unknown.clear()
            else:
                changed = "SELECT DISTINCT did FROM did_changes WHERE (block, log_index) > (?, ?)"
                for (ident,) in self._view.rows(changed, old.position):
                    self._dids.pop(bytes(ident), None)
                    self._unknown.pop(bytes(ident), None)
            self.state = LedgerState(tn, vetted, members, pos, when)
        return True

    @property
    def position(self) -> tuple[int, int] | None:
        """The last ledger event (block, log index) the current state reflects."""
        return self.state.position

    @property
    def tn(self) -> TNIndex:
        """The current state's TN index (a complete version; see :class:`LedgerState`)."""
        return self.state.tn

    def _load_vetted(self) -> dict[bytes, tuple[Vetting, ...]]:
        rows = self._view.rows(
            "SELECT c.subject, c.issuer, c.status, c.valid_from, c.valid_until, c.credential FROM credentials c "
            "WHERE c.kind = ? AND c.id NOT IN (SELECT id FROM rejected_credentials)", (int(Kind.ENTERPRISE_IDENTITY),))
        out: dict[bytes, list[Vetting]] = {}
        for subject, issuer, status, valid_from, valid_until, cred in rows:
            vc = strictjson.loads(bytes(cred), max_bytes=MAX_CREDENTIAL)  # verified at sync; still outside input
            subj = vc.get("credentialSubject", {})
            reasons = subj.get("callReason", [])
            reasons = [reasons] if isinstance(reasons, str) else reasons
            logo, digest = subj.get("logo"), subj.get("logoIntegrity")
            proven = "evidence" in vc and verify_credential_evidence(vc, key_at=self._auth_key_at).ok
            out.setdefault(bytes(subject), []).append(Vetting(
                str(vc.get("id")), bytes(issuer), Status(status), valid_from, valid_until,
                str(subj.get("legalName", "")), subj.get("brandName"), str(subj.get("vettingLevel", "")),
                logo if isinstance(logo, str) else None, digest if isinstance(digest, str) else None,
                tuple(r for r in reasons if isinstance(r, str)) if isinstance(reasons, list) else (), proven))
        return {k: tuple(v) for k, v in out.items()}

    def did_state(self, ident: bytes) -> DidState | None:
        """The current state of a DID (``deactivated`` included), or None if the ledger does not know it.

        Known DIDs are cached until they change (their number is bounded by the ledger). Unknown ones are
        remembered in a bounded negative cache: a caller can name any number of DIDs that do not exist. A state
        resolved while a refresh invalidated the cache is used once and not cached (it may be the old one)."""
        state = self._dids.get(ident)
        if state is not None:
            return state
        if ident in self._unknown:
            return None
        generation = self._generation
        res = self._resolver.resolve(format_did(self.network, ident))
        state = res.state
        with self.lock:
            if generation != self._generation:
                return state
            if state is not None:
                self._dids[ident] = state
            else:
                self._unknown[ident] = None
                if len(self._unknown) > UNKNOWN_CACHE:
                    self._unknown.popitem(last=False)
        return state

    def roles(self, account: str) -> int:
        """The member roles of a ledger account in the current state (see :meth:`LedgerState.roles`)."""
        return self.state.roles(account)

    def vetting(self, ident: bytes, now: int, *, agencies: frozenset[bytes] = frozenset(),
                levels: frozenset[str] = frozenset(), did_auth: bool = False) -> Vetting | None:
        """A live vetted identity of the subject in the current state (see :meth:`LedgerState.vetting`)."""
        return self.state.vetting(ident, now, agencies=agencies, levels=levels, did_auth=did_auth)

    def close(self) -> None:
        self._history.close()
        if self._own_view:
            self._view.db.close()
