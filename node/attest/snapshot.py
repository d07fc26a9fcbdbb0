"""The OSP node's in-memory view of its ledger copy, the only thing the call path reads.

:meth:`LedgerSnapshot.applied` runs off the call path, in the follower's thread, for every committed sync step (the
node's pipeline, :mod:`node.sync.pipeline`, calls it after the :class:`node.sync.indexview.IndexView` took the same
step): it takes the new copy-on-write TN index version, reloads the vetted identities of the subjects whose identity
credentials changed and the member roles if they changed, forgets the cached DID states of the DIDs that changed,
and publishes all of it as one immutable :class:`LedgerState` (one reference assignment). A call reads
:attr:`LedgerSnapshot.state` once and decides on that version from start to end: it never sees half of an update, and
its decision names the exact ledger position it used. The DID state of a signer is replayed from the index once and
cached until that DID changes. No network, ever. A snapshot nobody feeds (a tool reading another process's index)
catches up from the index tables with :meth:`LedgerSnapshot.refresh`.

**Freshness.** Only the follower knows whether the index is current: when a sync cycle has reached the chain's head
it calls :meth:`LedgerSnapshot.confirm` with the time it confirmed. :attr:`LedgerState.confirmed_at` is the newest
such confirmation; ``None`` means never. The ledger mechanism refuses to prove anything from a copy not confirmed
within the trunk policy's ``max_staleness`` (reason ``ledger.stale``), so an outage of the chain or of the follower
turns into **B**, never into a stale **A**.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from contracts.vocab import Kind, Status
from did_method.document import DidState
from did_method.resolver import Resolver
from did_method.syntax import format_did
from node.sync.changes import Anchored, DidChanged, MembersChanged, StatusSet
from node.sync.didhistory import IndexHistory
from node.sync.follower import SyncStep
from node.sync.indexview import IndexView
from node.sync.verify import MAX_CREDENTIAL
from node.tnindex import TNIndex
from wallet import strictjson
from wallet.didauth import authentication_key_at, verify_credential_evidence

__all__ = ["LedgerSnapshot", "LedgerState", "Vetting", "UNKNOWN_CACHE"]

log = logging.getLogger("eidln.attest")

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
        self._auth_key_at = authentication_key_at(self._resolver)  # DID Auth evidence, checked at (re)load
        self.lock = threading.RLock()  # guards the DID caches and publishing; readers of ``state`` never take it
        self._dids: dict[bytes, DidState] = {}
        self._unknown: OrderedDict[bytes, None] = OrderedDict()
        self._generation = 0  # bumped whenever cached DID states are invalidated
        self.fed = False  # the node's pipeline publishes each sync step here (see :meth:`applied`)
        self.state = LedgerState(TNIndex(), {}, {}, None)
        self.refresh()

    def applied(self, step: SyncStep) -> None:
        """Publish the changes of one committed sync step as a new :class:`LedgerState` (the node's pipeline calls
        this in the follower's thread, after the :class:`IndexView` took the same step): the TN index version the
        view published, the vetted identities of the subjects whose identity credentials changed, the member roles if
        they changed, and the DID states of the DIDs that changed forgotten. A reorg reloads everything."""
        with self.lock:
            self.fed = True
            old = self.state
            if step.reorg_depth or old.position is None:
                self._reload(self._last_position(), old.confirmed_at)
                return
            if not step.changes:  # history only (proposals, votes): the same content at a later position
                if step.position is not None:
                    self.state = replace(old, position=step.position)
                return
            try:
                self._apply(step, old)
            except Exception:  # a defect: never keep a state that differs from the tables
                log.exception("the ledger snapshot could not apply a sync step; reloading it from the index tables")
                self._reload(self._last_position(), old.confirmed_at)

    def _apply(self, step: SyncStep, old: LedgerState) -> None:
        subjects = {c.subject for c in step.changes
                    if isinstance(c, Anchored | StatusSet) and c.kind == Kind.ENTERPRISE_IDENTITY}
        vetted = old.vetted
        if subjects:
            vetted = {k: v for k, v in old.vetted.items() if k not in subjects} | self._load_vetted(subjects)
        members = self._load_members() if any(isinstance(c, MembersChanged) for c in step.changes) \
            else old.members
        self._generation += 1
        for c in step.changes:
            if isinstance(c, DidChanged):
                self._dids.pop(c.ident, None)
                self._unknown.pop(c.ident, None)
        self.state = LedgerState(self._view.tn_index(), vetted, members, step.position or old.position,
                                 old.confirmed_at)

    def confirm(self, at: float) -> None:
        """The follower has just confirmed that the index is current with the chain (see the module notice)."""
        with self.lock:
            self.state = replace(self.state, confirmed_at=at)

    def refresh(self, *, confirmed_at: float | None = None) -> bool:
        """Catch up with the index file and publish a new :class:`LedgerState`; True if the ledger content changed.
        ``confirmed_at``: the follower has just confirmed that the index is current with the chain (see the module
        notice); without it the confirmation time stays as it was. Safe to call from another thread.

        A snapshot fed by the pipeline (:meth:`applied`) is current already: this only records the confirmation. One
        that nobody feeds (a tool reading another process's index) catches up from the index tables."""
        if self.fed:
            if confirmed_at is not None:
                self.confirm(confirmed_at)
            return False
        with self.lock:
            pos = self._last_position()
            old = self.state
            when = confirmed_at if confirmed_at is not None else old.confirmed_at
            if pos == old.position:
                if when != old.confirmed_at:
                    self.state = replace(old, confirmed_at=when)
                return False
            if old.position is None or pos < old.position:
                self._reload(pos, when)  # a reorg: forget everything
                return True
            since = old.position
            for ident in self._view.read(lambda r: r.dids_changed_after(since)):
                self._dids.pop(ident, None)
                self._unknown.pop(ident, None)
            self._generation += 1
            self.state = LedgerState(self._view.tn_index(), self._load_vetted(), self._load_members(), pos, when)
        return True

    def _last_position(self) -> tuple[int, int]:
        return self._view.read(lambda r: r.last_position()) or (-1, -1)

    def _reload(self, pos: tuple[int, int], confirmed_at: float | None) -> None:
        """Everything from the index tables; every cached DID state forgotten (start, reorg)."""
        self._generation += 1
        self._dids.clear()
        self._unknown.clear()
        self.state = LedgerState(self._view.tn_index(), self._load_vetted(), self._load_members(), pos, confirmed_at)

    def _load_members(self) -> dict[str, int]:
        return self._view.read(lambda r: r.member_roles())

    @property
    def view(self) -> IndexView:
        """The :class:`IndexView` this snapshot reads (the node's one; the pipeline feeds it before the snapshot)."""
        return self._view

    @property
    def position(self) -> tuple[int, int] | None:
        """The last ledger event (block, log index) the current state reflects."""
        return self.state.position

    @property
    def tn(self) -> TNIndex:
        """The current state's TN index (a complete version; see :class:`LedgerState`)."""
        return self.state.tn

    def _load_vetted(self, subjects: set[bytes] | None = None) -> dict[bytes, tuple[Vetting, ...]]:
        """The vetted identities of every subject, or of ``subjects`` only (accepted credentials: a refused one is in
        ``rejected_credentials``, never in ``credentials``)."""
        rows = self._view.read(lambda r: r.identities(subjects))
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
