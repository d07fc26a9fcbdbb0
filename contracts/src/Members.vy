# pragma version ~=0.4.3
# pragma evm-version cancun
"""
@title EIDLN members and governance
@license Apache-2.0
@notice Who may write to the ledger. Members (service providers, vetting agencies, governors) carry roles
        and are admitted, changed and removed only by M-of-N governor votes. Members that are not pure
        governors endorse (onboard) enterprises and call centers, Indy's ENDORSER idea, so that every
        writing account is known. Every governance action is a proposal holding the calldata of one call
        to this contract or to a bound system contract; it runs when the threshold of votes is reached.
@dev Revert reasons are namespaced ("members: ...") and become error codes in the node.
"""

GOVERNOR: constant(uint256) = 1
TNSP: constant(uint256) = 2
RESP_ORG: constant(uint256) = 4
TN_RESELLER: constant(uint256) = 8
VETTER: constant(uint256) = 16
OSP: constant(uint256) = 32
ALL_ROLES: constant(uint256) = 63
# roles that are service providers and therefore carry an SPC / OCN / Resp Org id
SP_ROLES: constant(uint256) = 46
# roles that may endorse (onboard) accounts
ENDORSER_ROLES: constant(uint256) = 62

MAX_GOVERNORS: constant(uint256) = 32
MAX_CALLDATA: constant(uint256) = 1024
MAX_SYSTEM: constant(uint256) = 8
PROPOSAL_TTL: constant(uint256) = 604800  # seconds a proposal stays open (7 days)

OPEN: constant(uint8) = 1
EXECUTED: constant(uint8) = 2
CANCELLED: constant(uint8) = 3


struct Proposal:
    target: address
    proposer: address
    votes: uint256
    deadline: uint256
    state: uint8
    calldata: Bytes[MAX_CALLDATA]


event MemberAdmitted:
    account: indexed(address)
    roles: uint256
    spc: String[8]
    name: String[64]

event RolesChanged:
    account: indexed(address)
    old_roles: uint256
    new_roles: uint256

event MemberRemoved:
    account: indexed(address)
    old_roles: uint256

event ThresholdChanged:
    old_threshold: uint256
    new_threshold: uint256

event ProposalCreated:
    proposal_id: indexed(uint256)
    proposer: indexed(address)
    target: address
    calldata: Bytes[MAX_CALLDATA]
    deadline: uint256

event Voted:
    proposal_id: indexed(uint256)
    voter: indexed(address)
    votes: uint256

event ProposalExecuted:
    proposal_id: indexed(uint256)

event ProposalCancelled:
    proposal_id: indexed(uint256)

event AccountOnboarded:
    account: indexed(address)
    endorser: indexed(address)
    kind: String[32]

event AccountOffboarded:
    account: indexed(address)
    by_account: indexed(address)

event SystemBound:
    contracts: DynArray[address, MAX_SYSTEM]


roles: public(HashMap[address, uint256])
spc: public(HashMap[address, String[8]])
endorser_of: public(HashMap[address, address])
governor_count: public(uint256)
threshold: public(uint256)
proposal_count: public(uint256)
voted: public(HashMap[uint256, HashMap[address, bool]])
governed: public(HashMap[address, bool])
_proposals: HashMap[uint256, Proposal]
_deployer: address
_bound: bool


@deploy
def __init__(governors: DynArray[address, MAX_GOVERNORS], threshold: uint256):
    """
    @notice Create the network with its first governors.
    @param governors The first governor accounts (distinct, non-zero).
    @param threshold Votes needed to pass a proposal, 1..len(governors).
    """
    assert len(governors) > 0, "members: no governors"
    assert threshold >= 1 and threshold <= len(governors), "members: bad threshold"
    for g: address in governors:
        assert g != empty(address), "members: zero account"
        assert self.roles[g] == 0, "members: already member"
        self.roles[g] = GOVERNOR
        log MemberAdmitted(account=g, roles=GOVERNOR, spc="", name="founding governor")
    self.governor_count = len(governors)
    self.threshold = threshold
    self.governed[self] = True
    self._deployer = msg.sender
    log ThresholdChanged(old_threshold=0, new_threshold=threshold)


