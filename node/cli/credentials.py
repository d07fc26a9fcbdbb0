"""``eidln vet [challenge]`` and ``eidln tn grant | delegate | revoke | suspend | reinstate | list | chain``.

Vetting is DID Auth first (SPEC §8.1, :mod:`wallet.didauth`): ``eidln vet challenge --subject DID`` prints a
challenge the agency's wallet remembers; the subject answers with ``eidln did prove DID --challenge LINE``; ``eidln
vet --subject DID --challenge LINE --proof PROOF …`` checks the proof against the subject's key in the node's synced
index and puts it in the credential's ``evidence``. No proof, no credential.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from contracts.vocab import Kind, Status, TNRange, credential_key, parse_tn
from did_method.syntax import format_did, parse_did
from node.cli.identity import _open_wallet, _synced
from node.cli.ledger import Out, bounded, range_count
from node.errors import NodeError
from node.runtime import open_runtime
from node.settings import Settings

if TYPE_CHECKING:  # the commands import the wallet, DID Auth and Data Integrity code they use: the parser does not
    from wallet.keystore import Wallet

__all__ = ["register"]

DAY = 86400
MAX_VALID_DAYS = 36_525  # a hundred years: a sanity bound that keeps validUntil a four-digit-year date
CHALLENGE_MINUTES = 10  # wallet.didauth.CHALLENGE_LIFETIME // 60, for the help (a test checks they agree)


def _issuer(w: Wallet, given: str | None) -> str:
    from wallet.dids import wallet_dids

    dids = [d for d, e in wallet_dids(w).items() if not e.get("deactivated")]
    if given:
        return given
    if len(dids) != 1:
        raise NodeError("say which of this wallet's DIDs issues (--as-did)" if dids else
                        "this wallet has no DID: run 'eidln did create' first", code="cli.no_issuer")
    return dids[0]


def _validity(a: argparse.Namespace) -> tuple[int, int]:
    start = int(time.time()) - 60
    return start, start + bounded(a.valid_days, "--valid-days", 1, MAX_VALID_DAYS) * DAY


def _ranges(a: argparse.Namespace) -> tuple[TNRange, ...]:
    return (TNRange(parse_tn(a.start), range_count(a.count)),)


def _issue_and_print(s: Settings, w: Wallet, issuer: str, unsigned: dict[str, Any], out: Out) -> int:
    from wallet.issue import issue

    with open_runtime(s) as rt:
        signed = issue(w, rt.ledger, issuer, unsigned)
    out(signed["id"])
    return 0


def _date(text: str, option: str) -> str:
    """A calendar date written YYYY-MM-DD (``cli.bad_value`` otherwise)."""
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise NodeError(f"{option} {text[:40]!r} is not a date written YYYY-MM-DD", code="cli.bad_value")


_ISSUE_ONLY = ("legal_name", "jurisdiction", "registration_number", "lei", "brand_name", "call_reason", "logo",
               "challenge", "proof")


def _option(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def cmd_vet_challenge(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """Step 1 of vetting: a fresh DID Auth challenge for the subject, remembered in the agency's wallet."""
    from wallet import didauth
    from wallet.dids import signer_for

    given = [_option(d) for d in _ISSUE_ONLY if getattr(a, d) is not None]
    if given:
        a.usage_error(f"'vet challenge' takes --subject and --as-did only, not {', '.join(given)}")
    subject = str(parse_did(a.subject))
    w = _open_wallet(s)
    issuer = _issuer(w, a.as_did)
    signer_for(w, issuer)  # the agency's own, active DID: the challenge's domain
    out(didauth.issue_challenge(w, domain=issuer, subject=subject, now=int(time.time())).text())
    return 0


