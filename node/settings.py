"""The node's settings: one typed, immutable object built at the process edge from the environment.

Library code never reads ``os.environ``; the CLI calls :meth:`Settings.from_env` once. Every variable is
listed in ``docs/configuration.md``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from node.errors import ConfigError

__all__ = ["Settings"]


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default, 1)
    if value > 65535:
        raise ConfigError(f"{name} must be a TCP port (1-65535), got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = (env.get(name) or "0").strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no), got {value[:20]!r}")
    return value in ("1", "true", "yes")


def _x5u(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ConfigError(f"EIDLN_STI_X5U must be an http(s) URL, got {value[:80]!r}")
    return value


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path = Path(".eidln")
    chain: str = "embedded"  # "embedded" or an http(s) JSON-RPC URL
    chain_id: int = 1337
    confirmations: int = 0
    max_reorg_depth: int = 0  # blocks of an ingested reorganisation the node replays; 0: refuse any (final chains)
    sync_batch: int = 500
    sync_interval: float = 1.0
    head_poll: float = 0.02  # seconds between head checks while the follower waits for a new block
    rpc_timeout: float = 10.0
    passphrase: str | None = None
    wallet: Path | None = None  # default <home>/wallet.json
    wallet_passphrase: str | None = None
    backup_passphrase: str | None = None
    wallet_session: str | None = None  # token of an unlock session (eidln wallet unlock): opens the wallet instead
    session_dir: Path | None = None  # where unlock sessions live; default $XDG_RUNTIME_DIR/eidln, else <home>/sessions
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    status_did: str | None = None  # the wallet DID that signs the node's status lists
    public_url: str | None = None  # how verifiers reach this node (default http://<api_host>:<api_port>)
    policy_file: Path | None = None  # the OSP's attestation policy (TOML); enables POST /v1/attest
    sti_key: str | None = None  # name of the OSP's STI signing key (P-256) in the node's wallet
    sti_x5u: str | None = None  # where the OSP's STI certificate chain is published (the PASSporT's x5u)
    sti_chain: Path | None = None  # PEM file of that chain (leaf first): audit bundles carry it (x5c)
    trust_roots: Path | None = None  # PEM file or directory of STI-PA trust anchors; enables /stir/v1/verification
    crl_file: Path | None = None  # PEM file of CRLs the verification service checks
    x5u_insecure: bool = False  # development only: x5u over http and to loopback / private addresses
    stivs_require_ppt: bool = False  # the STI-VS refuses an Identity header without ppt=shaken (strict RFC 8588)
    audit_file: Path | None = None  # default <home>/audit.sqlite
    max_body: int = 64 * 1024  # bytes of one HTTP request body
    body_timeout: float = 10.0  # seconds without body data before a 408
    header_timeout: float = 10.0  # seconds for a request's line and headers before the connection is closed
    max_connections: int = 1024  # HTTP connections plus requests in flight; 503 beyond
    ready_max_age: float = 15.0  # /readyz: the ledger copy must have been confirmed current within this

    def __repr__(self) -> str:  # never print the passphrase
        secret = ("passphrase", "wallet_passphrase", "backup_passphrase", "wallet_session")
        shown = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in secret}
        return (f"Settings({shown}, passphrase={'set' if self.passphrase else 'unset'}, "
                f"wallet_passphrase={'set' if self.wallet_passphrase else 'unset'}, "
                f"wallet_session={'set' if self.wallet_session else 'unset'})")

    @property
    def embedded(self) -> bool:
        return self.chain == "embedded"

    @property
    def network_file(self) -> Path:
        return self.home / "network.json"

    @property
    def chain_file(self) -> Path:
        return self.home / "chain.sqlite"

    @property
    def index_file(self) -> Path:
        return self.home / "index.sqlite"

    @property
    def wallet_file(self) -> Path:
        return self.wallet if self.wallet is not None else self.home / "wallet.json"

    @property
    def audit_path(self) -> Path:
        return self.audit_file if self.audit_file is not None else self.home / "audit.sqlite"

    @property
    def sessions_dir(self) -> Path:
        """Where ``eidln wallet unlock`` keeps its sessions (:mod:`wallet.session`)."""
        return self.session_dir if self.session_dir is not None else self.home / "sessions"

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        chain = env.get("EIDLN_CHAIN", "embedded") or "embedded"
        if chain != "embedded" and not chain.startswith(("http://", "https://")):
            raise ConfigError(f"EIDLN_CHAIN must be 'embedded' or an http(s):// JSON-RPC URL, got {chain!r}")
        passphrase = env.get("EIDLN_PASSPHRASE") or None
        pfile = env.get("EIDLN_PASSPHRASE_FILE")
        if passphrase is None and pfile:
            try:
                passphrase = Path(pfile).read_bytes().decode("utf-8").rstrip("\n")
            except OSError as exc:
                raise ConfigError(f"cannot read EIDLN_PASSPHRASE_FILE {pfile}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise ConfigError(f"EIDLN_PASSPHRASE_FILE {pfile} is not UTF-8 text") from None
        return cls(
            home=Path(env.get("EIDLN_HOME", ".eidln") or ".eidln"),
            chain=chain,
            chain_id=_int(env, "EIDLN_CHAIN_ID", 1337, 1),
            confirmations=_int(env, "EIDLN_CONFIRMATIONS", 0),
            max_reorg_depth=_int(env, "EIDLN_MAX_REORG_DEPTH", 0),
            sync_batch=_int(env, "EIDLN_SYNC_BATCH", 500, 1),
            sync_interval=_float(env, "EIDLN_SYNC_INTERVAL", 1.0),
            head_poll=_float(env, "EIDLN_HEAD_POLL", 0.02),
            rpc_timeout=_float(env, "EIDLN_RPC_TIMEOUT", 10.0),
            passphrase=passphrase,
            wallet=Path(env["EIDLN_WALLET"]) if env.get("EIDLN_WALLET") else None,
            wallet_passphrase=env.get("EIDLN_WALLET_PASSPHRASE") or passphrase,
            backup_passphrase=env.get("EIDLN_BACKUP_PASSPHRASE") or None,
            wallet_session=env.get("EIDLN_WALLET_SESSION") or None,
            session_dir=_path(env, "EIDLN_SESSION_DIR") or (
                Path(env["XDG_RUNTIME_DIR"]) / "eidln" if env.get("XDG_RUNTIME_DIR") else None),
            api_host=env.get("EIDLN_API_HOST", "127.0.0.1") or "127.0.0.1",
            api_port=_port(env, "EIDLN_API_PORT", 8080),
            status_did=env.get("EIDLN_STATUS_DID") or None,
            public_url=(env.get("EIDLN_PUBLIC_URL") or "").rstrip("/") or None,
            policy_file=_path(env, "EIDLN_POLICY"),
            sti_key=env.get("EIDLN_STI_KEY") or None,
            sti_x5u=_x5u(env.get("EIDLN_STI_X5U") or None),
            sti_chain=_path(env, "EIDLN_STI_CHAIN"),
            trust_roots=_path(env, "EIDLN_TRUST_ROOTS"),
            crl_file=_path(env, "EIDLN_CRLS"),
            x5u_insecure=_flag(env, "EIDLN_X5U_INSECURE"),
            stivs_require_ppt=_flag(env, "EIDLN_STIVS_REQUIRE_PPT"),
            audit_file=_path(env, "EIDLN_AUDIT"),
            max_body=_int(env, "EIDLN_MAX_BODY", 64 * 1024, 1024),
            body_timeout=_float(env, "EIDLN_BODY_TIMEOUT", 10.0),
            header_timeout=_float(env, "EIDLN_HEADER_TIMEOUT", 10.0),
            max_connections=_int(env, "EIDLN_MAX_CONNECTIONS", 1024, 1),
            ready_max_age=_float(env, "EIDLN_READY_MAX_AGE", 15.0),
        )
