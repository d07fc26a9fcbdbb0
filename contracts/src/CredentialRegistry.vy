# pragma version ~=0.4.3
# pragma evm-version cancun
"""
@title EIDLN credential registry
@license Apache-2.0
@notice One record per verifiable credential: enterprise identity (by a vetting agency), TN right to use
        (by the provider that holds the numbers), TN delegation (by the subject of a live parent that may
        delegate, for a subset of its numbers). The signed credential travels in the anchoring event so
        every node re-verifies it without trusting the chain; storage keeps only what the rules read.
@dev TN sets are RFC 8226 TNAuthList ranges (start, count) in E.164 digits, sorted, non-overlapping and
     non-adjacent (canonical), so "subset" means every child range lies inside one parent range.
     Porting: a TN credential covers a number only while its root holder still holds the number and has
     held it since the root grant was anchored (NumberAuthority.holds with `since`).
"""

interface Members:
    def has_role(account: address, role: uint256) -> bool: view
    def has_any_role(account: address, roles: uint256) -> bool: view
    def is_known(account: address) -> bool: view

interface DIDRegistry:
    def is_controller(did: bytes16, account: address) -> bool: view
    def is_active(did: bytes16) -> bool: view

interface NumberAuthority:
    def holds(account: address, start: uint64, count: uint64, since: uint64) -> bool: view
    def epoch() -> uint64: view

TNSP: constant(uint256) = 2
RESP_ORG: constant(uint256) = 4
VETTER: constant(uint256) = 16

ENTERPRISE_IDENTITY: constant(uint8) = 1
TN_RIGHT_TO_USE: constant(uint8) = 2
TN_DELEGATION: constant(uint8) = 3

MAY_ORIGINATE: constant(uint8) = 1
MAY_DELEGATE: constant(uint8) = 2
ALL_FLAGS: constant(uint8) = 3

ACTIVE: constant(uint8) = 1
REVOKED: constant(uint8) = 2
SUSPENDED: constant(uint8) = 3

MAX_RANGES: constant(uint256) = 20
MAX_DEPTH: constant(uint8) = 8
MAX_CHAIN: constant(uint256) = 9  # MAX_DEPTH + 1 links from a leaf to its root
MAX_CREDENTIAL: constant(uint256) = 6144
MAX_BATCH: constant(uint256) = 16


struct TNRange:
    start: uint64
    count: uint64

struct Anchor:
    id: bytes32
    kind: uint8
    issuer: bytes16
    subject: bytes16
    parent: bytes32
    flags: uint8
    valid_from: uint64
    valid_until: uint64
    tns: DynArray[TNRange, MAX_RANGES]
    credential: Bytes[MAX_CREDENTIAL]

struct Record:
    kind: uint8
    status: uint8
    flags: uint8
    depth: uint8
    issuer: bytes16
    subject: bytes16
    parent: bytes32
    root_holder: address
    root_since: uint64
    valid_from: uint64
    valid_until: uint64


event CredentialAnchored:
    id: indexed(bytes32)
    issuer: indexed(bytes16)
    subject: indexed(bytes16)
    kind: uint8
    parent: bytes32
    flags: uint8
    depth: uint8
    valid_from: uint64
    valid_until: uint64
    root_holder: address
    root_since: uint64
    tns: DynArray[TNRange, MAX_RANGES]
    credential: Bytes[MAX_CREDENTIAL]

event StatusChanged:
    id: indexed(bytes32)
    by_account: indexed(address)
    old_status: uint8
    new_status: uint8


members: public(address)
dids: public(address)
numbers: public(address)
_records: HashMap[bytes32, Record]
_tns: HashMap[bytes32, DynArray[TNRange, MAX_RANGES]]


@deploy
def __init__(members: address, dids: address, numbers: address):
    """
    @param members The members contract (roles, governance).
    @param dids The DID registry (who controls an issuer DID).
    @param numbers The number authority (who holds which numbers).
    """
    self.members = members
    self.dids = dids
    self.numbers = numbers


# ---------------------------------------------------------------- checks