@external
def bind(contracts: DynArray[address, MAX_SYSTEM]):
    """
    @notice Name, once, the system contracts governance may call. Only the deployer, only once.
    @param contracts The number authority, DID registry and credential registry.
    """
    assert msg.sender == self._deployer, "members: not deployer"
    assert not self._bound, "members: already bound"
    for c: address in contracts:
        assert c.is_contract, "members: not a contract"
        self.governed[c] = True
    self._bound = True
    log SystemBound(contracts=contracts)


# ---------------------------------------------------------------- proposals


@external
def propose(target: address, calldata: Bytes[MAX_CALLDATA]) -> uint256:
    """
    @notice Propose one governance call; the proposer's vote counts at once.
    @param target This contract or a bound system contract.
    @param calldata ABI-encoded call (selector and arguments).
    @return The proposal id (1, 2, ...).
    """
    assert self.roles[msg.sender] & GOVERNOR != 0, "members: not governor"
    assert self.governed[target], "members: target not governed"
    assert len(calldata) >= 4, "members: empty calldata"
    pid: uint256 = self.proposal_count + 1
    self.proposal_count = pid
    deadline: uint256 = block.timestamp + PROPOSAL_TTL
    self._proposals[pid] = Proposal(
        target=target, proposer=msg.sender, votes=0, deadline=deadline, state=OPEN, calldata=calldata
    )
    log ProposalCreated(proposal_id=pid, proposer=msg.sender, target=target, calldata=calldata, deadline=deadline)
    self._vote(pid)
    return pid


@external
def vote(proposal_id: uint256):
    """
    @notice Vote for an open proposal; it runs when the threshold is reached.
    @param proposal_id The proposal.
    """
    assert self.roles[msg.sender] & GOVERNOR != 0, "members: not governor"
    self._vote(proposal_id)


@external
def cancel(proposal_id: uint256):
    """
    @notice Withdraw an open proposal. Only its proposer.
    @param proposal_id The proposal.
    """
    p: Proposal = self._proposals[proposal_id]
    assert p.state == OPEN, "members: proposal not open"
    assert p.proposer == msg.sender, "members: not proposer"
    self._proposals[proposal_id].state = CANCELLED
    log ProposalCancelled(proposal_id=proposal_id)


@view
@external
def proposal(proposal_id: uint256) -> Proposal:
    """
    @notice A proposal's target, proposer, votes, deadline, state (1 open, 2 executed, 3 cancelled), calldata.
    """
    return self._proposals[proposal_id]


@internal
def _vote(pid: uint256):
    p: Proposal = self._proposals[pid]
    assert p.state == OPEN, "members: proposal not open"
    assert block.timestamp <= p.deadline, "members: proposal expired"
    assert not self.voted[pid][msg.sender], "members: already voted"
    self.voted[pid][msg.sender] = True
    votes: uint256 = p.votes + 1
    self._proposals[pid].votes = votes
    log Voted(proposal_id=pid, voter=msg.sender, votes=votes)
    if votes >= self.threshold:
        # state first: the call below may not re-enter this proposal
        self._proposals[pid].state = EXECUTED
        raw_call(p.target, p.calldata)
        log ProposalExecuted(proposal_id=pid)


# ---------------------------------------------------------------- governance actions (via proposals)


@internal
def _only_governance():
    assert msg.sender == self, "members: only by proposal"


@internal
def _check_roles(new_roles: uint256, spc: String[8]):
    assert new_roles != 0 and new_roles & ALL_ROLES == new_roles, "members: bad roles"
    if new_roles & SP_ROLES != 0:
        assert len(spc) > 0, "members: spc required"


@internal
def _governor_delta(old_roles: uint256, new_roles: uint256):
    count: uint256 = self.governor_count
    if old_roles & GOVERNOR != 0 and new_roles & GOVERNOR == 0:
        count -= 1
    elif old_roles & GOVERNOR == 0 and new_roles & GOVERNOR != 0:
        count += 1
    assert count >= self.threshold, "members: quorum lost"
    assert count <= MAX_GOVERNORS, "members: too many governors"
    self.governor_count = count


