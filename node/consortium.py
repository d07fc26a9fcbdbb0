"""Files for a Hyperledger Besu QBFT consortium network: keys, enodes, genesis, node config.

Everything here is a pure function except :func:`generate_network`, which writes one network directory::

    <out>/.env                              BESU_VERSION=<tag> (for ``docker compose --env-file``)
    <out>/config/genesis.json               QBFT genesis, validators in extraData, free gas, Cancun EVM
    <out>/config/config.toml                Besu options common to every node
    <out>/config/static-nodes.json          every node's enode (discovery is off)
    <out>/config/permissions_config.toml    local node allowlist (the same enodes)
    <out>/nodes/<name>/key                  secp256k1 node key, ``0x`` + 64 hex, mode 0600 (a secret)

Node names are ``validator1..N`` plus one non-validating ``rpcnode``. Validators are numbered in ascending
address order, which is also their order in the genesis extraData (the order Besu's docs ask for).
Fixed IPs: ``validator<i>`` gets host ``.1<i>`` of the subnet (host offset ``10 + i``), ``rpcnode`` the
next one; with the defaults that is 172.16.239.11-14 and 172.16.239.15, the addresses the committed
``docker-compose.yml`` pins. Background and sources: ``docs/consortium.md``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_keys import keys
from eth_utils import (
    is_checksum_address,
    is_checksum_formatted_address,
    is_hex_address,
    to_bytes,
    to_checksum_address,
)

from .errors import ConfigError

__all__ = [
    "BESU_RPC_GROUPS",
    "RPC_API",
    "QBFT_MIX_HASH",
    "NodeKey",
    "NetworkNode",
    "NetworkFiles",
    "qbft_extra_data",
    "decode_qbft_extra_data",
    "enode_url",
    "genesis",
    "generate_network",
]

#: RPC API groups Besu 26.x accepts (``RpcApis.java``); an unknown group aborts start-up.
#: ``EEA`` and ``PRIV`` were removed in 25.7.0.
BESU_RPC_GROUPS = frozenset(
    {"ETH", "DEBUG", "MINER", "NET", "PERM", "WEB3", "ADMIN", "TXPOOL", "TRACE", "PLUGINS", "IBFT",
     "ENGINE", "QBFT", "TESTING"})
#: The groups every node of the generated network serves, on HTTP and WebSocket.
RPC_API = ("ETH", "NET", "QBFT", "WEB3")
#: Fixed ``mixHash`` of IBFT/QBFT genesis blocks ("Istanbul block identification").
QBFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_VANITY = b"\x00" * 32
_VOTE_ADD, _VOTE_DROP = b"\xff", b"\x00"
_P2P_PORT, _HTTP_PORT, _WS_PORT, _METRICS_PORT = 30303, 8545, 8546, 9545
_FIRST_HOST = 11  # validator1 -> <subnet>.11
_RPCNODE = "rpcnode"
_KEY_FILE_MODE = 0o600
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_HEX_RE = re.compile(r"^(0x)?([0-9a-fA-F]{2})*$")


# -- extraData ---------------------------------------------------------------------------------------

def qbft_extra_data(validators: Sequence[str]) -> str:
    """Genesis ``extraData`` for QBFT block-header validator selection, as ``0x`` hex.

    RLP of ``[32 zero bytes vanity, [validator addresses], [] (no vote), 0 (round), [] (no seals)]``.
    The validators are kept in the order given; an empty list gives the value for contract validator
    selection. Raises :class:`ConfigError` for a malformed or repeated address.
    """
    if isinstance(validators, str | bytes):
        raise ConfigError("validators must be a sequence of addresses, not one string",
                          code="config.validators")
    raw: list[bytes] = []
    for v in validators:
        if not isinstance(v, str) or not v.startswith("0x") or not is_hex_address(v):
            raise ConfigError(f"not a 0x-prefixed Ethereum address: {v!r}", code="config.validators")
        if is_checksum_formatted_address(v) and not is_checksum_address(v):
            raise ConfigError(f"mixed-case address with a wrong EIP-55 checksum: {v!r}",
                              code="config.validators")
        raw.append(to_bytes(hexstr=v))
    if len(set(raw)) != len(raw):
        raise ConfigError("the same validator address is listed twice", code="config.validators")
    encoded: bytes = rlp.encode([_VANITY, raw, [], 0, []])
    return "0x" + encoded.hex()


def decode_qbft_extra_data(extra_data: str) -> dict[str, Any]:
    """Decode QBFT ``extraData`` (genesis or any block header) into its five fields.

    Returns ``{"vanity": "0x…", "validators": [checksummed], "votes": [{"address", "add"}] (0 or 1),
    "round": int, "seals": ["0x…"]}``. Strict: non-canonical RLP, trailing bytes, wrong field sizes or an
    unknown vote type raise :class:`ConfigError` (code ``config.extra_data``).
    """
    def bad(why: str) -> ConfigError:
        return ConfigError(f"malformed QBFT extraData: {why}", code="config.extra_data")

    if not isinstance(extra_data, str) or not _HEX_RE.match(extra_data.strip()):
        raise bad("expected an even-length hex string")
    data = bytes.fromhex(extra_data.strip().removeprefix("0x"))
    if not data:
        raise bad("empty")
    try:
        item = rlp.decode(data, strict=True)
    except rlp.exceptions.DecodingError as e:
        raise bad(f"not canonical RLP ({e.__class__.__name__})") from None
    if not isinstance(item, list) or len(item) != 5:
        raise bad("expected an RLP list of 5 items [vanity, validators, vote, round, seals]")
    vanity, validators, vote, round_, seals = item
    if not isinstance(vanity, bytes) or len(vanity) != 32:
        raise bad("vanity must be 32 bytes")
    if not isinstance(validators, list) or not all(isinstance(v, bytes) and len(v) == 20
                                                  for v in validators):
        raise bad("validators must be a list of 20-byte addresses")
    if not isinstance(vote, list):
        raise bad("vote must be a list")
    votes: list[dict[str, Any]] = []
    if vote:
        if (len(vote) != 2 or not isinstance(vote[0], bytes) or len(vote[0]) != 20
                or vote[1] not in (_VOTE_ADD, _VOTE_DROP)):
            raise bad("vote must be [] or [20-byte address, 0xff (add) | 0x00 (drop)]")
        votes.append({"address": to_checksum_address(vote[0]), "add": vote[1] == _VOTE_ADD})
    if not isinstance(round_, bytes) or len(round_) > 4 or round_[:1] == b"\x00":
        raise bad("round must be a canonical integer of at most 4 bytes")
    if not isinstance(seals, list) or not all(isinstance(s, bytes) and len(s) == 65 for s in seals):
        raise bad("seals must be a list of 65-byte signatures")
    return {
        "vanity": "0x" + vanity.hex(),
        "validators": [to_checksum_address(v) for v in validators],
        "votes": votes,
        "round": int.from_bytes(round_, "big"),
        "seals": ["0x" + s.hex() for s in seals],
    }


# -- node keys ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NodeKey:
    """A Besu node key: secp256k1 private key, the node's (validator) address and its enode id.

    ``public_key`` is the 64-byte uncompressed public key without the ``04`` prefix, as 128 hex digits:
    the id in ``enode://<public_key>@ip:port``. The private key is left out of ``repr``.
    """

    private_key: bytes = field(repr=False)
    address: str
    public_key: str

    @classmethod
    def from_private_key(cls, private_key: bytes) -> NodeKey:
        """Derive address and enode id from 32 private-key bytes (1 <= key < n)."""
        if not isinstance(private_key, bytes) or len(private_key) != 32 or \
                not 0 < int.from_bytes(private_key, "big") < _SECP256K1_N:
            raise ConfigError("a node key is 32 bytes, 1 <= key < secp256k1 n", code="config.node_key")
        pub = keys.PrivateKey(private_key).public_key
        return cls(private_key, pub.to_checksum_address(), pub.to_bytes().hex())

    @classmethod
    def generate(cls) -> NodeKey:
        """A fresh key from the OS CSPRNG (:mod:`secrets`)."""
        while True:
            candidate = secrets.token_bytes(32)
            if 0 < int.from_bytes(candidate, "big") < _SECP256K1_N:
                return cls.from_private_key(candidate)

    @classmethod
    def from_file(cls, path: Path) -> NodeKey:
        """Read a Besu key file (``0x`` + 64 hex; surrounding whitespace allowed)."""
        text = Path(path).read_text(encoding="ascii").strip()
        if not re.fullmatch(r"0x[0-9a-fA-F]{64}", text):
            raise ConfigError(f"{path}: a key file holds 0x followed by 64 hex digits",
                              code="config.node_key")
        return cls.from_private_key(bytes.fromhex(text[2:]))

    def file_text(self) -> str:
        """The key file content Besu reads with ``--node-private-key-file``."""
        return "0x" + self.private_key.hex()


def enode_url(key: NodeKey, ip: str, port: int = _P2P_PORT) -> str:
    """``enode://<public key>@<ip>:<port>`` for static nodes and the node allowlist (IP, not hostname)."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        raise ConfigError(f"enode host must be an IP address (Besu needs --Xdns-enabled for names): {ip!r}",
                          code="config.enode") from None
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"bad P2P port {port!r}", code="config.enode")
    host = f"[{addr}]" if addr.version == 6 else str(addr)
    return f"enode://{key.public_key}@{host}:{port}"


