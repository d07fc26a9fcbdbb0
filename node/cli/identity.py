"""``eidln wallet | did | call`` and ``eidln node serve``: identities, unlock sessions and the resolver.

The commands import what they use (the wallet, the DID stack, the chain through :mod:`node.runtime`): ``eidln
--help`` loads none of it, and ``did show`` or ``call sign`` never load the EVM. The wallet opens with the unlock
session ``EIDLN_WALLET_SESSION`` when there is one (:mod:`wallet.session`: no Argon2id run), else with the passphrase.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from did_method.ident import KeyType
from did_method.syntax import is_valid_fragment, parse_did
from node.cli.ledger import Out, bounded, user_file
from node.errors import ConfigError, NodeError
from node.runtime import open_runtime
from node.settings import Settings
from wallet.errors import WalletError

if TYPE_CHECKING:
    from did_method.resolver import Resolver
    from node.runtime import Runtime
    from wallet.keystore import Wallet

__all__ = ["register"]

_KEY_TYPES = {"ed25519": KeyType.ED25519, "p256": KeyType.P256}
DEFAULT_TTL = 900  # wallet.session.DEFAULT_TTL, here so that building the parser imports no wallet code


def _wallet_passphrase(s: Settings) -> str:
    if not s.wallet_passphrase:
        raise ConfigError("no wallet passphrase: set EIDLN_WALLET_PASSPHRASE (or EIDLN_PASSPHRASE), or unlock a "
                          'session with eval "$(eidln wallet unlock)"', code="config.no_passphrase")
    return s.wallet_passphrase


def _open_wallet(s: Settings) -> Wallet:
    """The wallet (``EIDLN_WALLET``): through the unlock session ``EIDLN_WALLET_SESSION`` if set, else with the
    passphrase. A session that no longer opens it (expired, locked, stale, altered) gives way to the passphrase when
    there is one, with a warning on stderr; without one, its error (``wallet.session_*``) stands."""
    from wallet.keystore import Wallet

    if s.wallet_session:
        from wallet import session

        try:
            return session.open_wallet(s.wallet_file, s.wallet_session, directory=s.sessions_dir)
        except WalletError as exc:
            if exc.code not in session.CODES or not s.wallet_passphrase:
                raise
            print(f"warning: {exc.code}: {exc.message}; opening the wallet with the passphrase", file=sys.stderr,
                  flush=True)
    return Wallet.open(s.wallet_file, _wallet_passphrase(s))


def cmd_wallet_init(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet.keystore import Wallet

    with user_file(s.wallet_file, write=True):
        w = Wallet.create(s.wallet_file, _wallet_passphrase(s))
    out(f"wallet created: {s.wallet_file}")
    out(f"ledger account: {w.ledger_address()}")
    out("before creating DIDs, have a member onboard this account: "
        f"eidln member onboard --as <member> --account {w.ledger_address()}")
    return 0


def _comment(text: str) -> str:
    """A shell comment line for ``eval``: a line break in a path must not end it and start a command."""
    return "# " + text.replace("\r", "\\r").replace("\n", "\\n")


def cmd_wallet_unlock(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """Open the wallet with the passphrase once and print the session for ``eval`` (:mod:`wallet.session`)."""
    from did_method.timefmt import xml_datetime
    from wallet import session

    bounded(a.ttl, "--ttl", 1, session.MAX_TTL)
    with user_file(s.sessions_dir, write=True):
        unlocked = session.unlock(s.wallet_file, _wallet_passphrase(s), directory=s.sessions_dir, ttl=a.ttl)
    until = xml_datetime(unlocked.expires)
    out(_comment(f"{s.wallet_file} unlocked until {until}; 'eidln wallet lock' ends it"))
    out(f"export EIDLN_WALLET_SESSION={unlocked.token}")
    return 0


def cmd_wallet_lock(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """End every unlock session of the wallet (and the one in ``EIDLN_WALLET_SESSION``)."""
    from wallet import session

    with user_file(s.sessions_dir, write=True):
        ended = session.lock(s.wallet_file, directory=s.sessions_dir, token=s.wallet_session)
    out(_comment(f"{ended} session(s) of {s.wallet_file} ended"))
    out("unset EIDLN_WALLET_SESSION")
    return 0


def cmd_wallet_export(s: Settings, a: argparse.Namespace, out: Out) -> int:
    if not (s.backup_passphrase or s.wallet_passphrase):  # a session opens the wallet; the backup needs its own
        raise ConfigError("a backup is encrypted under a passphrase: set EIDLN_BACKUP_PASSPHRASE (or the wallet's)",
                          code="config.no_passphrase")
    w = _open_wallet(s)
    with user_file(a.out, write=True):
        w.export(a.out, s.backup_passphrase or _wallet_passphrase(s))
    out(f"encrypted backup written to {a.out}")
    return 0


def cmd_wallet_import(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet.keystore import Wallet

    with user_file(s.wallet_file, write=True):  # reading the backup raises wallet.not_found / wallet.corrupt
        Wallet.import_backup(a.backup, s.backup_passphrase or _wallet_passphrase(s), s.wallet_file,
                             _wallet_passphrase(s))
    out(f"wallet restored to {s.wallet_file}")
    return 0


def _synced(rt: Runtime) -> Resolver:
    from did_method.resolver import Resolver
    from node.sync.didhistory import IndexHistory

    rt.follower().sync()
    return Resolver(IndexHistory(rt.settings.index_file), network=rt.deployment.network,
                    chain_id=rt.deployment.chain_id)


def cmd_did_create(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        did = dids.create_did(w, rt.ledger, key_type=_KEY_TYPES[a.key_type])
    out(did)
    return 0


def cmd_did_show(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    out(f"ledger account {w.ledger_address()}")
    for name in w.metadata.get("pending", []):
        out(f"pending key {name}: a ledger write with it is in flight in another process, or ended with an unknown "
            "outcome; resolve your DIDs to check")
    for did, entry in dids.wallet_dids(w).items():
        state = "deactivated" if entry.get("deactivated") else "active keys " + ", ".join(entry["active"])
        out(f"{did}  ({state})")
    return 0


def cmd_did_rotate(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        frag = dids.rotate_key(w, rt.ledger, a.did, old_fragment=a.key, key_type=_KEY_TYPES[a.key_type])
    out(f"{a.did}#{frag} is the new key")
    return 0


def cmd_did_add_key(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        frag = dids.add_key(w, rt.ledger, a.did, key_type=_KEY_TYPES[a.key_type])
    out(f"{a.did}#{frag} added; the wallet now signs with it, and the older keys stay valid until revoked")
    return 0


def cmd_did_revoke_key(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        dids.revoke_key(w, rt.ledger, a.did, a.fragment)
    out(f"{a.did}#{a.fragment} revoked")
    return 0


def cmd_did_service(s: Settings, a: argparse.Namespace, out: Out) -> int:
    # The contract stores any non-empty strings, and resolvers leave out a service they cannot show (SPEC.md 5.3):
    # refuse here what would be written but never seen.
    from did_method.document import DidState, render
    from wallet import dids

    if not is_valid_fragment(a.id):
        raise NodeError(f"--id {a.id[:40]!r} is not a fragment (1 to 32 of A-Z a-z 0-9 . _ -)", code="cli.bad_value")
    if a.type and a.endpoint and "service" not in render(a.did, DidState(services={a.id: (a.type, a.endpoint)})):
        raise NodeError(f"--endpoint {a.endpoint[:80]!r} is not an absolute URI", code="cli.bad_value")
    w = _open_wallet(s)
    with open_runtime(s) as rt:
        dids.set_service(w, rt.ledger, a.did, a.id, a.type, a.endpoint)
    out(f"{a.did}#{a.id} -> {a.endpoint}")
    return 0


def cmd_did_deactivate(s: Settings, a: argparse.Namespace, out: Out) -> int:
    from wallet import dids

    w = _open_wallet(s)
    with open_runtime(s) as rt:
        dids.deactivate(w, rt.ledger, a.did)
    out(f"{a.did} deactivated")
    return 0


def cmd_did_resolve(s: Settings, a: argparse.Namespace, out: Out) -> int:
    with open_runtime(s) as rt:
        result = _synced(rt).resolve(a.did, version_id=a.version_id, version_time=a.at)
    out(json.dumps(result.to_json(), indent=2))
    if result.error is not None:
        raise result.error
    return 0


def cmd_did_prove(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """Step 2 of vetting, run by the subject: answer a vetting agency's DID Auth challenge with the DID's key."""
    from wallet import didauth, dids

    did = str(parse_did(a.did))
    challenge = didauth.parse_challenge(a.challenge)
    if challenge.subject != did:
        raise didauth.DidAuthError(f"the challenge is for {challenge.subject}, not {a.did[:80]}",
                                   code="didauth.wrong_subject")
    signer, kid = dids.signer_for(_open_wallet(s), did)
    out(didauth.prove(signer, kid, challenge, now=int(time.time())))
    return 0


def cmd_node_serve(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """Build the node from settings (:func:`node.server.build_node`) and serve until SIGINT / SIGTERM."""
    from node.server import build_node

    node = build_node(s, wallet=lambda: _open_wallet(s))
    base = f"http://{s.api_host}:{s.api_port}"
    out(f"serving did:eidln:{node.deployment.network} on {base}/1.0/identifiers/")
    svc = node.services
    for on, what in ((svc.engine, "/v1/attest (call-time attestation) and /v1/audit"),
                     (svc.signer, "/stir/v1/signing (ATIS-1000082)"),
                     (svc.verifier, "/stir/v1/verification (ATIS-1000082)"),
                     (True, "/healthz, /readyz and /metrics")):
        if on is not None:
            out(f"serving {what} on {base}")
    node.serve()
    return 0


def cmd_call_sign(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """The dialer's one library call (:func:`wallet.passport.sign_call`) from the command line: the wallet and the
    PASSporT code, no chain."""
    from wallet import dids
    from wallet.passport import canonical_tn, sign_call

    orig = canonical_tn(a.orig, "--from")  # passport.bad_claims naming the option, before the wallet is opened
    dest = [canonical_tn(d, "--to") for d in a.dest]
    signer, kid = dids.signer_for(_open_wallet(s), a.did)
    rcd = {"nam": a.display_name} if a.display_name else None
    out(sign_call(signer, kid=kid, orig=orig, dest=dest, iat=int(time.time()), credential_id=a.credential,
                  rcd=rcd))
    return 0


def cmd_call_sign_cert(s: Settings, a: argparse.Namespace, out: Out) -> int:
    """A PASSporT signed with a certificate key (:func:`wallet.passport.sign_cert_call`): a base or RCD PASSporT for
    a delegate or EV certificate, a SHAKEN PASSporT for an enterprise or Lemon Twist certificate. The key is a P-256
    key of the wallet: a DID's (``--did``, the key a bridged delegate certificate certifies) or one imported by
    name (``--key``, e.g. with ``eidln pki import-key``)."""
    from wallet import dids
    from wallet.errors import WalletError
    from wallet.passport import canonical_tn, sign_cert_call

    orig = canonical_tn(a.orig, "--from")
    dest = [canonical_tn(d, "--to") for d in a.dest]
    ppt = None if a.ppt == "base" else a.ppt
    if (a.did is None) == (a.key is None):
        raise WalletError("give the signing key as --did DID or --key NAME (one of them)", code="wallet.no_such_key")
    w = _open_wallet(s)
    signer = dids.signer_for(w, a.did)[0] if a.did is not None else w.signer(a.key)
    rcd = {"nam": a.display_name} if a.display_name else None
    origid = str(uuid.uuid4()) if ppt == "shaken" else None
    out(sign_cert_call(signer, x5u=a.x5u, orig=orig, dest=dest, iat=int(time.time()), ppt=ppt,
                       attest=a.attest if ppt == "shaken" else None, origid=origid, rcd=rcd))
    return 0


def register(sub: Any) -> None:
    wal = sub.add_parser("wallet", help="the encrypted identity wallet").add_subparsers(dest="cmd", required=True)
    wal.add_parser("init", help="create a wallet with a ledger account").set_defaults(fn=cmd_wallet_init)
    ex = wal.add_parser("export", help="write an encrypted backup (passphrase: EIDLN_BACKUP_PASSPHRASE, "
                                       "default the wallet's)")
    ex.add_argument("out")
    ex.set_defaults(fn=cmd_wallet_export)
    im = wal.add_parser("import", help="restore a backup as this wallet (backup passphrase: "
                                       "EIDLN_BACKUP_PASSPHRASE, default the wallet's)")
    im.add_argument("backup")
    im.set_defaults(fn=cmd_wallet_import)
    un = wal.add_parser("unlock", help="open the wallet once (Argon2id) and print a session for eval: "
                                       'eval "$(eidln wallet unlock)"; later commands need no passphrase')
    un.add_argument("--ttl", type=int, default=DEFAULT_TTL, metavar="SECONDS",
                    help=f"how long the session lasts (default {DEFAULT_TTL}, at most a day)")
    un.set_defaults(fn=cmd_wallet_unlock)
    wal.add_parser("lock", help="end every unlock session of this wallet").set_defaults(fn=cmd_wallet_lock)

    did = sub.add_parser("did", help="create, change and resolve DIDs").add_subparsers(dest="cmd", required=True)
    c = did.add_parser("create", help="create a DID with a new key")
    c.add_argument("--key-type", choices=sorted(_KEY_TYPES), default="ed25519")
    c.set_defaults(fn=cmd_did_create)
    did.add_parser("show", help="the wallet's DIDs").set_defaults(fn=cmd_did_show)
    r = did.add_parser("rotate", help="replace a key (the DID stays)")
    r.add_argument("did")
    r.add_argument("--key", default=None, help="fragment of the key to replace (default: the oldest)")
    r.add_argument("--key-type", choices=sorted(_KEY_TYPES), default="ed25519")
    r.set_defaults(fn=cmd_did_rotate)
    ak = did.add_parser("add-key", help="add a key next to the active ones (an overlapping rotation: add, move "
                                         "the dialers, wait a freshness window, then revoke-key the old one)")
    ak.add_argument("did")
    ak.add_argument("--key-type", choices=sorted(_KEY_TYPES), default="ed25519")
    ak.set_defaults(fn=cmd_did_add_key)
    rk = did.add_parser("revoke-key", help="revoke one active key (not the last one)")
    rk.add_argument("did")
    rk.add_argument("fragment", help="the key's fragment, e.g. key-1")
    rk.set_defaults(fn=cmd_did_revoke_key)
    sv = did.add_parser("add-service", help="add or replace a service endpoint")
    sv.add_argument("did")
    sv.add_argument("--id", required=True, help="fragment, e.g. brand")
    sv.add_argument("--type", required=True, help="e.g. BrandService")
    sv.add_argument("--endpoint", required=True)
    sv.set_defaults(fn=cmd_did_service)
    d = did.add_parser("deactivate", help="deactivate for good")
    d.add_argument("did")
    d.set_defaults(fn=cmd_did_deactivate)
    pv = did.add_parser("prove", help="answer a vetting agency's DID Auth challenge: print the proof line "
                                       "(signed with the DID's newest key)")
    pv.add_argument("did")
    pv.add_argument("--challenge", required=True, help="the line from 'eidln vet challenge'")
    pv.set_defaults(fn=cmd_did_prove)
    rs = did.add_parser("resolve", help="resolve from the node's index (W3C DID Resolution result)")
    rs.add_argument("did")
    rs.add_argument("--at", default=None, help="versionTime, e.g. 2026-11-28T17:00:00Z")
    rs.add_argument("--version-id", default=None)
    rs.set_defaults(fn=cmd_did_resolve)


def register_node(nd: Any) -> None:
    sv = nd.add_parser("serve", help="follow the chain and serve the DID resolver, the ledger views and (when "
                                     "configured) the OSP services over HTTP")
    sv.set_defaults(fn=cmd_node_serve)


def register_call(sub: Any) -> None:
    call = sub.add_parser("call", help="calls signed with a DID key").add_subparsers(dest="cmd", required=True)
    sg = call.add_parser("sign", help="print the SIP Identity header value of an enterprise PASSporT for one call")
    sg.add_argument("did", help="the wallet DID that places the call")
    sg.add_argument("--credential", required=True, help="id of the TN credential (grant or delegation) covering "
                                                         "the calling number")
    sg.add_argument("--from", dest="orig", required=True, help="calling number, e.g. +12025550142")
    sg.add_argument("--to", dest="dest", required=True, action="append", help="called number (repeatable)")
    sg.add_argument("--display-name", default=None, help="RFC 9795 rcd nam (must be the vetted brand to be shown)")
    sg.set_defaults(fn=cmd_call_sign)
    sc = call.add_parser("sign-cert", help="print the Identity header value of a PASSporT signed with a certificate "
                                           "key (delegate, EV, enterprise or Lemon Twist certificate)")
    key = sc.add_mutually_exclusive_group(required=True)
    key.add_argument("--did", default=None, help="sign with this wallet DID's P-256 key (bridged delegate certs)")
    key.add_argument("--key", default=None, help="sign with the wallet key of this name")
    sc.add_argument("--x5u", required=True, help="where the certificate chain is published (the OSP's store has it)")
    sc.add_argument("--ppt", choices=("base", "rcd", "shaken"), default="base",
                    help="base (RFC 8225) or rcd (RFC 9795) for delegate / EV certificates; shaken (RFC 8588) for "
                         "enterprise / Lemon Twist certificates (default base)")
    sc.add_argument("--attest", choices=("A", "B", "C"), default="A", help="the attest claim of a shaken PASSporT")
    sc.add_argument("--from", dest="orig", required=True, help="calling number, e.g. +12025550142")
    sc.add_argument("--to", dest="dest", required=True, action="append", help="called number (repeatable)")
    sc.add_argument("--display-name", default=None, help="RFC 9795 rcd nam (required for --ppt rcd)")
    sc.set_defaults(fn=cmd_call_sign_cert)