@external
def admit(account: address, roles: uint256, spc: String[8], name: String[64]):
    """
    @notice Admit a member. Only by proposal.
    @param account The member's ledger account.
    @param roles Bit set: 1 GOVERNOR, 2 TNSP, 4 RESP_ORG, 8 TN_RESELLER, 16 VETTER, 32 OSP.
    @param spc SPC / OCN (or Resp Org id); required for service-provider roles.
    @param name Display name.
    """
    self._only_governance()
    assert account != empty(address), "members: zero account"
    assert self.roles[account] == 0, "members: already member"
    self._check_roles(roles, spc)
    self._governor_delta(0, roles)
    if self.endorser_of[account] != empty(address):
        self.endorser_of[account] = empty(address)
    self.roles[account] = roles
    self.spc[account] = spc
    log MemberAdmitted(account=account, roles=roles, spc=spc, name=name)


@external
def set_roles(account: address, roles: uint256, spc: String[8]):
    """
    @notice Change a member's roles (and SPC). Only by proposal.
    @param account The member.
    @param roles The new role bit set (non-zero; use remove to remove).
    @param spc The new SPC / OCN.
    """
    self._only_governance()
    old_roles: uint256 = self.roles[account]
    assert old_roles != 0, "members: not member"
    self._check_roles(roles, spc)
    self._governor_delta(old_roles, roles)
    self.roles[account] = roles
    self.spc[account] = spc
    log RolesChanged(account=account, old_roles=old_roles, new_roles=roles)


@external
def remove(account: address):
    """
    @notice Remove a member. Only by proposal. The governors left must still reach the threshold.
    @param account The member.
    """
    self._only_governance()
    old_roles: uint256 = self.roles[account]
    assert old_roles != 0, "members: not member"
    self._governor_delta(old_roles, 0)
    self.roles[account] = 0
    self.spc[account] = ""
    log MemberRemoved(account=account, old_roles=old_roles)


@external
def set_threshold(threshold: uint256):
    """
    @notice Change the number of votes a proposal needs. Only by proposal.
    @param threshold 1..governor_count.
    """
    self._only_governance()
    assert threshold >= 1 and threshold <= self.governor_count, "members: bad threshold"
    log ThresholdChanged(old_threshold=self.threshold, new_threshold=threshold)
    self.threshold = threshold


# ---------------------------------------------------------------- onboarding (endorsement)


@external
def onboard(account: address, kind: String[32]):
    """
    @notice Onboard an enterprise, call center, vendor or CPaaS account so that it may write its own DIDs.
    @dev Only a member with a service-provider or vetting role may endorse.
    @param account The account to onboard.
    @param kind What it is ("enterprise", "call-center", ...), for the record.
    """
    assert self.roles[msg.sender] & ENDORSER_ROLES != 0, "members: not endorser"
    assert account != empty(address), "members: zero account"
    assert self.roles[account] == 0, "members: already member"
    assert self.endorser_of[account] == empty(address), "members: already onboarded"
    self.endorser_of[account] = msg.sender
    log AccountOnboarded(account=account, endorser=msg.sender, kind=kind)


@external
def offboard(account: address):
    """
    @notice Remove an onboarded account. Only its endorser while it still holds an endorsing role, or
            governance by proposal. (Accounts stay onboarded when their endorser is removed; governance
            offboards them if it must.)
    @param account The onboarded account.
    """
    endorser: address = self.endorser_of[account]
    assert endorser != empty(address), "members: not onboarded"
    by_endorser: bool = msg.sender == endorser and self.roles[msg.sender] & ENDORSER_ROLES != 0
    assert by_endorser or msg.sender == self, "members: not endorser"
    self.endorser_of[account] = empty(address)
    log AccountOffboarded(account=account, by_account=msg.sender)


# ---------------------------------------------------------------- views


@view
@external
def has_role(account: address, role: uint256) -> bool:
    """
    @notice True if the account holds every role bit in `role`.
    """
    return role != 0 and self.roles[account] & role == role


@view
@external
def has_any_role(account: address, roles: uint256) -> bool:
    """
    @notice True if the account holds at least one of the role bits in `roles`.
    """
    return self.roles[account] & roles != 0


@view
@external
def is_known(account: address) -> bool:
    """
    @notice True for a member or an onboarded account: the accounts that may write.
    """
    return self.roles[account] != 0 or self.endorser_of[account] != empty(address)
