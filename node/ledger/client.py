"""The ledger client: typed reads and rule-checked writes against the four contracts, on any backend.

Every write is preflighted with ``eth_call`` from the sending account: a rule violation comes back as a
:class:`~node.errors.LedgerRuleError` carrying the contract's namespaced reason as its code, and nothing is
sent. A transaction that still fails on-chain (a race with another writer) raises
:class:`~node.errors.TransactionFailed` after re-reading the reason at that block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts.vocab import Role
from node.chain.base import Call, ChainBackend, Receipt
from node.errors import ChainRevert, LedgerRuleError, TransactionFailed
from node.ledger.codec import Event, codec
from node.ledger.deployment import Deployment

if TYPE_CHECKING:  # annotations only: reading the ledger must not import eth_account (and the BLS code it loads)
    from eth_account.signers.local import LocalAccount

__all__ = ["Action", "Ledger", "ProposalResult", "deploy_network", "GAS"]

GAS = {
    "deploy": 6_000_000,
    "default": 3_000_000,
    "anchor": 8_000_000,
    "anchor_batch": 40_000_000,
    "numbers": 30_000_000,
}


@dataclass(frozen=True, slots=True)
class Action:
    """One governance call: ``contract.fn(*args)``, run by the Members contract when a proposal passes."""

    contract: str
    fn: str
    args: tuple[Any, ...]

    # member actions
    @classmethod
    def admit(cls, account: str, roles: Role | int, spc: str = "", name: str = "") -> Action:
        return cls("Members", "admit", (account, int(roles), spc, name))

    @classmethod
    def set_roles(cls, account: str, roles: Role | int, spc: str = "") -> Action:
        return cls("Members", "set_roles", (account, int(roles), spc))

    @classmethod
    def remove(cls, account: str) -> Action:
        return cls("Members", "remove", (account,))

    @classmethod
    def set_threshold(cls, threshold: int) -> Action:
        return cls("Members", "set_threshold", (threshold,))

    @classmethod
    def offboard(cls, account: str) -> Action:
        return cls("Members", "offboard", (account,))

    # numbering administrator
    @classmethod
    def assign_blocks(cls, start: int, count: int, holder: str) -> Action:
        return cls("NumberAuthority", "assign_blocks", (start, count, holder))

    @classmethod
    def assign_numbers(cls, start: int, count: int, holder: str) -> Action:
        return cls("NumberAuthority", "assign_numbers", (start, count, holder))

    @classmethod
    def port(cls, start: int, count: int, to_holder: str) -> Action:
        return cls("NumberAuthority", "port", (start, count, to_holder))

    # governance over credentials
    @classmethod
    def revoke_credential(cls, credential_id: bytes) -> Action:
        return cls("CredentialRegistry", "revoke", (credential_id,))

    def calldata(self) -> bytes:
        return codec(self.contract).encode(self.fn, *self.args)


@dataclass(frozen=True, slots=True)
class ProposalResult:
    proposal_id: int
    votes: int
    executed: bool
    receipt: Receipt


class Ledger:
    """Reads and writes against one deployment on one backend."""

    def __init__(self, backend: ChainBackend, deployment: Deployment) -> None:
        self.backend = backend
        self.deployment = deployment
        self._addr = deployment.addresses()
        self._names = {a.lower(): n for n, a in self._addr.items()}

    @property
    def network(self) -> str:
        return self.deployment.network

    def head_time(self) -> int:
        """The timestamp of the chain's newest block."""
        return self.backend.block(self.backend.head()).timestamp

    def address(self, contract: str) -> str:
        return self._addr[contract]

    # ------------------------------------------------------------------ generic

    def call(self, contract: str, fn: str, *args: Any, block: int | None = None) -> Any:
        c = codec(contract)
        sender = "0x0000000000000000000000000000000000000000"
        try:
            out = self.backend.call(sender, self._addr[contract], c.encode(fn, *args), block=block)
        except ChainRevert as exc:
            raise LedgerRuleError(exc.reason) from None
        return c.decode_result(fn, out)

    def transact(self, account: LocalAccount, contract: str, fn: str, *args: Any, gas: int | None = None) -> Receipt:
        """Preflight, send, and check one call; raises LedgerRuleError with the contract's reason."""
        data = codec(contract).encode(fn, *args)
        return self._send(account, self._addr[contract], data, gas or GAS.get(fn, GAS["default"]))

    def _send(self, account: LocalAccount, to: str, data: bytes, gas: int) -> Receipt:
        try:
            self.backend.call(account.address, to, data)
        except ChainRevert as exc:
            raise LedgerRuleError(exc.reason) from None
        (receipt,) = self.backend.send(account, [Call(to=to, data=data, gas=gas)])
        if receipt.status != 1:
            reason = ""
            try:
                # the state after the block holds whatever made this transaction fail (a write earlier in
                # the same block included), so the call there reproduces the rule's reason
                self.backend.call(account.address, to, data, block=receipt.block_number)
            except ChainRevert as exc:
                reason = exc.reason
            if reason:
                raise LedgerRuleError(reason, message=f"the ledger refused the operation when it was mined: {reason}")
            raise TransactionFailed(f"transaction 0x{receipt.tx_hash.hex()} failed in block "
                                    f"{receipt.block_number} (gas used {receipt.gas_used} of {gas})")
        return receipt

    def events(self, receipt: Receipt) -> list[Event]:
        out = []
        for log in receipt.logs:
            name = self._names.get(log.address.lower())
            if name and codec(name).knows(log):
                out.append(codec(name).decode_log(log))
        return out

    # ------------------------------------------------------------------ governance

    def propose(self, account: LocalAccount, action: Action) -> ProposalResult:
        receipt = self.transact(account, "Members", "propose", self._addr[action.contract], action.calldata(),
                                gas=GAS["numbers"] if action.contract == "NumberAuthority" else GAS["default"])
        return self._proposal_result(receipt)

    def vote(self, account: LocalAccount, proposal_id: int) -> ProposalResult:
        p = self.proposal(proposal_id)
        gas = GAS["numbers"] if p["target"] == self._addr["NumberAuthority"] else GAS["default"]
        return self._proposal_result(self.transact(account, "Members", "vote", proposal_id, gas=gas))

    def cancel(self, account: LocalAccount, proposal_id: int) -> Receipt:
        return self.transact(account, "Members", "cancel", proposal_id)

    def _proposal_result(self, receipt: Receipt) -> ProposalResult:
        pid, votes, executed = 0, 0, False
        for ev in self.events(receipt):
            if ev.name in ("ProposalCreated", "Voted"):
                pid = ev.args["proposal_id"]
            if ev.name == "Voted":
                votes = ev.args["votes"]
            if ev.name == "ProposalExecuted":
                executed = True
        return ProposalResult(pid, votes, executed, receipt)

    def proposal(self, proposal_id: int) -> dict[str, Any]:
        p: dict[str, Any] = self.call("Members", "proposal", proposal_id)
        return p

    def describe(self, target: str, calldata: bytes) -> str:
        """Human text for a proposal's call, e.g. ``Members.admit(account=0x.., roles=2, ...)``."""
        name = self._names.get(target.lower(), target)
        try:
            fn, args = codec(name).decode_call(calldata)
        except (KeyError, ValueError):
            return f"{name}: 0x{calldata.hex()}"
        shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in args.items())
        return f"{name}.{fn}({shown})"

    # ------------------------------------------------------------------ members

    def roles_of(self, account: str) -> Role:
        return Role(self.call("Members", "roles", account))

    def onboard(self, endorser: LocalAccount, account: str, kind: str) -> Receipt:
        return self.transact(endorser, "Members", "onboard", account, kind)

    def offboard(self, endorser: LocalAccount, account: str) -> Receipt:
        return self.transact(endorser, "Members", "offboard", account)

    # ------------------------------------------------------------------ numbers

    def holder_of(self, tn: int) -> str:
        holder: str = self.call("NumberAuthority", "holder_of", tn)
        return holder

    # ------------------------------------------------------------------ credentials

    def anchor(self, account: LocalAccount, anchors: Sequence[dict[str, Any]]) -> Receipt:
        """Anchor one credential, or several atomically (``anchor_batch``, at most 16)."""
        if len(anchors) == 1:
            return self.transact(account, "CredentialRegistry", "anchor", anchors[0], gas=GAS["anchor"])
        return self.transact(account, "CredentialRegistry", "anchor_batch", list(anchors),
                             gas=min(GAS["anchor"] * len(anchors), GAS["anchor_batch"]))