# -- genesis -----------------------------------------------------------------------------------------

def genesis(validators: Sequence[str], *, chain_id: int = 1337, block_period: int = 2,
            request_timeout: int = 4, epoch: int = 30000, gas_limit: int = 100_000_000) -> dict[str, Any]:
    """A QBFT genesis for a free-gas private network, as a JSON-ready dict.

    Every milestone up to London at block 0, then ``shanghaiTime``/``cancunTime`` 0 (Besu runs only the
    forks the genesis lists; our Vyper contracts are compiled for Cancun), ``zeroBaseFee`` (with
    ``--min-gas-price=0`` on every node, transactions cost nothing, so no account is funded),
    ``contractSizeLimit`` 24,576 (EIP-170, as the embedded chain and anvil),
    QBFT's fixed ``difficulty``/``mixHash`` and the validators in
    ``extraData``. ``gas_limit`` defaults to 100 M per block: ample for the ledger, while bounding what
    one block (or an ``eth_call`` defaulting to the block gas limit) can cost a node.
    """
    for name, value, low in (("chain_id", chain_id, 1), ("block_period", block_period, 1),
                             ("request_timeout", request_timeout, 1), ("epoch", epoch, 1),
                             ("gas_limit", gas_limit, 5000)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}", code="config.genesis")
    milestones = ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
                  "constantinopleBlock", "petersburgBlock", "istanbulBlock", "muirGlacierBlock",
                  "berlinBlock", "londonBlock")
    config: dict[str, Any] = {"chainId": chain_id, **dict.fromkeys(milestones, 0),
                              "shanghaiTime": 0, "cancunTime": 0,
                              "zeroBaseFee": True, "contractSizeLimit": 24576,
                              "qbft": {"blockperiodseconds": block_period, "epochlength": epoch,
                                       "requesttimeoutseconds": request_timeout}}
    return {
        "config": config,
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "extraData": qbft_extra_data(validators),
        "alloc": {},
    }


