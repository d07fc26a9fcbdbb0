"""``eidln network | account | member | node``: the ledger operator's commands.

The commands import what they use (eth_account, eth_utils, the ledger client; the chain through :mod:`node.runtime`),
so that building the parser, and every command that needs no chain, starts without them.
"""

from __future__ import annotations

import argparse
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.vocab import MAX_RANGE_COUNT, format_roles, parse_roles, parse_tn
from node.errors import NodeError
from node.runtime import open_backend, open_keystore, open_runtime
from node.settings import Settings

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from node.keystore import Keystore
    from node.ledger.client import Action
    from node.runtime import Runtime
    from node.sync.follower import Follower, SyncStatus, SyncStep

__all__ = ["register", "Out", "user_file", "bounded", "range_count"]

Out = Callable[[str], None]

MAX_GOVERNORS = 32  # Members.vy MAX_GOVERNORS


@contextmanager
def user_file(path: str | Path, *, write: bool = False) -> Iterator[None]:
    """Turn an ``OSError`` on a file or directory the user named (an argument, ``EIDLN_WALLET``, ...) into
    ``cli.file_unreadable`` / ``cli.file_unwritable`` naming it, instead of a defect."""
    try:
        yield
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        if exc.filename is not None and str(exc.filename) != str(path):
            why += f": {exc.filename}"
        if write:
            raise NodeError(f"cannot write {path}: {why}", code="cli.file_unwritable") from None
        raise NodeError(f"cannot read {path}: {why}", code="cli.file_unreadable") from None


def bounded(value: int, option: str, low: int, high: int, *, code: str = "cli.bad_value") -> int:
    """``value`` if ``low <= value <= high``; else ``code`` (default ``cli.bad_value``) naming the option."""
    if not low <= value <= high:
        raise NodeError(f"{option} must be between {low} and {high}, got {value}", code=code)
    return value


def range_count(value: int, option: str = "--count") -> int:
    """A range count: 1 to :data:`MAX_RANGE_COUNT` (``numbers.bad_count``, the contract's code, checked here
    first so that an out-of-range count never reaches the ABI encoder)."""
    return bounded(value, option, 1, MAX_RANGE_COUNT, code="numbers.bad_count")


def _signer(rt: Runtime, name: str) -> LocalAccount:
    """``--as NAME``: a keystore account, or ``@wallet`` for the ledger account of the wallet (EIDLN_WALLET)."""
    if name == "@wallet":
        from node.cli.identity import _open_wallet  # with the unlock session, if there is one

        return _open_wallet(rt.settings).ledger_account()
    return rt.keystore.load(name)


def _account(ks: Keystore, ref: str) -> str:
    """An address, the name of an account in the keystore, or ``@wallet`` (the wallet's ledger account)."""
    if ref == "@wallet":
        raise NodeError("use the wallet's address (eidln did show prints it)", code="cli.bad_account")
    if ref.startswith("0x"):
        from eth_utils import is_address, to_checksum_address

        if not is_address(ref):
            raise NodeError(f"{ref!r} is not an Ethereum address", code="cli.bad_account")
        return to_checksum_address(ref)
    return ks.address(ref)


# ---------------------------------------------------------------------------------------------- network


