"""The OSP's local attestation policy: a TOML file, one table per customer trunk.

Example (``docs/attestation.md`` has the full reference)::

    [defaults]                      # every key optional; these are the built-in defaults
    freshness = 60                  # seconds an enterprise PASSporT's iat may be old (ATIS-1000074, RFC 8224 §6.2.1)
    future_skew = 5                 # seconds iat may be ahead of the OSP's clock
    algorithms = ["EdDSA", "ES256"] # allow-list; nothing outside {EdDSA, ES256} can be listed
    mechanisms = ["osp-numbers", "ledger"]   # in order; also "delegate-cert", "enterprise-cert", "lemon-twist",
                                    # "tnloa" (docs/mechanisms.md)
    cert_miss = "fetch"             # a certificate chain not in the local store: B, and fetch it off the call path
                                    # ("ignore": only what the SCAs published counts)
    spc_encompass = "refuse"        # "trust-issuer": accept numbers a CA delegated under an SPC-only parent
    require_crl = true              # every CA under the trust anchor needs a current CRL in the store
    vetting = "parties"             # who must hold a live vetted identity: "parties" (the enterprise of record and
                                    # the signer), "every-link" (every subject of the chain), or "none"
    vetting_agencies = []           # optional: only identities these vetting agencies (DIDs) issued count
    vetting_levels = []             # optional: only these vettingLevel values count
    vetting_did_auth = false        # true: only identities whose DID Auth evidence verifies count
    max_staleness = 15              # seconds: ledger evidence counts only if the ledger copy was confirmed current
                                    # within this (else B with ledger.stale)

    [trunks.acme-pbx]
    osp_numbers = ["12025550100-12025550199", "12025550300"]   # numbers the OSP itself assigned: A without evidence
    customers = ["did:eidln:prod:…"]                            # optional: whose evidence this trunk may present
    mechanisms = ["ledger"]

    [trunks.peering-gw]
    gateway = true                  # an interconnect: every call C

Decisions: a trunk that is not in the file is not the OSP's customer, so its calls get **C**; a known trunk gets at
least **B** (the OSP knows its customer) and **A** when a mechanism it lists proves the right to the number. Unknown
keys are errors (a typo must not silently weaken policy). Errors are :class:`PolicyError` (``policy.invalid``)
naming the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from contracts.vocab import TNRange, canonical_ranges
from did_method.errors import DidError
from did_method.syntax import parse_did
from node.errors import NodeError
from wallet import strictjson

__all__ = ["Policy", "TrunkPolicy", "PolicyError", "MECHANISMS", "DEFAULT_MECHANISMS", "CERT_MISS", "SPC_ENCOMPASS",
           "load_policy", "parse_policy", "read_policy_text"]

# every mechanism a policy can name (docs/mechanisms.md); a trunk lists the ones it accepts, in order
MECHANISMS = ("osp-numbers", "ledger", "delegate-cert", "enterprise-cert", "lemon-twist", "tnloa")
DEFAULT_MECHANISMS = ("osp-numbers", "ledger")
ALGORITHMS = ("EdDSA", "ES256")
_TRUNK_KEYS = {"freshness", "future_skew", "algorithms", "mechanisms", "require_vetted", "osp_numbers", "customers",
               "gateway", "max_staleness", "vetting", "vetting_agencies", "vetting_levels", "vetting_did_auth",
               "cert_miss", "spc_encompass", "require_crl"}
VETTING = ("parties", "every-link", "none")
CERT_MISS = ("fetch", "ignore")  # a chain not in the local certificate store: B now, and fetch it off the call path?
SPC_ENCOMPASS = ("refuse", "trust-issuer")  # numbers delegated under an SPC-only parent (RFC 9060 §4.1, §8)
_E164 = re.compile(r"[0-9]{1,15}")
MAX_POLICY_BYTES = 4 << 20  # a policy with thousands of trunks is well under this
MAX_POLICY_DEPTH = 8  # arrays / inline tables nested in a value; a policy needs 1
_DEFAULT_KEYS = _TRUNK_KEYS - {"osp_numbers", "customers", "gateway"}


class PolicyError(NodeError):
    def __init__(self, message: str) -> None:
        super().__init__(message, code="policy.invalid")


@dataclass(frozen=True)
class TrunkPolicy:
    trunk: str
    freshness: int = 60
    future_skew: int = 5
    algorithms: frozenset[str] = frozenset(ALGORITHMS)
    mechanisms: tuple[str, ...] = DEFAULT_MECHANISMS
    vetting: str = "parties"  # VETTING; require_vetted = false in a file means "none"
    vetting_agencies: frozenset[bytes] = frozenset()  # 16-byte DID ids of accepted vetting agencies; empty: any
    vetting_levels: frozenset[str] = frozenset()  # accepted vettingLevel values; empty: any
    vetting_did_auth: bool = False  # only vetted identities whose DID Auth evidence verifies count
    max_staleness: int = 15
    osp_numbers: tuple[TNRange, ...] = ()
    customers: frozenset[bytes] = frozenset()  # 16-byte DID ids; empty: any
    gateway: bool = False
    cert_miss: str = "fetch"  # CERT_MISS: a miss is always B (no network on the call path); "fetch" queues a fetch
    spc_encompass: str = "refuse"  # SPC_ENCOMPASS: "refuse" = a child's numbers must be inside its parent's numbers
    require_crl: bool = True  # every CA below the trust anchor must have a current CRL in the store

    def assigned(self, tn: int) -> bool:
        return any(tn in r for r in self.osp_numbers)

    @property
    def require_vetted(self) -> bool:
        return self.vetting != "none"


@dataclass(frozen=True)
class Policy:
    trunks: Mapping[str, TrunkPolicy]
    defaults: TrunkPolicy

    def trunk(self, trunk_id: str) -> TrunkPolicy | None:
        return self.trunks.get(trunk_id)


def _int(where: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise PolicyError(f"{where} must be an integer from {lo} to {hi}")
    return value


def _strings(where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where} must be a list of strings")
    return value


def _numbers(where: str, value: Any) -> tuple[TNRange, ...]:
    out = []
    for item in _strings(where, value):
        first, dash, last = item.partition("-")
        # ASCII digits, at most 15 (E.164): str.isdigit() also takes "²" and other digits int() refuses
        if not _E164.fullmatch(first) or (dash and (not _E164.fullmatch(last) or len(last) != len(first)
                                                    or int(last) < int(first))):
            raise PolicyError(f"{where}: {item!r} is not a number or a range like 12025550100-12025550199")
        out.append(TNRange(int(first), int(last or first) - int(first) + 1))
    return canonical_ranges(out)


def _apply(where: str, base: TrunkPolicy, table: Mapping[str, Any], allowed: set[str]) -> TrunkPolicy:
    unknown = set(table) - allowed
    if unknown:
        raise PolicyError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(allowed))})")
    p = base
    if "freshness" in table:
        p = replace(p, freshness=_int(f"{where}.freshness", table["freshness"], 1, 600))
    if "max_staleness" in table:
        p = replace(p, max_staleness=_int(f"{where}.max_staleness", table["max_staleness"], 1, 3600))
    if "future_skew" in table:
        p = replace(p, future_skew=_int(f"{where}.future_skew", table["future_skew"], 0, 60))
    if "algorithms" in table:
        algs = _strings(f"{where}.algorithms", table["algorithms"])
        bad = [a for a in algs if a not in ALGORITHMS]
        if bad or not algs:
            raise PolicyError(f"{where}.algorithms: only {' and '.join(ALGORITHMS)} can be allowed, not {bad or algs}")
        p = replace(p, algorithms=frozenset(algs))
    if "mechanisms" in table:
        mechs = _strings(f"{where}.mechanisms", table["mechanisms"])
        bad = [m for m in mechs if m not in MECHANISMS]
        if bad:
            raise PolicyError(f"{where}.mechanisms: unknown mechanism {bad[0]!r} (known: {', '.join(MECHANISMS)})")
        p = replace(p, mechanisms=tuple(dict.fromkeys(mechs)))
    if "require_vetted" in table:  # the older key: true is "parties", false is "none"
        if not isinstance(table["require_vetted"], bool):
            raise PolicyError(f"{where}.require_vetted must be true or false")
        if "vetting" in table:
            raise PolicyError(f"{where}: give vetting or require_vetted, not both")
        p = replace(p, vetting="parties" if table["require_vetted"] else "none")
    if "vetting" in table:
        if table["vetting"] not in VETTING:
            raise PolicyError(f"{where}.vetting must be one of {', '.join(VETTING)}")
        p = replace(p, vetting=table["vetting"])
    if "vetting_agencies" in table:
        p = replace(p, vetting_agencies=_dids(f"{where}.vetting_agencies", table["vetting_agencies"]))
    if "vetting_did_auth" in table:
        if not isinstance(table["vetting_did_auth"], bool):
            raise PolicyError(f"{where}.vetting_did_auth must be true or false")
        p = replace(p, vetting_did_auth=table["vetting_did_auth"])
    if "vetting_levels" in table:
        levels = _strings(f"{where}.vetting_levels", table["vetting_levels"])
        if any(not level for level in levels):
            raise PolicyError(f"{where}.vetting_levels: a level is a non-empty string")
        p = replace(p, vetting_levels=frozenset(levels))
    for key, choices in (("cert_miss", CERT_MISS), ("spc_encompass", SPC_ENCOMPASS)):
        if key in table:
            if table[key] not in choices:
                raise PolicyError(f"{where}.{key} must be one of {', '.join(choices)}")
            p = replace(p, **{key: table[key]})
    if "require_crl" in table:
        if not isinstance(table["require_crl"], bool):
            raise PolicyError(f"{where}.require_crl must be true or false")
        p = replace(p, require_crl=table["require_crl"])
    if "gateway" in table:
        if not isinstance(table["gateway"], bool):
            raise PolicyError(f"{where}.gateway must be true or false")
        p = replace(p, gateway=table["gateway"])
    if "osp_numbers" in table:
        p = replace(p, osp_numbers=_numbers(f"{where}.osp_numbers", table["osp_numbers"]))
    if "customers" in table:
        p = replace(p, customers=_dids(f"{where}.customers", table["customers"]))
    return p


def _dids(where: str, value: Any) -> frozenset[bytes]:
    ids = set()
    for text in _strings(where, value):
        try:
            ids.add(parse_did(text).ident)
        except DidError as exc:
            raise PolicyError(f"{where}: {exc.message}") from None
    return frozenset(ids)


def parse_policy(doc: Mapping[str, Any]) -> Policy:
    unknown = set(doc) - {"defaults", "trunks"}
    if unknown:
        raise PolicyError(f"unknown top-level table {sorted(unknown)[0]!r} (known: defaults, trunks)")
    defaults_table = doc.get("defaults", {})
    trunks_table = doc.get("trunks", {})
    if not isinstance(defaults_table, Mapping) or not isinstance(trunks_table, Mapping):
        raise PolicyError("defaults and trunks must be tables")
    defaults = _apply("defaults", TrunkPolicy(trunk="*"), defaults_table, _DEFAULT_KEYS)
    trunks = {}
    for name, table in trunks_table.items():
        if not isinstance(table, Mapping):
            raise PolicyError(f"trunks.{name} must be a table")
        if not name or len(name) > 64:
            raise PolicyError("a trunk id must be 1 to 64 characters")
        trunks[name] = _apply(f"trunks.{name}", replace(defaults, trunk=name), table, _TRUNK_KEYS)
    return Policy(trunks, defaults)


# TOML's strings (basic, literal, and their multi-line forms) and comments, for the depth check before tomllib
# (which recurses on nested arrays and inline tables)
_TOML_SKIP = re.compile(r'"""(?:[^\\]|\\.)*?"""|\'\'\'.*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*', re.S)


def read_policy_text(text: str) -> Policy:
    """A policy from TOML text, through the project's bounds: at most :data:`MAX_POLICY_BYTES` and
    :data:`MAX_POLICY_DEPTH` nested arrays / inline tables, checked before the TOML parser recurses."""
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(f"the policy is over {MAX_POLICY_BYTES} bytes")
    try:
        strictjson.check_depth(text, MAX_POLICY_DEPTH + 2, strings=_TOML_SKIP)  # + a [[table]] header's two
    except strictjson.JsonError:
        raise PolicyError(f"arrays or inline tables nested deeper than {MAX_POLICY_DEPTH} levels") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"not valid TOML: {exc}") from None
    return parse_policy(doc)


def load_policy(path: Path) -> Policy:
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read the policy file {path}: {exc.strerror}") from None
    try:
        return read_policy_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: not UTF-8 text") from None
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc.message}") from None
