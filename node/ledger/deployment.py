"""Where the network's contracts live: one small JSON file per network, written by ``network init``."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import is_checksum_address

from node.errors import ConfigError

__all__ = ["Deployment"]


@dataclass(frozen=True, slots=True)
class Deployment:
    chain_id: int
    members: str
    numbers: str
    dids: str
    credentials: str
    start_block: int  # the block of the first contract: sync starts here
    network: str = "local"  # the network name in did:eidln:<network>:<id>

    def addresses(self) -> dict[str, str]:
        return {"Members": self.members, "NumberAuthority": self.numbers, "DIDRegistry": self.dids,
                "CredentialRegistry": self.credentials}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"no network deployment at {path}; run 'eidln network init' first",
                              code="config.no_network") from None
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the deployment file {path}: {exc}") from None
        try:
            dep = cls(chain_id=int(data["chain_id"]), members=data["members"], numbers=data["numbers"],
                      dids=data["dids"], credentials=data["credentials"], start_block=int(data["start_block"]),
                      network=str(data.get("network", "local")))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the deployment file {path} is malformed ({exc})") from None
        if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", dep.network):
            raise ConfigError(f"the deployment file {path} has a bad network name {dep.network!r}")
        for a in dep.addresses().values():
            if not is_checksum_address(a):
                raise ConfigError(f"the deployment file {path} has a bad address {a!r}")
        return dep