def cmd_network_init(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.ledger.client import deploy_network

    if s.network_file.exists():
        raise NodeError(f"a network is already deployed in {s.home} ({s.network_file}); use another EIDLN_HOME",
                        code="config.network_exists")
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", a.name):
        raise NodeError(f"network name {a.name!r} must be 1-16 lowercase letters or digits, starting with a letter",
                        code="config.invalid")
    bounded(a.governors, "--governors", 0, MAX_GOVERNORS)
    external = [_account(open_keystore(s.keys_dir, None), x) for x in a.governor_address]
    total = a.governors + len(external)
    if total > MAX_GOVERNORS:
        raise NodeError(f"{total} governors: at most {MAX_GOVERNORS}", code="members.too_many_governors")
    if not 1 <= a.threshold <= total:
        raise NodeError(f"threshold {a.threshold} must be between 1 and the {total} governors",
                        code="members.bad_threshold")
    ks = open_keystore(s.keys_dir, s.passphrase)
    with user_file(s.home, write=True):
        s.home.mkdir(parents=True, exist_ok=True)
    with open_backend(s) as backend:
        out(f"chain: {s.chain} (chain id {backend.chain_id()}, head {backend.head()})")
        deployer = ks.load("deployer") if "deployer" in ks.names() else _create_account(ks, "deployer")
        governors: list[str] = []
        for i in range(1, a.governors + 1):
            name = f"governor{i}"
            acct = ks.load(name) if name in ks.names() else _create_account(ks, name)
            governors.append(acct.address)
            out(f"governor {name}: {acct.address}")
        for addr in external:
            governors.append(addr)
            out(f"governor (external key): {addr}")
        out("deploying Members, NumberAuthority, DIDRegistry, CredentialRegistry ...")
        if len(set(governors)) != len(governors):
            raise NodeError("the same governor address is given twice", code="members.already_member")
        dep = deploy_network(backend, deployer, governors, a.threshold, network=a.name)
        with user_file(s.network_file, write=True):
            dep.save(s.network_file)
    for name, addr in dep.addresses().items():
        out(f"  {name:<19} {addr}")
    out(f"network ready: {total} governor(s), threshold {a.threshold}, written to {s.network_file}")
    return 0


def cmd_network_besu(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.consortium import generate_network

    with user_file(a.out, write=True):
        net = generate_network(Path(a.out), validators=a.validators, chain_id=a.chain_id, force=a.force)
    out(f"wrote a {a.validators}-validator QBFT network (chain id {a.chain_id}) to {a.out}")
    for v in net.validators:
        out(f"  validator {v}")
    for w in net.warnings:
        out(f"warning: {w}")
    return 0


# ---------------------------------------------------------------------------------------------- accounts


def _create_account(ks: Keystore, name: str) -> LocalAccount:
    with user_file(ks.directory, write=True):
        return ks.create(name)


def cmd_account_new(s: Settings, a: argparse.Namespace, out: Out) -> int:
    acct = _create_account(open_keystore(s.keys_dir, s.passphrase), a.name)
    out(f"{a.name}: {acct.address}")
    return 0


def cmd_account_list(s: Settings, a: argparse.Namespace, out: Out) -> int:
    ks = open_keystore(s.keys_dir, s.passphrase)
    for name in ks.names():
        out(f"{name:<20} {ks.address(name)}")
    return 0


# ---------------------------------------------------------------------------------------------- members


def _action(rt: Runtime, a: argparse.Namespace) -> Action:
    from node.ledger.client import Action

    ks = rt.keystore
    if a.action == "admit":
        return Action.admit(_account(ks, a.account), parse_roles(a.roles), a.spc, a.member_name)
    if a.action == "set-roles":
        return Action.set_roles(_account(ks, a.account), parse_roles(a.roles), a.spc)
    if a.action == "remove":
        return Action.remove(_account(ks, a.account))
    if a.action == "threshold":
        return Action.set_threshold(bounded(a.value, "--value", 1, MAX_GOVERNORS, code="members.bad_threshold"))
    if a.action == "offboard":
        return Action.offboard(_account(ks, a.account))
    if a.action == "assign-blocks":
        return Action.assign_blocks(parse_tn(a.start), range_count(a.count), _account(ks, a.holder))
    if a.action == "assign-numbers":
        return Action.assign_numbers(parse_tn(a.start), range_count(a.count), _account(ks, a.holder))
    if a.action == "port":
        return Action.port(parse_tn(a.start), range_count(a.count), _account(ks, a.to))
    raise NodeError(f"unknown action {a.action}", code="cli.usage")


def _proposal_line(res: Any, out: Out) -> None:
    state = "executed" if res.executed else "open"
    out(f"proposal {res.proposal_id}: {res.votes} vote(s), {state} (block {res.receipt.block_number})")


def cmd_member_propose(s: Settings, a: argparse.Namespace, out: Out) -> int:
    with open_runtime(s) as rt:
        action = _action(rt, a)
        res = rt.ledger.propose(_signer(rt, a.as_), action)
        out(rt.ledger.describe(rt.ledger.address(action.contract), action.calldata()))
        _proposal_line(res, out)
    return 0


def _proposal_id(value: int) -> int:
    if not 0 <= value < 2**256:
        raise NodeError(f"there is no proposal {value} (ids are whole numbers from 0)",
                        code="members.proposal_not_open")
    return value


def cmd_member_vote(s: Settings, a: argparse.Namespace, out: Out) -> int:
    _proposal_id(a.proposal)
    with open_runtime(s) as rt:
        _proposal_line(rt.ledger.vote(_signer(rt, a.as_), a.proposal), out)
    return 0


def cmd_member_cancel(s: Settings, a: argparse.Namespace, out: Out) -> int:
    _proposal_id(a.proposal)
    with open_runtime(s) as rt:
        rt.ledger.cancel(_signer(rt, a.as_), a.proposal)
        out(f"proposal {a.proposal}: cancelled")
    return 0


def cmd_member_onboard(s: Settings, a: argparse.Namespace, out: Out) -> int:
    if not 1 <= len(a.kind.encode()) <= 32:  # Members.vy: kind is a String[32]
        raise NodeError(f"--kind must be 1 to 32 bytes, got {len(a.kind.encode())}", code="cli.bad_value")
    with open_runtime(s) as rt:
        account = _account(rt.keystore, a.account)
        rt.ledger.onboard(_signer(rt, a.as_), account, a.kind)
        out(f"onboarded {account} as {a.kind}")
    return 0


def _synced(rt: Runtime) -> SyncStatus:
    return rt.follower().sync()


def cmd_member_list(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.sync.indexdb import IndexReader

    with open_runtime(s) as rt:
        st = _synced(rt)
        index = IndexReader(rt.store.db)
        rows = index.members()
        out(f"{'account':<42} {'roles':<24} {'spc':<8} {'since':>6}  name")
        for acct, roles, spc, name, since in rows:
            out(f"{acct:<42} {format_roles(roles):<24} {spc or '-':<8} {since:>6}  {name}")
        onboarded = index.onboarded()
        if onboarded:
            out("onboarded accounts:")
            for acct, endorser, kind in onboarded:
                out(f"  {acct} {kind} (endorsed by {endorser})")
        out(f"threshold {rt.store.get_meta('threshold')}; index synced to block {st.synced}")
    return 0


def cmd_member_proposals(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.sync.indexdb import IndexReader

    with open_runtime(s) as rt:
        _synced(rt)
        rows = IndexReader(rt.store.db).proposals()
        for pid, proposer, target, calldata, votes, state in rows:
            if a.open and state != "open":
                continue
            out(f"{pid:>4} {state:<9} votes {votes}  by {proposer}")
            out(f"     {rt.ledger.describe(target, bytes(calldata))}")
    return 0


# ---------------------------------------------------------------------------------------------- node


def _progress(out: Out) -> Callable[[SyncStep, SyncStatus], None]:
    def show(step: SyncStep, st: SyncStatus) -> None:
        extra = f", reorg of {step.reorg_depth} block(s) undone" if step.reorg_depth else ""
        out(f"synced blocks {step.from_block}..{step.to_block}: {step.events} event(s), lag {st.lag}{extra}")

    return show


def cmd_node_run(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """Follow the chain into the index. ``--once``: catch up and exit (an error exits non-zero). Otherwise run until
    SIGINT / SIGTERM, retrying an unreachable chain with backoff and refusing a replaced or rewound one (one line
    per change of state; :class:`node.sync.service.SyncService`)."""
    from node.ledger.deployment import Deployment
    from node.sync.service import SyncHealth, SyncService

    if a.once:
        with open_runtime(s) as rt:
            f = rt.follower()
            st = f.status()
            out(f"node: chain {s.chain} id {rt.deployment.chain_id}, head {st.head}, index at {st.synced}, "
                f"confirmations {s.confirmations}")
            st = f.sync(progress=_progress(out))
            out(f"in sync at block {st.synced} (head {st.head})")
        return 0
    Deployment.load(s.network_file)  # no network here (a typo in EIDLN_HOME?) fails now; a chain outage is retried
    with ExitStack() as stack:
        opened: list[Runtime] = []
        followers: list[Follower] = []

        def connect() -> Follower:
            if not opened:
                opened.append(stack.enter_context(open_runtime(s)))
            f = opened[0].follower()
            followers.append(f)
            st = f.status()
            out(f"node: chain {s.chain} id {opened[0].deployment.chain_id}, head {st.head}, index at {st.synced}, "
                f"confirmations {s.confirmations}")
            return f

        def changed(old: SyncHealth, new: SyncHealth) -> None:
            if new.state in ("retrying", "refused"):
                out(f"sync {new.state}: {new.code}: {new.message}")
            elif new.state == "following" and old.state in ("retrying", "refused"):
                out(f"sync following again at block {new.synced} (head {new.head})")

        show = _progress(out)
        news = [True]  # print "in sync" once at start and after each catch-up that ingested something

        def progress(step: SyncStep, st: SyncStatus) -> None:
            news[0] = True
            show(step, st)

        def confirmed(_: float) -> None:
            if news[0] and followers:
                news[0] = False
                out(f"in sync at block {followers[-1].synced}")

        service = SyncService(connect, interval=s.sync_interval, head_poll=s.head_poll, progress=progress,
                              on_change=changed, on_confirmed=confirmed)
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: service.stop(timeout=0))
        try:
            service.run()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        out(f"stopped at block {service.health.synced}")
    return 0


def cmd_node_status(s: Settings, a: argparse.Namespace, out: Out) -> int:
    if a.max_lag is not None:
        bounded(a.max_lag, "--max-lag", 0, 2**63 - 1)
    with open_runtime(s) as rt:
        f = rt.follower()
        st = f.status()
        out(f"chain      {s.chain} (id {rt.deployment.chain_id})")
        out(f"head       {st.head}")
        out(f"synced     {st.synced}")
        out(f"lag        {st.lag} block(s) (confirmations {st.confirmations})")
        out(f"events     {rt.store.count('events')}")
        if a.max_lag is not None:
            f.require_in_sync(a.max_lag)
    return 0


# ---------------------------------------------------------------------------------------------- parser


def register(sub: Any) -> Any:
    """Add the ledger command groups to the top-level sub-parsers."""

    net = sub.add_parser("network", help="deploy a network, generate a Besu consortium").add_subparsers(
        dest="cmd", required=True)
    init = net.add_parser("init", help="deploy the contracts and create the first governors")
    init.add_argument("--governors", type=int, default=1,
                      help="governor accounts to create in this keystore (default 1; may be 0 with --governor-address)")
    init.add_argument("--governor-address", action="append", default=[], metavar="ADDRESS",
                      help="a governor whose key is held elsewhere (repeatable)")
    init.add_argument("--threshold", type=int, default=1, help="votes a proposal needs (default 1)")
    init.add_argument("--name", default="local", help="network name in did:eidln:<name>:… (default local)")
    init.set_defaults(fn=cmd_network_init)
    besu = net.add_parser("besu-config", help="generate a Besu QBFT network for docker-compose.yml")
    besu.add_argument("--out", default="besu")
    besu.add_argument("--validators", type=int, default=4)
    besu.add_argument("--chain-id", type=int, default=1337)
    besu.add_argument("--force", action="store_true", help="replace an existing generated network")
    besu.set_defaults(fn=cmd_network_besu)

    acc = sub.add_parser("account", help="ledger accounts in the encrypted keystore").add_subparsers(
        dest="cmd", required=True)
    new = acc.add_parser("new", help="create an encrypted ledger account")
    new.add_argument("name")
    new.set_defaults(fn=cmd_account_new)
    acc.add_parser("list", help="accounts in the keystore").set_defaults(fn=cmd_account_list)

    mem = sub.add_parser("member", help="governance: members, proposals, votes").add_subparsers(
        dest="cmd", required=True)
    prop = mem.add_parser("propose", help="propose a governance action").add_subparsers(dest="action", required=True)

    def proposal(name: str, helptext: str) -> argparse.ArgumentParser:
        q = prop.add_parser(name, help=helptext)
        q.add_argument("--as", dest="as_", required=True, help="the proposing governor's account name")
        q.set_defaults(fn=cmd_member_propose)
        return q

    q = proposal("admit", "admit a member")
    q.add_argument("--account", required=True, help="address or keystore name")
    q.add_argument("--roles", required=True, help="e.g. TNSP,OSP (GOVERNOR TNSP RESP_ORG TN_RESELLER VETTER OSP)")
    q.add_argument("--spc", default="", help="SPC / OCN / Resp Org id (required for provider roles)")
    q.add_argument("--name", dest="member_name", default="")
    q = proposal("set-roles", "change a member's roles")
    q.add_argument("--account", required=True)
    q.add_argument("--roles", required=True)
    q.add_argument("--spc", default="")
    for name, text in (("remove", "remove a member"), ("offboard", "offboard an endorsed account")):
        proposal(name, text).add_argument("--account", required=True)
    proposal("threshold", "change the vote threshold").add_argument("--value", type=int, required=True)
    for name, text in (("assign-blocks", "assign thousand-blocks to a TNSP"),
                       ("assign-numbers", "assign single numbers (toll-free to a Resp Org)")):
        q = proposal(name, text)
        q.add_argument("--start", required=True, help="first number, E.164")
        q.add_argument("--count", type=int, required=True)
        q.add_argument("--holder", required=True)
    q = proposal("port", "port numbers to another provider")
    q.add_argument("--start", required=True)
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--to", required=True)

    for name, fn, text in (("vote", cmd_member_vote, "vote for an open proposal"),
                           ("cancel", cmd_member_cancel, "withdraw your own open proposal")):
        v = mem.add_parser(name, help=text)
        v.add_argument("proposal", type=int)
        v.add_argument("--as", dest="as_", required=True)
        v.set_defaults(fn=fn)
    ob = mem.add_parser("onboard", help="endorse an enterprise / call center account")
    ob.add_argument("--as", dest="as_", required=True)
    ob.add_argument("--account", required=True)
    ob.add_argument("--kind", default="enterprise")
    ob.set_defaults(fn=cmd_member_onboard)
    mem.add_parser("list", help="members and onboarded accounts (from the synced index)").set_defaults(
        fn=cmd_member_list)
    pl = mem.add_parser("proposals", help="proposals and what they do")
    pl.add_argument("--open", action="store_true", help="only open proposals")
    pl.set_defaults(fn=cmd_member_proposals)

    nd = sub.add_parser("node", help="run the node, show its status").add_subparsers(dest="cmd", required=True)
    run = nd.add_parser("run", help="follow the chain into the local index")
    run.add_argument("--once", action="store_true", help="catch up, then exit")
    run.set_defaults(fn=cmd_node_run)
    st = nd.add_parser("status", help="head, synced block, lag")
    st.add_argument("--max-lag", type=int, default=None, help="exit 1 if the index is more blocks behind than this")
    st.set_defaults(fn=cmd_node_status)
    return nd