@view
@internal
def _check_tns(tns: DynArray[TNRange, MAX_RANGES]):
    assert len(tns) > 0, "credentials: no numbers"
    prev_end: uint64 = 0
    for r: TNRange in tns:
        # each range's own validity (count, digits) is checked by NumberAuthority.holds below
        assert r.start > prev_end, "credentials: ranges not canonical"
        prev_end = r.start + r.count  # the next range must start after this one ends, with a gap


@view
@internal
def _within(r: TNRange, outer: DynArray[TNRange, MAX_RANGES]) -> bool:
    for o: TNRange in outer:
        if r.start >= o.start and r.start + r.count <= o.start + o.count:
            return True
    return False


@view
@internal
def _live(id: bytes32, now: uint64) -> bool:
    cur: bytes32 = id
    for i: uint256 in range(MAX_CHAIN):
        rec: Record = self._records[cur]
        if rec.kind == 0 or rec.status != ACTIVE or now < rec.valid_from or now >= rec.valid_until:
            return False
        if rec.parent == empty(bytes32):
            return True
        cur = rec.parent
    return False


@view
@internal
def _holds_all(holder: address, tns: DynArray[TNRange, MAX_RANGES], since: uint64) -> bool:
    for r: TNRange in tns:
        if not staticcall NumberAuthority(self.numbers).holds(holder, r.start, r.count, since):
            return False
    return True


@internal
def _anchor(a: Anchor):
    now: uint64 = convert(block.timestamp, uint64)
    assert a.id != empty(bytes32), "credentials: empty id"
    assert self._records[a.id].kind == 0, "credentials: duplicate id"
    assert len(a.credential) > 0, "credentials: empty credential"
    assert staticcall Members(self.members).is_known(msg.sender), "credentials: unknown account"
    assert staticcall DIDRegistry(self.dids).is_controller(a.issuer, msg.sender), "credentials: not issuer controller"
    assert staticcall DIDRegistry(self.dids).is_active(a.subject), "credentials: unknown subject"
    assert a.issuer != a.subject, "credentials: self issued"
    assert a.valid_from < a.valid_until, "credentials: bad validity"
    assert a.valid_until > now, "credentials: expired"
    assert a.flags & ALL_FLAGS == a.flags, "credentials: bad flags"

    depth: uint8 = 0
    root_holder: address = empty(address)
    root_since: uint64 = 0
    if a.kind == ENTERPRISE_IDENTITY:
        assert staticcall Members(self.members).has_role(msg.sender, VETTER), "credentials: not vetter"
        assert a.parent == empty(bytes32) and len(a.tns) == 0 and a.flags == 0, "credentials: bad identity"
    elif a.kind == TN_RIGHT_TO_USE:
        assert staticcall Members(self.members).has_any_role(msg.sender, TNSP | RESP_ORG), "credentials: not tn holder role"
        assert a.parent == empty(bytes32), "credentials: root has parent"
        self._check_tns(a.tns)
        root_since = staticcall NumberAuthority(self.numbers).epoch()
        assert self._holds_all(msg.sender, a.tns, root_since), "credentials: numbers not held"
        root_holder = msg.sender
    elif a.kind == TN_DELEGATION:
        parent: Record = self._records[a.parent]
        assert parent.kind == TN_RIGHT_TO_USE or parent.kind == TN_DELEGATION, "credentials: unknown parent"
        assert parent.subject == a.issuer, "credentials: not parent subject"
        assert self._live(a.parent, now), "credentials: parent not live"
        assert parent.flags & MAY_DELEGATE != 0, "credentials: parent may not delegate"
        assert a.flags & parent.flags == a.flags, "credentials: wider than parent"
        assert a.valid_until <= parent.valid_until and a.valid_from >= parent.valid_from, "credentials: outlives parent"
        assert parent.depth < MAX_DEPTH, "credentials: too deep"
        self._check_tns(a.tns)
        parent_tns: DynArray[TNRange, MAX_RANGES] = self._tns[a.parent]
        for r: TNRange in a.tns:
            assert self._within(r, parent_tns), "credentials: not a subset"
        assert self._holds_all(parent.root_holder, a.tns, parent.root_since), "credentials: numbers ported"
        depth = parent.depth + 1
        root_holder = parent.root_holder
        root_since = parent.root_since
    else:
        raise "credentials: unknown kind"

    self._records[a.id] = Record(
        kind=a.kind, status=ACTIVE, flags=a.flags, depth=depth, issuer=a.issuer, subject=a.subject,
        parent=a.parent, root_holder=root_holder, root_since=root_since, valid_from=a.valid_from,
        valid_until=a.valid_until,
    )
    if len(a.tns) > 0:
        self._tns[a.id] = a.tns
    log CredentialAnchored(
        id=a.id, issuer=a.issuer, subject=a.subject, kind=a.kind, parent=a.parent, flags=a.flags, depth=depth,
        valid_from=a.valid_from, valid_until=a.valid_until, root_holder=root_holder, root_since=root_since, tns=a.tns,
        credential=a.credential,
    )