# -- network directory -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkNode:
    """One node of a generated network. ``key_path`` is relative to the network directory."""

    name: str
    ip: str
    address: str
    enode: str
    validator: bool
    key_path: Path


@dataclass(frozen=True)
class NetworkFiles:
    """What :func:`generate_network` wrote. Paths are absolute; ``nodes`` lists validators first."""

    out_dir: Path
    chain_id: int
    subnet: str
    besu_version: str
    genesis: Path
    config_toml: Path
    static_nodes: Path
    permissions: Path
    env: Path
    nodes: tuple[NetworkNode, ...]
    warnings: tuple[str, ...] = ()

    @property
    def validators(self) -> tuple[str, ...]:
        """Validator addresses, in extraData order."""
        return tuple(n.address for n in self.nodes if n.validator)

    @property
    def enodes(self) -> tuple[str, ...]:
        return tuple(n.enode for n in self.nodes)

    @property
    def rpc_url(self) -> str:
        """The RPC node's JSON-RPC URL inside the Docker network."""
        return next(f"http://{n.ip}:{_HTTP_PORT}" for n in self.nodes if n.name == _RPCNODE)


def _toml_str(s: str) -> str:
    return json.dumps(s)  # ASCII JSON string == TOML basic string


def _toml_list(items: Sequence[str], *, multiline: bool = False) -> str:
    if not multiline:
        return "[" + ", ".join(_toml_str(i) for i in items) + "]"
    return "[\n" + "".join(f"  {_toml_str(i)},\n" for i in items) + "]"


