"""In-memory TN index: which credentials cover a telephone number now, and their live chains.

The node answers "who may use +1 202 555 0143 at time *now*?" without touching SQLite or the chain. The rules
are the credential registry's (``contracts/src/CredentialRegistry.vy``): a TN credential covers a number only
while

* the number lies in one of its ranges,
* it and every link above it (parent, grandparent, ... up to the root grant) are ACTIVE and inside their
  validity (``valid_from <= now < valid_until``; ``now == valid_until`` is expired), and
* the root holder still holds the number and has held it since the root grant's holding epoch
  (``holder == root_holder and since <= root_since``): porting a number away ends every grant and delegation
  for it, and porting it back does not revive them (the new ``since`` is later than ``root_since``).

Two things the contract's ``covers`` also checks are left to the caller, who has the tables for them: that the
leaf subject's DID is still active and that the root holder is still a TNSP / Resp Org member. Flags are not
a liveness rule either: every chain carries them and the caller decides (a relay-only link has no
MAY_ORIGINATE).

Data structure: the number line cut into *elementary segments* at every range boundary. Each segment
``[b_i, b_(i+1))`` stores the tuple of credential ids whose ranges cover all of it, so a stabbing query is one
bisect to find the segment, then ``k`` dictionary reads: O(log n + k). Boundaries live in chunks of
``array('q')`` (8 bytes each, no int objects) with a list of chunk minimums on top, the two-level layout
``sortedcontainers`` uses, written here over :mod:`bisect` so that keys and cover tuples sit in parallel
chunks without a dict. Inserting a credential splits at most two segments (the split halves share one tuple)
and extends the covers of the segments its ranges span. Storage is the sum of coverage depths over segments:
linear for ledger data, where one holder's grants barely overlap and delegations nest inside their parents (a
chain of depth d puts d ids in a segment); many wide ranges laid over many narrow ones would make it grow as
their product. Revoked credentials leave the segments (revocation is final) but stay in the record table, for
:meth:`TNIndex.why_not` and as parents.

Records are immutable :class:`TNCredential` tuples (their ranges packed into 16 bytes each); a status change
replaces the record, so a :class:`Chain` handed out earlier never changes under its holder.

**Versions, not locks.** A reader never sees a half-applied update: the writer never changes an index that
readers may hold. It calls :meth:`TNIndex.fork`, applies a batch of events to the fork and publishes the fork
(one reference assignment); readers that took the old version keep a complete, consistent one. The fork shares
structure copy-on-write: the record, holding and segment tables are cut into chunks (256 shards of each dict,
the segment chunks of :mod:`node.tnsegments`), and a write copies only the chunks it touches. So a batch costs the
chunks it changes, not a copy of a ten-million-credential index. An index that nobody else holds may still be
changed in place (building, tests). After a reorg the sync store rebuilds its tables by replay; rebuild this
index with :func:`build_from_store` too.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from contracts.vocab import MAX_CHAIN_DEPTH, Flags, Kind, Status, TNRange
from node.errors import StoreError
from node.sync.changes import BLOCK, Anchored, Change, Holding, StatusSet
from node.sync.indexdb import IndexReader
from node.tnsegments import Segments

if TYPE_CHECKING:
    from node.sync.store import Store

__all__ = ["TNIndex", "TNCredential", "Chain", "build_from_store", "build_from_db", "build_from_reader", "ROOT_PARENT",
           "MAX_DEPTH", "BLOCK",
           "NOT_IN_RANGE", "REVOKED", "SUSPENDED", "EXPIRED", "NOT_YET_VALID", "PARENT_NOT_LIVE", "PORTED",
           "UNKNOWN", "WHY_NOT_CODES"]

ROOT_PARENT = bytes(32)
MAX_DEPTH = MAX_CHAIN_DEPTH  # CredentialRegistry.MAX_DEPTH: a chain has at most MAX_DEPTH + 1 links

NOT_IN_RANGE = "tn.not_in_range"
REVOKED = "tn.revoked"
SUSPENDED = "tn.suspended"
EXPIRED = "tn.expired"
NOT_YET_VALID = "tn.not_yet_valid"
PARENT_NOT_LIVE = "tn.parent_not_live"
PORTED = "tn.ported"
UNKNOWN = "tn.unknown"
WHY_NOT_CODES = (UNKNOWN, NOT_IN_RANGE, REVOKED, SUSPENDED, EXPIRED, NOT_YET_VALID, PARENT_NOT_LIVE, PORTED)

_KINDS = {int(k): k for k in (Kind.TN_RIGHT_TO_USE, Kind.TN_DELEGATION)}
_FLAGS = {v: Flags(v) for v in range(4)}
_STATUSES = {int(s): s for s in (Status.ACTIVE, Status.REVOKED, Status.SUSPENDED)}
_SPAN = struct.Struct("<qq")  # one range as (start, end), end exclusive
_DEFAULT_ROLE: dict[int, str] = {Kind.TN_RIGHT_TO_USE: "enterprise", Kind.TN_DELEGATION: "vendor"}  # as credentials
_SHARDS = 256  # dict shards per table: a write copies 1/256 of a table, a read costs one list index more
_ALL = frozenset(range(_SHARDS))


class TNCredential(NamedTuple):
    """What the index keeps of one anchored TN credential (the registry's Record plus its ranges)."""

    id: bytes
    kind: Kind
    issuer: bytes
    subject: bytes
    parent: bytes  # ROOT_PARENT for a root grant
    flags: Flags
    depth: int
    valid_from: int
    valid_until: int
    status: Status
    root_holder: str  # lower-case 0x address
    root_since: int
    tns: bytes  # packed (start, end) pairs, see ``spans``
    role: str = ""  # the subject's role (wallet.credentials.ROLES); the kind's default for a v1 credential

    @property
    def ranges(self) -> tuple[TNRange, ...]:
        return tuple(TNRange(s, e - s) for s, e in self.spans())

    def spans(self) -> Iterator[tuple[int, int]]:
        """The ranges as (start, end) pairs, end exclusive, in order."""
        return _SPAN.iter_unpack(self.tns)

    def lists(self, tn: int) -> bool:
        """True if one of the ranges contains ``tn`` (nothing else is checked)."""
        return any(s <= tn < e for s, e in _SPAN.iter_unpack(self.tns))

    @property
    def is_root(self) -> bool:
        return self.parent == ROOT_PARENT


@dataclass(frozen=True, slots=True)
class Chain:
    """One covering credential and its links from leaf to root (``links[0]`` is the leaf), all live."""

    leaf: TNCredential
    links: tuple[TNCredential, ...]

    @property
    def root(self) -> TNCredential:
        return self.links[-1]

    @property
    def ids(self) -> tuple[bytes, ...]:
        return tuple(c.id for c in self.links)

    @property
    def may_originate(self) -> bool:
        """The leaf may place calls (a delegation's flags are a subset of its parent's, so the leaf decides)."""
        return bool(self.leaf.flags & Flags.MAY_ORIGINATE)


def _pack(ranges: Iterable[TNRange | tuple[int, int]]) -> bytes:
    out = bytearray()
    prev_end = -1
    for r in ranges:
        start, count = (r.start, r.count) if isinstance(r, TNRange) else r
        if count < 1 or start < 0:
            raise ValueError(f"bad number range ({start}, {count})")
        if start < prev_end:
            raise ValueError("ranges must be sorted and must not overlap")
        prev_end = start + count
        out += _SPAN.pack(start, prev_end)
    if not out:
        raise ValueError("a TN credential needs at least one range")
    return bytes(out)


class TNIndex:
    """Credentials, holdings and the segment index over their ranges. See the module notice for the rules."""

    __slots__ = ("_creds", "_segments", "_blocks", "_numbers", "_interned", "_count", "_own")

    def __init__(self) -> None:
        # each table is _SHARDS dicts: credentials by id[0], blocks by (tn // 1000) % _SHARDS, numbers by tn % _SHARDS
        self._creds: list[dict[bytes, TNCredential]] = [{} for _ in range(_SHARDS)]
        self._segments = Segments()
        self._blocks: list[dict[int, tuple[str, int]]] = [{} for _ in range(_SHARDS)]  # tn // 1000 -> (holder, since)
        self._numbers: list[dict[int, tuple[str, int]]] = [{} for _ in range(_SHARDS)]  # tn -> holder, over the block
        self._interned: dict[Any, Any] = {}  # shared holder strings and DID ids (written by the writer only)
        self._count = 0
        # the shards only this instance references, per table: ("c", i), ("b", i), ("n", i)
        self._own: set[tuple[str, int]] = {(t, i) for t in "cbn" for i in _ALL}

    def fork(self) -> TNIndex:
        """A new version with the same content, sharing structure copy-on-write (see the module notice). Change the
        fork and publish it; this instance stays as it is for the readers that hold it."""
        new = TNIndex.__new__(TNIndex)
        new._creds, new._blocks, new._numbers = list(self._creds), list(self._blocks), list(self._numbers)
        new._segments = self._segments.fork()
        new._interned = self._interned
        new._count = self._count
        new._own = set()
        self._own = set()  # shared now: a later write to this instance copies too
        return new

    def _writable(self, table: str, shards: list[dict[Any, Any]], i: int) -> dict[Any, Any]:
        if (table, i) not in self._own:
            shards[i] = dict(shards[i])
            self._own.add((table, i))
        return shards[i]

    def _put_cred(self, c: TNCredential) -> None:
        self._writable("c", self._creds, c.id[0])[c.id] = c

    # -------------------------------------------------------------- building

    @classmethod
    def from_records(cls, credentials: Iterable[TNCredential], *, blocks: Iterable[tuple[int, str, int]] = (),
                     numbers: Iterable[tuple[int, str, int]] = ()) -> TNIndex:
        """Bulk load (one sweep over all ranges): the fast path for a node starting up. ``blocks`` are
        (tn // 1000, holder, since), ``numbers`` (tn, holder, since)."""
        index = cls()
        index._load(credentials, blocks, numbers)
        return index

    def _load(self, credentials: Iterable[TNCredential], blocks: Iterable[tuple[int, str, int]],
              numbers: Iterable[tuple[int, str, int]]) -> None:
        if self._count or len(self._segments):
            raise ValueError("bulk loading needs an empty index")
        collecting = gc.isenabled()
        gc.disable()  # millions of new tuples and no cycles among them: the cyclic GC would only slow this down
        try:
            intervals: list[tuple[int, int, bytes]] = []
            for c in credentials:
                if c.id in self:
                    raise StoreError(f"duplicate credential 0x{c.id.hex()}", code="store.inconsistent")
                self._put_cred(c)
                self._count += 1
                if c.status is not Status.REVOKED:
                    intervals.extend((s, e, c.id) for s, e in c.spans())
            self._segments = Segments.bulk(intervals)
        finally:
            if collecting:
                gc.enable()
        del intervals
        for b, h, since in blocks:
            self.set_holder_block(b, h, since)
        for tn, h, since in numbers:
            self.set_holder_number(tn, h, since)

    def add_credential(self, cred_id: bytes, *, kind: int, issuer: bytes, subject: bytes,
                       parent: bytes = ROOT_PARENT, flags: int, depth: int, valid_from: int, valid_until: int,
                       root_holder: str, root_since: int, ranges: Iterable[TNRange | tuple[int, int]],
                       status: int = Status.ACTIVE, role: str = "") -> TNCredential:
        """Insert one anchored credential (a CredentialAnchored event); O(log n + segments its ranges span)."""
        c = self._record(cred_id, kind, issuer, subject, parent, flags, depth, valid_from, valid_until, root_holder,
                         root_since, ranges, status, role)
        if c.id in self:
            raise StoreError(f"duplicate credential 0x{c.id.hex()}", code="store.inconsistent")
        self._put_cred(c)
        self._count += 1
        if c.status is not Status.REVOKED:
            for s, e in c.spans():
                self._segments.add(s, e, c.id)
        return c

    def _record(self, cred_id: bytes, kind: int, issuer: bytes, subject: bytes, parent: bytes, flags: int,
                depth: int, valid_from: int, valid_until: int, root_holder: str, root_since: int,
                ranges: Iterable[TNRange | tuple[int, int]], status: int, role: str = "") -> TNCredential:
        """Validate and build a record, sharing repeated DIDs, holders and parent ids; does not insert it."""
        if len(cred_id) != 32 or len(issuer) != 16 or len(subject) != 16 or len(parent) != 32:
            raise ValueError("ids are 32 bytes, DIDs 16 bytes")
        if kind not in _KINDS or flags not in _FLAGS or status not in _STATUSES:
            raise ValueError(f"not a TN credential record (kind {kind}, flags {flags}, status {status})")
        root = parent == ROOT_PARENT
        if root != (kind == Kind.TN_RIGHT_TO_USE) or root != (depth == 0) or not 0 <= depth <= MAX_DEPTH:
            raise ValueError(f"kind {kind} at depth {depth} {'without' if root else 'with'} a parent")
        up = None if root else self.get(parent)
        parent = ROOT_PARENT if root else up.id if up is not None else bytes(parent)
        intern = self._interned.setdefault
        return TNCredential(bytes(cred_id), _KINDS[kind], intern(bytes(issuer), bytes(issuer)),
                            intern(bytes(subject), bytes(subject)), parent, _FLAGS[flags], depth, valid_from,
                            valid_until, _STATUSES[status], self._holder(root_holder), root_since, _pack(ranges),
                            intern(role or _DEFAULT_ROLE[kind], role or _DEFAULT_ROLE[kind]))

    def set_status(self, cred_id: bytes, status: int) -> TNCredential:
        """Record a StatusChanged event. Revocation is final: the credential leaves the segments."""
        old = self.get(cred_id)
        if old is None:
            raise StoreError(f"status change for unknown credential 0x{cred_id.hex()}", code="store.inconsistent")
        if status not in _STATUSES:
            raise ValueError(f"unknown status {status}")
        if old.status is Status.REVOKED and status != Status.REVOKED:
            raise StoreError(f"credential 0x{cred_id.hex()} is revoked for good", code="store.inconsistent")
        new = old._replace(status=_STATUSES[status])
        self._put_cred(new)
        if new.status is Status.REVOKED and old.status is not Status.REVOKED:
            for s, e in old.spans():
                self._segments.remove(s, e, old.id)
        return new

    def set_holder_block(self, block: int, holder: str, since: int) -> None:
        """The thousand-block ``block`` (= tn // 1000) is held by ``holder`` since holding epoch ``since``."""
        self._writable("b", self._blocks, block % _SHARDS)[block] = (self._holder(holder), since)

    def set_holder_number(self, tn: int, holder: str, since: int) -> None:
        """One number held on its own (toll-free, or ported), overriding its block."""
        self._writable("n", self._numbers, tn % _SHARDS)[tn] = (self._holder(holder), since)

    def apply(self, change: Change) -> None:
        """Apply one change the sync made (:mod:`node.sync.changes`, computed once by
        :func:`node.sync.apply.apply_event` for the tables and for this index); changes that are not about TN
        credentials or holdings are ignored."""
        if isinstance(change, Holding):
            if change.blocks:
                for b in change.block_numbers():
                    self.set_holder_block(b, change.holder, change.since)
            else:
                for tn in change.numbers():
                    self.set_holder_number(tn, change.holder, change.since)
        elif isinstance(change, Anchored):
            if change.kind in _KINDS:
                self.add_credential(change.id, kind=change.kind, issuer=change.issuer, subject=change.subject,
                                    parent=change.parent, flags=change.flags, depth=change.depth,
                                    valid_from=change.valid_from, valid_until=change.valid_until,
                                    root_holder=change.root_holder, root_since=change.root_since, ranges=change.tns,
                                    role=change.role)
        elif isinstance(change, StatusSet) and change.id in self:
            self.set_status(change.id, change.status)

    def _holder(self, holder: str) -> str:
        h = holder.lower()
        return str(self._interned.setdefault(h, h))

    # -------------------------------------------------------------- reads

    def __len__(self) -> int:
        return self._count

    def __contains__(self, cred_id: object) -> bool:
        return isinstance(cred_id, bytes) and len(cred_id) > 0 and cred_id in self._creds[cred_id[0]]

    def get(self, cred_id: bytes) -> TNCredential | None:
        return self._creds[cred_id[0]].get(cred_id) if cred_id else None

    def credentials(self) -> Iterator[TNCredential]:
        for shard in self._creds:
            yield from shard.values()

    @property
    def segment_count(self) -> int:
        return len(self._segments)

    def holder_of(self, tn: int) -> tuple[str, int] | None:
        """(holder, since) of a number now: its own entry if it has one, else its block's; None if nobody."""
        held = self._numbers[tn % _SHARDS].get(tn)
        if held is not None:
            return held
        block = tn // BLOCK
        return self._blocks[block % _SHARDS].get(block)

    def single_numbers(self) -> set[int]:
        """The numbers held on their own (toll-free, ported) rather than through their thousand-block."""
        return {tn for shard in self._numbers for tn in shard}

    def chains(self, tn: int, *, now: int) -> list[Chain]:
        """Every credential covering ``tn`` at ``now`` with its live links, ordered by depth then id."""
        held = self.holder_of(tn)
        if held is None:
            return []
        holder, since = held
        out = []
        for cid in self._segments.stab(tn):
            leaf = self._creds[cid[0]][cid]
            if leaf.root_holder != holder or since > leaf.root_since:
                continue
            links = self._live_links(leaf, now)
            if links is not None:
                out.append(Chain(leaf, links))
        if len(out) > 1:
            out.sort(key=lambda ch: (ch.leaf.depth, ch.leaf.id))
        return out

    def covers(self, cred_id: bytes, tn: int, now: int) -> bool:
        return self.why_not(cred_id, tn, now) is None

    def why_not(self, cred_id: bytes, tn: int, now: int) -> str | None:
        """The first rule the credential fails for ``tn`` at ``now`` (a ``tn.*`` code), or None if it covers."""
        found = self.covering_chain(cred_id, tn, now)
        return found if isinstance(found, str) else None

    def covering_chain(self, cred_id: bytes, tn: int, now: int) -> Chain | str:
        """The credential's live chain (leaf first) if it covers ``tn`` at ``now``, else the first rule it fails
        (a ``tn.*`` code, as :meth:`why_not`). One walk up the chain serves both answers."""
        c = self._creds[cred_id[0]].get(cred_id) if cred_id else None
        if c is None:
            return UNKNOWN
        if not c.lists(tn):
            return NOT_IN_RANGE
        if c.status is Status.REVOKED:
            return REVOKED
        if c.status is Status.SUSPENDED:
            return SUSPENDED
        if now >= c.valid_until:
            return EXPIRED
        if now < c.valid_from:
            return NOT_YET_VALID
        links = self._live_links(c, now)
        if links is None:
            return PARENT_NOT_LIVE
        held = self.holder_of(tn)
        if held is None or held[0] != c.root_holder or held[1] > c.root_since:
            return PORTED
        return Chain(c, links)

    def _live_links(self, leaf: TNCredential, now: int) -> tuple[TNCredential, ...] | None:
        links = [leaf]
        cur = leaf
        for _ in range(MAX_DEPTH + 1):
            if cur.status is not Status.ACTIVE or not cur.valid_from <= now < cur.valid_until:
                return None
            if cur.parent == ROOT_PARENT:
                return tuple(links)
            up = self._creds[cur.parent[0]].get(cur.parent)
            if up is None:
                return None
            links.append(up)
            cur = up
        return None  # deeper than the registry allows: not trusted


def build_from_store(store: Store) -> TNIndex:
    """Load every TN credential and holding from the sync store's tables (``credentials``, ``number_blocks``,
    ``numbers``) into a new index. Rows come in insertion (= chain) order, so parents precede children."""
    return build_from_db(store.db)


def build_from_db(db: sqlite3.Connection) -> TNIndex:
    """:func:`build_from_store` on any connection to an index file (e.g. a read-only one)."""
    return build_from_reader(IndexReader(db))


def build_from_reader(reader: IndexReader) -> TNIndex:
    """Load every TN credential and holding the index tables hold into a new index (one sweep)."""
    index = TNIndex()
    records = (index._record(bytes(cid), kind, bytes(iss), bytes(sub), bytes(parent), flags, depth, vf, vu, holder,
                             since, json.loads(tns), status, role)  # tns: [[start, count], ...]
               for cid, kind, iss, sub, parent, flags, depth, vf, vu, holder, since, status, tns, role
               in reader.tn_records())
    index._load(records, reader.number_blocks(), reader.single_numbers())
    return index
