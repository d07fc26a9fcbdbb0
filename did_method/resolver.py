"""did:eidln resolution (W3C DID Resolution) from a node's local ledger copy.

``resolve`` never raises for bad input: every outcome is a :class:`ResolutionResult` whose
``did_resolution_metadata["error"]`` carries the DID Core keyword (``invalidDid``, ``notFound``,
``methodNotSupported``, ``deactivated``, ``invalidOptions``). Misuse of the API (wrong types) raises.
The history source is injected (the node's SQLite index in production, a list in tests); no network call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from did_method.document import (
    RELATIONSHIPS,
    Change,
    DidState,
    VerificationKey,
    render,
    replay,
)
from did_method.errors import Deactivated, DidError, InternalError, InvalidOptions, NotFound
from did_method.syntax import Did, parse_did, parse_did_url
from did_method.timefmt import parse_date_time_stamp, xml_datetime

__all__ = ["DidHistory", "ResolutionResult", "Resolver", "MEDIA_TYPE_DOCUMENT", "parse_version_time"]

MEDIA_TYPE_DOCUMENT = "application/did+ld+json"
MAX_CHANGES = 10_000  # replay bound (SPEC.md 8.6)


class DidHistory(Protocol):
    def changes(self, ident: bytes) -> Sequence[Change]:
        """Every change of the DID with this 16-byte id, in chain order (empty if unknown)."""
        ...


@dataclass(frozen=True, slots=True)
class ResolutionResult:
    did_document: dict[str, Any] | None
    did_resolution_metadata: dict[str, Any]
    did_document_metadata: dict[str, Any]
    error: DidError | None = None
    state: DidState | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"@context": "https://w3id.org/did-resolution/v1", "didDocument": self.did_document,
                "didResolutionMetadata": self.did_resolution_metadata,
                "didDocumentMetadata": self.did_document_metadata}


def parse_version_time(text: str) -> int:
    """An XML Schema dateTime with a time zone (``2026-11-28T17:00:00Z``, offsets allowed) as Unix seconds."""
    ts = parse_date_time_stamp(text)
    if ts is None:
        raise InvalidOptions(f"versionTime {text!r} is not an XML Schema dateTime with a time zone (e.g. …Z)")
    return ts


def _check_links(did: Did, changes: Sequence[Change]) -> None:
    """Each event's ``previous_change`` names the block of the DID's preceding event (0 for the first):
    a break means the index misses events, and resolving from it would be wrong."""
    previous = 0
    for ch in changes:
        if int(ch.args.get("previous_change", -1)) != previous:
            raise InternalError(f"the history of {did} is incomplete at block {ch.block} (a change links to block "
                                f"{ch.args.get('previous_change')}, expected {previous}); re-sync the index")
        previous = ch.block


class Resolver:
    """Resolves DIDs of one network (``did:eidln:<network>:…``) from an injected history."""

    def __init__(self, history: DidHistory, *, network: str, chain_id: int) -> None:
        self.history = history
        self.network = network
        self.chain_id = chain_id

    def _fail(self, err: DidError, metadata: dict[str, Any] | None = None,
              state: DidState | None = None) -> ResolutionResult:
        return ResolutionResult(None, {"error": err.code, "errorMessage": err.message}, metadata or {}, err, state)

    def resolve(self, did: str, *, version_id: str | None = None, version_time: str | int | None = None,
                ) -> ResolutionResult:
        try:
            parsed = parse_did(did)
            return self._resolve(parsed, version_id, version_time)
        except DidError as err:
            return self._fail(err)
        except Exception as exc:  # an unreadable index or an event the replay cannot apply: never a raise
            return self._fail(InternalError(f"resolution failed inside the resolver ({type(exc).__name__})"))

    def _resolve(self, did: Did, version_id: str | None, version_time: str | int | None) -> ResolutionResult:
        if version_id is not None and version_time is not None:
            raise InvalidOptions("give versionId or versionTime, not both")
        if did.network != self.network:
            raise NotFound(f"this resolver serves did:eidln:{self.network}, not network {did.network!r}")
        if version_id is not None and not re.fullmatch(r"0|[1-9][0-9]{0,18}", version_id):
            raise InvalidOptions(f"versionId {version_id!r} is not a decimal block number")
        t = None
        if version_time is not None:
            t = version_time if isinstance(version_time, int) else parse_version_time(version_time)
        changes = list(self.history.changes(did.ident))
        if not changes:
            raise NotFound(f"{did} is not on the ledger")
        if len(changes) > MAX_CHANGES:
            raise InternalError(f"{did} has {len(changes)} changes, more than this resolver replays ({MAX_CHANGES})")
        _check_links(did, changes)
        applied = changes
        if version_id is not None:
            if not any(c.block == int(version_id) for c in changes):
                raise NotFound(f"{did} has no version {version_id!r}")
            applied = [c for c in changes if c.block <= int(version_id)]
        elif t is not None:
            applied = [c for c in changes if c.timestamp <= t]
            if not applied:
                raise NotFound(f"{did} did not exist at {xml_datetime(t)}")
        st = replay(applied)
        meta: dict[str, Any] = {"created": xml_datetime(st.created), "versionId": str(st.version_block),
                                "ledgerController": f"eip155:{self.chain_id}:{st.controller}"}
        if st.updated is not None:
            meta["updated"] = xml_datetime(st.updated)
        later = changes[len(applied):]
        if later:
            meta["nextVersionId"] = str(later[0].block)
            meta["nextUpdate"] = xml_datetime(later[0].timestamp)
        if st.deactivated:
            meta["deactivated"] = True
            return self._fail(Deactivated(f"{did} is deactivated"), meta, st)
        return ResolutionResult(render(str(did), st), {"contentType": MEDIA_TYPE_DOCUMENT}, meta, None, st)

    def key_at(self, did_url: str, timestamp: int, *, relationship: str = "assertionMethod") -> VerificationKey:
        """The verification key a DID URL names, as it was at ``timestamp`` (key history).

        A key revoked before ``timestamp``, added after it, not bound to ``relationship``, or a DID
        deactivated by then: :class:`NotFound` / :class:`Deactivated` with a message saying which.
        """
        url = parse_did_url(did_url)
        if url.fragment is None:
            raise NotFound(f"{did_url} names no key (no #fragment)")
        res = self.resolve(str(url.did), version_time=timestamp)
        if res.error is not None:
            raise res.error
        assert res.state is not None
        key = res.state.keys.get(url.fragment)
        if key is None or not key.active_at(timestamp):
            why = "was revoked before" if key is not None and key.revoked_at is not None else "did not exist at"
            raise NotFound(f"key {did_url} {why} {xml_datetime(timestamp)}")
        bits = {name: bit for bit, name in RELATIONSHIPS}
        if relationship not in bits:
            raise ValueError(f"unknown verification relationship {relationship!r}")
        if not key.relationships & bits[relationship]:
            raise NotFound(f"key {did_url} is not an {relationship} key")
        return key