def deploy_network(backend: ChainBackend, deployer: LocalAccount, governors: Sequence[str],
                   threshold: int, *, network: str = "local") -> Deployment:
    """Deploy the four contracts, bind them, and make ``governors`` the first governors."""
    if not 1 <= threshold <= len(governors):
        raise LedgerRuleError("members: bad threshold",
                              message=f"threshold {threshold} must be between 1 and {len(governors)} governors")
    chain_id = backend.chain_id()

    def deploy(name: str, *args: Any) -> Receipt:
        (r,) = backend.send(deployer, [Call(to=None, data=codec(name).deploy_data(*args), gas=GAS["deploy"])])
        if r.status != 1 or not r.contract_address:
            raise TransactionFailed(f"deploying {name} failed in block {r.block_number}")
        return r

    members = deploy("Members", list(governors), threshold)
    m = members.contract_address
    assert m is not None
    numbers = deploy("NumberAuthority", m).contract_address
    dids = deploy("DIDRegistry", m).contract_address
    assert numbers is not None and dids is not None
    creds = deploy("CredentialRegistry", m, dids, numbers).contract_address
    assert creds is not None
    dep = Deployment(chain_id=chain_id, members=m, numbers=numbers, dids=dids, credentials=creds,
                     start_block=members.block_number, network=network)
    Ledger(backend, dep).transact(deployer, "Members", "bind", [numbers, dids, creds])
    return dep
