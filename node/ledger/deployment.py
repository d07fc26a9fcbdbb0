"""Where the network's contracts live: one small JSON file per network, written by ``network init``.

The file is read with :func:`wallet.strictjson.loads` (at most 64 KiB; it holds a few hundred bytes), so a
damaged or hostile file is a ``ConfigError``, never a crash of the interpreter (py-evm raises the recursion
limit to 100,000, where the standard decoder overflows the C stack on deeply nested brackets).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_utils import is_checksum_address

from node.errors import ConfigError
from wallet import strictjson
from wallet.files import write_atomic

__all__ = ["Deployment"]

_MAX_FILE = 64 * 1024


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
        write_atomic(path, (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode(), mode=None)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        try:
            with open(path, "rb") as f:
                data = strictjson.loads(f.read(_MAX_FILE + 1), max_bytes=_MAX_FILE)
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
