# pragma version ~=0.4.3
# pragma evm-version cancun
"""
@title EIDLN number authority
@license Apache-2.0
@notice Which provider holds which telephone numbers, as the numbering administrator (governance) sets it:
        thousand-blocks assigned to TNSPs, single numbers (toll-free numbers to Resp Orgs; any number
        ported) held individually. Numbers are E.164 digits read as an integer (no leading zeros in E.164).
@dev Porting rule (read by the credential registry and the node): a TN grant rests on its root holder's
     holding. It covers a number only while that holder holds the number and has held it since before the
     grant was anchored (`holds(..., since)`). "Since" is the holding epoch: a counter that every assignment
     and every port increments, so the order is exact even when several blocks share a timestamp or a
     port and a grant share a block. A number ported away ends every grant and delegation for that
     number at once, and porting it back later does not revive them.
"""

interface Members:
    def has_role(account: address, role: uint256) -> bool: view

TNSP: constant(uint256) = 2
RESP_ORG: constant(uint256) = 4

BLOCK: constant(uint64) = 1000
MAX_BLOCKS_PER_CALL: constant(uint256) = 100
MAX_NUMBERS_PER_CALL: constant(uint256) = 1000
MAX_RANGE_COUNT: constant(uint64) = 100000
MAX_RANGE_BLOCKS: constant(uint256) = 101
MAX_TN: constant(uint64) = 999999999999999  # 15 digits
MIN_TN: constant(uint64) = 1000000  # 7 digits


event BlocksAssigned:
    start: indexed(uint64)
    count: uint64
    holder: indexed(address)
    epoch: uint64

event NumbersAssigned:
    start: indexed(uint64)
    count: uint64
    holder: indexed(address)
    epoch: uint64

event NumbersPorted:
    start: indexed(uint64)
    count: uint64
    from_holder: indexed(address)
    to_holder: indexed(address)
    epoch: uint64


members: public(address)
epoch: public(uint64)  # holding epoch: +1 at every assignment or port
block_holder: public(HashMap[uint64, address])
block_since: public(HashMap[uint64, uint64])
number_holder: public(HashMap[uint64, address])
number_since: public(HashMap[uint64, uint64])
overrides: public(HashMap[uint64, uint256])
override_bits: public(HashMap[uint64, uint256[4]])  # which numbers of a block have their own entry


@deploy
def __init__(members: address):
    """
    @param members The members contract: its proposals are the numbering administrator.
    """
    self.members = members


# ---------------------------------------------------------------- pure rules


@pure
@internal
def _digits(n: uint64) -> uint256:
    d: uint256 = 1
    p: uint64 = 10
    for i: uint256 in range(19):
        if n < p:
            return d
        d += 1
        p = p * 10
    return d