def _config_toml(host_allowlist: Sequence[str]) -> str:
    api = _toml_list(RPC_API)
    return f"""\
# Besu options common to every node of this network (generated; see docs/consortium.md).
# Per node on the command line: --node-private-key-file=/keys/key --p2p-host=<fixed IP>.
# BESU_PROFILE=ENTERPRISE comes from the environment: a profile cannot be set in this file.
genesis-file="/config/genesis.json"
data-path="/data"
min-gas-price=0
logging="INFO"
p2p-port={_P2P_PORT}
# Permissioned: no discovery; peers come from static-nodes.json and must be in the allowlist.
discovery-enabled=false
static-nodes-file="/config/static-nodes.json"
permissions-nodes-config-file-enabled=true
permissions-nodes-config-file="/config/permissions_config.toml"
rpc-http-enabled=true
rpc-http-host="0.0.0.0"
rpc-http-port={_HTTP_PORT}
rpc-http-api={api}
rpc-ws-enabled=true
rpc-ws-host="0.0.0.0"
rpc-ws-port={_WS_PORT}
rpc-ws-api={api}
# Host header allowlist (DNS-rebinding guard) for RPC and metrics.
host-allowlist={_toml_list(host_allowlist)}
metrics-enabled=true
metrics-host="0.0.0.0"
metrics-port={_METRICS_PORT}
"""


def _node_ips(subnet: str, count: int) -> list[str]:
    try:
        net = ipaddress.IPv4Network(subnet, strict=True)
    except ValueError as e:
        raise ConfigError(f"subnet must be an IPv4 network like 172.16.239.0/24: {e}",
                          code="config.subnet") from None
    ips = [net.network_address + _FIRST_HOST + i for i in range(count)]
    if ips[-1] >= net.broadcast_address or ips[-1] not in net:
        raise ConfigError(f"subnet {net} is too small for {count} nodes from host .{_FIRST_HOST}",
                          code="config.subnet")
    return [str(ip) for ip in ips]