def cmd_vet(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import credentials as vc
    from wallet import didauth
    from wallet.issue import issue

    if a.step == "challenge":
        return cmd_vet_challenge(s, a, out)
    missing = [_option(d) for d in ("legal_name", "jurisdiction", "challenge", "proof") if getattr(a, d) is None]
    if missing:
        a.usage_error(f"the following arguments are required: {', '.join(missing)}")
    vetting_date = _date(a.vetting_date, "--vetting-date")
    vf, vu = _validity(a)
    fields: dict[str, Any] = dict(
        subject=a.subject, legal_name=a.legal_name, jurisdiction=a.jurisdiction,
        registration_number=a.registration_number, lei=a.lei, vetting_level=a.level, vetting_date=vetting_date,
        valid_from=vf, valid_until=vu, brand_name=a.brand_name, call_reason=a.call_reason, logo=a.logo)
    w = _open_wallet(s)
    issuer = _issuer(w, a.as_did)
    vc.enterprise_identity(issuer=issuer, **fields)  # bad fields fail here, before the challenge is looked at
    challenge = didauth.check_challenge(w, a.challenge, domain=issuer, subject=a.subject, now=int(time.time()))
    with open_runtime(s) as rt:
        key_at = didauth.authentication_key_at(_synced(rt))
        result = didauth.verify_proof(a.proof, challenge, key_at=key_at, now=int(time.time()))
        result.raise_for_failure()
        didauth.take_challenge(w, challenge, now=int(time.time()))  # used once, even if the issue below fails
        unsigned = vc.enterprise_identity(issuer=issuer, **fields,
                                          evidence=[didauth.evidence(challenge, a.proof, result)])
        signed = issue(w, rt.ledger, issuer, unsigned)
    out(signed["id"])
    return 0


def cmd_grant(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import credentials as vc

    ranges = _ranges(a)
    vf, vu = _validity(a)
    w = _open_wallet(s)
    issuer = _issuer(w, a.as_did)
    unsigned = vc.tn_right_to_use(issuer=issuer, subject=a.subject, ranges=ranges,
                                  may_originate=not a.relay_only, may_delegate=not a.no_delegate,
                                  valid_from=vf, valid_until=vu)
    return _issue_and_print(s, w, issuer, unsigned, out)


def cmd_delegate(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import credentials as vc
    from wallet.issue import issue

    ranges = _ranges(a)  # bad input first, before the wallet and the chain
    vf, vu = _validity(a)
    w = _open_wallet(s)
    issuer = _issuer(w, a.as_did)
    with open_runtime(s) as rt:
        parent = rt.ledger.call("CredentialRegistry", "record", credential_key(a.parent))
        if parent["kind"] == 0:
            raise NodeError(f"no credential {a.parent} on the ledger", code="cli.unknown_credential")
        vu = min(vu, parent["valid_until"])
        unsigned = vc.tn_delegation(issuer=issuer, subject=a.subject, parent=a.parent, ranges=ranges,
                                    may_originate=not a.relay_only, may_delegate=a.may_delegate,
                                    valid_from=max(vf, parent["valid_from"]), valid_until=vu)
        signed = issue(w, rt.ledger, issuer, unsigned)
    out(signed["id"])
    return 0


def cmd_status(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet.issue import set_status

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        set_status(w, rt.ledger, a.credential, a.cmd)
    out(f"{a.credential}: {a.cmd}d" if a.cmd.endswith("e") else f"{a.credential}: {a.cmd}ed")
    return 0


def _row(network: str, r: Any) -> dict[str, Any]:
    cid, kind, issuer, subject, status, tns, cred = r
    doc = json.loads(bytes(cred))
    return {"id": doc["id"], "kind": Kind(kind).name, "issuer": format_did(network, bytes(issuer)),
            "subject": format_did(network, bytes(subject)), "status": Status(status).name.lower(),
            "tns": [f"+{start}" + (f" (+{count - 1})" if count > 1 else "") for start, count in json.loads(tns)]}


def cmd_list(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.sync.indexdb import IndexReader

    with open_runtime(s) as rt:
        rt.follower().sync()
        index = IndexReader(rt.store.db)
        if a.holder:
            rows = index.credential_list(subject=parse_did(a.holder).ident)
        elif a.issuer:
            rows = index.credential_list(issuer=parse_did(a.issuer).ident)
        else:
            rows = index.credential_list()
        for r in rows:
            d = _row(rt.deployment.network, r)
            out(f"{d['id']}  {d['kind']:<20} {d['status']:<9} {d['issuer']} -> {d['subject']}  {' '.join(d['tns'])}")
        for cid, _block, code, message in index.rejections():
            out(f"rejected 0x{bytes(cid).hex()}: {code}: {message}")
    return 0


def cmd_chain(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from node.sync.indexdb import IndexReader
    from node.tnindex import build_from_store

    tn = parse_tn(a.tn)
    with open_runtime(s) as rt:
        rt.follower().sync()
        index = build_from_store(rt.store)
        chains = index.chains(tn, now=int(time.time()))
        if not chains:
            out(f"+{tn}: no live chain")
            return 1
        ids = {bytes(r[0]): json.loads(bytes(r[1]))["id"] for r in IndexReader(rt.store.db).credential_documents()}
        for ch in chains:
            links = " <- ".join(f"{ids.get(c.id, '0x' + c.id.hex())} ({Kind(c.kind).name})" for c in ch.links)
            who = format_did(rt.deployment.network, ch.links[0].subject)
            origin = "may originate" if ch.may_originate else "relay only"
            out(f"+{tn}: {who} [{origin}] via {links}")
    return 0


def register(sub: Any) -> None:
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--as-did", default=None, help="the issuing DID of this wallet (default: its only DID)")
        p.add_argument("--valid-days", type=int, default=365)

    v = sub.add_parser(
        "vet", help="vet an enterprise: a DID Auth challenge, then its EnterpriseIdentity credential (vetting agency)",
        usage="eidln vet challenge --subject DID [--as-did DID]\n"
              "       eidln vet --subject DID --challenge LINE --proof PROOF --legal-name NAME --jurisdiction CODE\n"
              "                 (--lei LEI | --registration-number N) [options]",
        description="Vetting is three steps. 1: 'eidln vet challenge --subject DID' prints a challenge line (valid "
                    f"{CHALLENGE_MINUTES} minutes, usable once). 2: the subject signs it with its "
                    "DID key, 'eidln did prove DID --challenge LINE', and returns the proof line. 3: 'eidln vet "
                    "--subject DID --challenge LINE --proof PROOF ...' checks the proof against the subject's "
                    "authentication key on the ledger and issues the credential with the proof as its evidence. "
                    "No proof, no credential.")
    v.add_argument("step", nargs="?", choices=["challenge"], metavar="challenge",
                   help="step 1: print a DID Auth challenge for --subject (takes --subject and --as-did only)")
    common(v)
    v.add_argument("--subject", required=True, help="the enterprise's DID")
    v.add_argument("--challenge", default=None, help="the line 'eidln vet challenge' printed (step 1)")
    v.add_argument("--proof", default=None, help="the subject's answer, from 'eidln did prove' (step 2)")
    v.add_argument("--legal-name", default=None)
    v.add_argument("--jurisdiction", default=None, help="e.g. US-DE")
    v.add_argument("--registration-number", default=None)
    v.add_argument("--lei", default=None)
    v.add_argument("--level", default="full")
    v.add_argument("--vetting-date", default=time.strftime("%Y-%m-%d"))
    v.add_argument("--brand-name", default=None, help="the vetted brand an OSP may pass on as RCD nam (RFC 9795)")
    v.add_argument("--call-reason", default=None, help="the vetted default call reason (crn)")
    v.add_argument("--logo", default=None, help="an https URL of the vetted logo")
    v.set_defaults(fn=cmd_vet, usage_error=v.error)

    tn = sub.add_parser("tn", help="TN right-to-use grants and delegations").add_subparsers(dest="cmd", required=True)
    g = tn.add_parser("grant", help="grant numbers you hold (TNSP / Resp Org)")
    common(g)
    g.add_argument("--subject", required=True)
    g.add_argument("--start", required=True, help="first number, E.164")
    g.add_argument("--count", type=int, default=1)
    g.add_argument("--no-delegate", action="store_true", help="the holder may not delegate")
    g.add_argument("--relay-only", action="store_true", help="the holder may not originate")
    g.set_defaults(fn=cmd_grant)
    d = tn.add_parser("delegate", help="delegate some of your numbers (non-exclusive)")
    common(d)
    d.add_argument("--parent", required=True, help="the credential id your right rests on")
    d.add_argument("--subject", required=True)
    d.add_argument("--start", required=True)
    d.add_argument("--count", type=int, default=1)
    d.add_argument("--relay-only", action="store_true")
    d.add_argument("--may-delegate", action="store_true")
    d.set_defaults(fn=cmd_delegate)
    for name in ("revoke", "suspend", "reinstate"):
        p = tn.add_parser(name, help=f"{name} a credential you issued")
        p.add_argument("credential")
        p.set_defaults(fn=cmd_status)
    ls = tn.add_parser("list", help="credentials in the node's index (and the rejected ones)")
    ls.add_argument("--holder", default=None)
    ls.add_argument("--issuer", default=None)
    ls.set_defaults(fn=cmd_list)
    c = tn.add_parser("chain", help="the live chains that cover a number now")
    c.add_argument("tn")
    c.set_defaults(fn=cmd_chain)