@pure
@internal
def _toll_free(tn: uint64) -> bool:
    # NANP toll-free: +1 800/833/844/855/866/877/888 NXX XXXX (11 digits)
    if tn < 10000000000 or tn > 19999999999:
        return False
    npa: uint64 = (tn // 10000000) % 1000
    return npa == 800 or npa == 833 or npa == 844 or npa == 855 or npa == 866 or npa == 877 or npa == 888


@pure
@external
def is_toll_free(tn: uint64) -> bool:
    """
    @notice True for a NANP toll-free number (8XX codes 800, 833, 844, 855, 866, 877, 888).
    """
    return self._toll_free(tn)


@pure
@internal
def _check_range(start: uint64, count: uint64):
    assert count >= 1 and count <= MAX_RANGE_COUNT, "numbers: bad count"
    assert start >= MIN_TN and start <= MAX_TN, "numbers: bad number"
    last: uint64 = start + count - 1
    assert last <= MAX_TN, "numbers: bad number"
    assert self._digits(start) == self._digits(last), "numbers: range crosses length"


@pure
@external
def check_range(start: uint64, count: uint64) -> bool:
    """
    @notice Reverts with the reason if (start, count) is not a valid number range; True otherwise.
    """
    self._check_range(start, count)
    return True


# ---------------------------------------------------------------- holdings


@view
@internal
def _holder(tn: uint64) -> (address, uint64):
    h: address = self.number_holder[tn]
    if h != empty(address):
        return h, self.number_since[tn]
    b: uint64 = tn // BLOCK
    return self.block_holder[b], self.block_since[b]


@view
@external
def holder_of(tn: uint64) -> address:
    """
    @notice The provider that holds a number now (zero address if nobody).
    """
    h: address = empty(address)
    s: uint64 = 0
    h, s = self._holder(tn)
    return h


@view
@external
def holder_since(tn: uint64) -> uint64:
    """
    @notice The holding epoch at which the current holder got the number; 0 if nobody holds it.
    """
    h: address = empty(address)
    s: uint64 = 0
    h, s = self._holder(tn)
    return s


@view
@internal
def _holds(account: address, start: uint64, count: uint64, since: uint64) -> bool:
    if account == empty(address):
        return False
    last: uint64 = start + count - 1
    first_block: uint64 = start // BLOCK
    nblocks: uint64 = last // BLOCK - first_block + 1
    for i: uint256 in range(convert(nblocks, uint256), bound=MAX_RANGE_BLOCKS):
        b: uint64 = first_block + convert(i, uint64)
        if self.overrides[b] == 0:
            if self.block_holder[b] != account or self.block_since[b] > since:
                return False
        else:
            # per-number entries exist in this block: read them from the bitmap, and only those from storage
            lo: uint64 = max(start, b * BLOCK)
            hi: uint64 = min(last, b * BLOCK + BLOCK - 1)
            bits: uint256[4] = self.override_bits[b]
            block_ok: bool = self.block_holder[b] == account and self.block_since[b] <= since
            for j: uint256 in range(convert(hi - lo + 1, uint256), bound=1000):
                tn: uint64 = lo + convert(j, uint64)
                off: uint256 = convert(tn - b * BLOCK, uint256)
                if (bits[off // 256] >> (off % 256)) & 1 == 1:
                    if self.number_holder[tn] != account or self.number_since[tn] > since:
                        return False
                elif not block_ok:
                    return False
    return True


@view
@external
def holds(account: address, start: uint64, count: uint64, since: uint64) -> bool:
    """
    @notice True if `account` holds every number in [start, start+count) and has held each since `since`
            or earlier.
    @param since A holding epoch; pass a grant's `root_since` to ask whether the grant still stands, or
           max_value(uint64) for "holds now".
    """
    self._check_range(start, count)
    return self._holds(account, start, count, since)


# ---------------------------------------------------------------- numbering administrator (via proposals)


@internal
def _only_governance():
    assert msg.sender == self.members, "numbers: only by proposal"


@internal
def _next_epoch() -> uint64:
    e: uint64 = self.epoch + 1
    self.epoch = e
    return e


@internal
def _mark(tn: uint64):
    b: uint64 = tn // BLOCK
    off: uint256 = convert(tn - b * BLOCK, uint256)
    self.override_bits[b][off // 256] |= 1 << (off % 256)
    self.overrides[b] += 1


@view
@internal
def _check_holder_role(holder: address, toll_free: bool):
    if toll_free:
        assert staticcall Members(self.members).has_role(holder, RESP_ORG), "numbers: holder not resp org"
    else:
        assert staticcall Members(self.members).has_role(holder, TNSP), "numbers: holder not tnsp"


@external
def assign_blocks(start: uint64, count: uint64, holder: address):
    """
    @notice Assign whole thousand-blocks to a TNSP. Only by proposal.
    @param start First number, a multiple of 1000.
    @param count A multiple of 1000, at most 100 blocks.
    @param holder A member with the TNSP role.
    """
    self._only_governance()
    self._check_range(start, count)
    assert start % BLOCK == 0 and count % BLOCK == 0, "numbers: not block aligned"
    assert convert(count // BLOCK, uint256) <= MAX_BLOCKS_PER_CALL, "numbers: too many"
    assert not self._toll_free(start) and not self._toll_free(start + count - 1), "numbers: toll free by number"
    self._check_holder_role(holder, False)
    now: uint64 = self._next_epoch()
    for i: uint256 in range(convert(count // BLOCK, uint256), bound=MAX_BLOCKS_PER_CALL):
        b: uint64 = start // BLOCK + convert(i, uint64)
        assert self.block_holder[b] == empty(address) and self.overrides[b] == 0, "numbers: already assigned"
        self.block_holder[b] = holder
        self.block_since[b] = now
    log BlocksAssigned(start=start, count=count, holder=holder, epoch=now)


@external
def assign_numbers(start: uint64, count: uint64, holder: address):
    """
    @notice Assign single numbers (toll-free numbers to a Resp Org, other numbers to a TNSP). Only by
            proposal.
    @param start First number.
    @param count At most 1000 numbers, all unassigned.
    @param holder A RESP_ORG member for toll-free numbers, a TNSP otherwise.
    """
    self._only_governance()
    self._check_range(start, count)
    assert convert(count, uint256) <= MAX_NUMBERS_PER_CALL, "numbers: too many"
    toll_free: bool = self._toll_free(start)
    assert toll_free == self._toll_free(start + count - 1), "numbers: mixed toll free"
    self._check_holder_role(holder, toll_free)
    now: uint64 = self._next_epoch()
    for i: uint256 in range(convert(count, uint256), bound=MAX_NUMBERS_PER_CALL):
        tn: uint64 = start + convert(i, uint64)
        h: address = empty(address)
        s: uint64 = 0
        h, s = self._holder(tn)
        assert h == empty(address), "numbers: already assigned"
        self.number_holder[tn] = holder
        self.number_since[tn] = now
        self._mark(tn)
    log NumbersAssigned(start=start, count=count, holder=holder, epoch=now)


@external
def port(start: uint64, count: uint64, to_holder: address):
    """
    @notice Port numbers to another provider. Only by proposal. Every number must be held by the same
            provider now. Whole blocks without single-number entries move as blocks; otherwise each
            number moves (at most 1000 per call). Grants resting on the old holding end for these numbers.
    @param start First number.
    @param count How many.
    @param to_holder The gaining provider (RESP_ORG for toll-free numbers, TNSP otherwise).
    """
    self._only_governance()
    self._check_range(start, count)
    toll_free: bool = self._toll_free(start)
    assert toll_free == self._toll_free(start + count - 1), "numbers: mixed toll free"
    self._check_holder_role(to_holder, toll_free)
    from_holder: address = empty(address)
    s: uint64 = 0
    from_holder, s = self._holder(start)
    assert from_holder != empty(address), "numbers: not assigned"
    assert from_holder != to_holder, "numbers: same holder"
    assert self._holds(from_holder, start, count, max_value(uint64)), "numbers: mixed holders"
    now: uint64 = self._next_epoch()
    whole: bool = start % BLOCK == 0 and count % BLOCK == 0
    if whole:
        for i: uint256 in range(convert(count // BLOCK, uint256), bound=MAX_RANGE_BLOCKS):
            if self.overrides[start // BLOCK + convert(i, uint64)] != 0:
                whole = False
                break
    if whole:
        for i: uint256 in range(convert(count // BLOCK, uint256), bound=MAX_RANGE_BLOCKS):
            b: uint64 = start // BLOCK + convert(i, uint64)
            self.block_holder[b] = to_holder
            self.block_since[b] = now
    else:
        assert convert(count, uint256) <= MAX_NUMBERS_PER_CALL, "numbers: too many"
        for i: uint256 in range(convert(count, uint256), bound=MAX_NUMBERS_PER_CALL):
            tn: uint64 = start + convert(i, uint64)
            if self.number_holder[tn] == empty(address):
                self._mark(tn)
            self.number_holder[tn] = to_holder
            self.number_since[tn] = now
    log NumbersPorted(start=start, count=count, from_holder=from_holder, to_holder=to_holder, epoch=now)