def _write_key(path: Path, key: NodeKey) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _KEY_FILE_MODE)
    try:
        os.fchmod(fd, _KEY_FILE_MODE)  # exactly 0600 whatever the umask
        os.write(fd, key.file_text().encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


_OWNED = ("config", "nodes", ".env")  # what generate_network writes (and, with force, replaces)


def generate_network(out_dir: Path, *, validators: int = 4, chain_id: int = 1337,
                     subnet: str = "172.16.239.0/24", besu_version: str = "26.8.0",
                     block_period: int = 2, request_timeout: int = 4, force: bool = False,
                     allow_small: bool = False) -> NetworkFiles:
    """Generate keys and every Besu file of a QBFT network into ``out_dir`` (layout: module docstring).

    Refuses (``ConfigError``, code ``config.network_exists``) when ``out_dir`` exists and is not empty,
    unless ``force``: then only ``config/``, ``nodes/`` and ``.env`` are replaced. Chain data in Docker
    volumes belongs to the old genesis: remove it (``docker compose down -v``) before starting again.
    A BFT network needs ``validators >= 4`` (f = floor((n-1)/3) >= 1 faulty tolerated); fewer only
    with ``allow_small``. Files are built in a temporary sibling directory and moved in at the end.
    """
    if not isinstance(validators, int) or isinstance(validators, bool) or validators < 1:
        raise ConfigError(f"validators must be a positive integer, got {validators!r}",
                          code="config.validators")
    if validators < 4 and not allow_small:
        raise ConfigError(f"{validators} validators tolerate no faulty node (f = floor((n-1)/3) = "
                          f"{(validators - 1) // 3}); use 4 or more, or allow_small=True for a test network",
                          code="config.validators")
    if not _VERSION_RE.match(besu_version):
        raise ConfigError(f"not an image tag: {besu_version!r}", code="config.besu_version")
    ips = _node_ips(subnet, validators + 1)
    out_dir = Path(out_dir).absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} exists and is not a directory", code="config.network_exists")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not force:
        raise ConfigError(f"{out_dir} already holds files (a network?); refusing to overwrite its keys. "
                          "Pass force=True (CLI --force) to replace it", code="config.network_exists")

    vkeys = sorted((NodeKey.generate() for _ in range(validators)), key=lambda k: k.address.lower())
    named = [(f"validator{i + 1}", k, True) for i, k in enumerate(vkeys)]
    named.append((_RPCNODE, NodeKey.generate(), False))
    nodes = tuple(NetworkNode(name, ip, k.address, enode_url(k, ip), is_v, Path("nodes", name, "key"))
                  for (name, k, is_v), ip in zip(named, ips, strict=True))
    genesis_doc = genesis([k.address for k in vkeys], chain_id=chain_id, block_period=block_period,
                          request_timeout=request_timeout)
    enodes = [n.enode for n in nodes]
    allow_hosts = ["localhost", "127.0.0.1", *(n.name for n in nodes), *(n.ip for n in nodes)]

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        (tmp / "config").mkdir()
        (tmp / "config" / "genesis.json").write_text(json.dumps(genesis_doc, indent=2) + "\n")
        (tmp / "config" / "config.toml").write_text(_config_toml(allow_hosts))
        (tmp / "config" / "static-nodes.json").write_text(json.dumps(enodes, indent=2) + "\n")
        (tmp / "config" / "permissions_config.toml").write_text(
            "# Local node allowlist: Besu accepts peers only from these enodes.\n"
            f"nodes-allowlist={_toml_list(enodes, multiline=True)}\n")
        (tmp / ".env").write_text(f"BESU_VERSION={besu_version}\n")
        for (_name, key, _v), node in zip(named, nodes, strict=True):
            (tmp / node.key_path).parent.mkdir(parents=True)
            _write_key(tmp / node.key_path, key)
        if out_dir.is_dir():
            for entry in _OWNED:
                target = out_dir / entry
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
            for entry in _OWNED:
                os.replace(tmp / entry, out_dir / entry)
            tmp.rmdir()
        else:
            tmp.chmod(0o755)  # mkdtemp makes 0700
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    warnings: tuple[str, ...] = ()
    if hasattr(os, "getuid") and os.getuid() != 1000:
        warnings = (f"the key files are owned by uid {os.getuid()} with mode 0600, but the Besu image runs "
                    f"as uid 1000: before starting, run `sudo chown -R 1000:1000 {out_dir / 'nodes'}`",)
    return NetworkFiles(
        out_dir=out_dir, chain_id=chain_id, subnet=subnet, besu_version=besu_version,
        genesis=out_dir / "config" / "genesis.json", config_toml=out_dir / "config" / "config.toml",
        static_nodes=out_dir / "config" / "static-nodes.json",
        permissions=out_dir / "config" / "permissions_config.toml", env=out_dir / ".env",
        nodes=nodes, warnings=warnings)