# ---------------------------------------------------------------- writes


@external
def anchor(a: Anchor):
    """
    @notice Anchor one signed credential under the ledger's rules (see the contract notice).
    @param a The record fields and the signed credential bytes.
    """
    self._anchor(a)


@external
def anchor_batch(batch: DynArray[Anchor, MAX_BATCH]):
    """
    @notice Anchor several credentials in order, all or nothing. A later one may name an earlier one as
            its parent.
    """
    assert len(batch) > 0, "credentials: empty batch"
    for a: Anchor in batch:
        self._anchor(a)


@internal
def _set_status(id: bytes32, expect: uint8, new_status: uint8):
    rec: Record = self._records[id]
    assert rec.kind != 0, "credentials: not found"
    if expect == 0:
        assert rec.status != REVOKED, "credentials: already revoked"
    else:
        assert rec.status == expect, "credentials: wrong status"
    governance: bool = msg.sender == self.members
    assert governance or staticcall DIDRegistry(self.dids).is_controller(rec.issuer, msg.sender), "credentials: not issuer"
    self._records[id].status = new_status
    log StatusChanged(id=id, by_account=msg.sender, old_status=rec.status, new_status=new_status)


@external
def revoke(id: bytes32):
    """
    @notice Revoke for good; everything delegated below it ends too. The issuer's controller, or
            governance by proposal.
    """
    self._set_status(id, 0, REVOKED)


@external
def suspend(id: bytes32):
    """
    @notice Suspend an active credential (reversible). The issuer's controller, or governance.
    """
    self._set_status(id, ACTIVE, SUSPENDED)


@external
def reinstate(id: bytes32):
    """
    @notice Reinstate a suspended credential. The issuer's controller, or governance.
    """
    self._set_status(id, SUSPENDED, ACTIVE)


# ---------------------------------------------------------------- views


@view
@external
def record(id: bytes32) -> Record:
    """
    @notice The stored record (kind 0 if unknown). Status: 1 active, 2 revoked, 3 suspended.
    """
    return self._records[id]


@view
@external
def tn_ranges(id: bytes32) -> DynArray[TNRange, MAX_RANGES]:
    """
    @notice The credential's TN ranges.
    """
    return self._tns[id]


@view
@external
def is_live(id: bytes32) -> bool:
    """
    @notice True if the credential and every link above it are active and inside their validity now.
    """
    return self._live(id, convert(block.timestamp, uint64))


@view
@external
def covers(id: bytes32, tn: uint64) -> bool:
    """
    @notice True if the credential is live, lists the number, its subject DID is active, and its root
            holder is still a TNSP / Resp Org member that has held the number without interruption since
            the root grant.
    """
    if not self._live(id, convert(block.timestamp, uint64)):
        return False
    rec: Record = self._records[id]
    if rec.kind == ENTERPRISE_IDENTITY:
        return False
    if not staticcall DIDRegistry(self.dids).is_active(rec.subject):
        return False
    if not staticcall Members(self.members).has_any_role(rec.root_holder, TNSP | RESP_ORG):
        return False
    if not self._within(TNRange(start=tn, count=1), self._tns[id]):
        return False
    return staticcall NumberAuthority(self.numbers).holds(rec.root_holder, tn, 1, rec.root_since)
