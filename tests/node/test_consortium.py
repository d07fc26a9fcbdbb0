"""Besu QBFT network files: extraData codec, node keys, genesis, the generated directory, the compose file."""

from __future__ import annotations

import ipaddress
import json
import stat
import tomllib
from pathlib import Path

import pytest
import rlp

from node.consortium import (
    BESU_RPC_GROUPS,
    QBFT_MIX_HASH,
    NodeKey,
    decode_qbft_extra_data,
    enode_url,
    generate_network,
    genesis,
    qbft_extra_data,
)
from node.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]

# hyperledger/besu-docs, docs/private-networks/how-to/configure/consensus/qbft.md, section "Extra data" >
# "Generate extra data" (commit 110d7680c87c34864ca2a80df0f210e2bde934b7): the toEncode.json validators and
# the "RLP encoded data" Besu's `rlp encode --type=QBFT_EXTRA_DATA` gives for them. Not in ascending order,
# although the docs ask for it: the encoder must keep the given order.
DOCS_VALIDATORS = [
    "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
    "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
    "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
    "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
]
DOCS_EXTRA_DATA = (
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e4"
    "3cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab"
    "5e7f4061c605820d3744227eed91ff8e2c8908c080c0"
)
# Contract validator selection (no validators in extraData), as given in shared/research/engine.md §1.4.
CONTRACT_MODE_EXTRA_DATA = "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0"


# -- extraData ---------------------------------------------------------------------------------------

def test_docs_example_decodes_to_documented_validators_and_reencodes_byte_exact():
    decoded = decode_qbft_extra_data(DOCS_EXTRA_DATA)
    assert [v.lower() for v in decoded["validators"]] == DOCS_VALIDATORS
    assert decoded["vanity"] == "0x" + "00" * 32
    assert (decoded["votes"], decoded["round"], decoded["seals"]) == ([], 0, [])
    assert qbft_extra_data(DOCS_VALIDATORS) == DOCS_EXTRA_DATA
    assert qbft_extra_data(decoded["validators"]) == DOCS_EXTRA_DATA  # checksummed input, same bytes


def test_contract_mode_value():
    assert qbft_extra_data([]) == CONTRACT_MODE_EXTRA_DATA
    assert decode_qbft_extra_data(CONTRACT_MODE_EXTRA_DATA)["validators"] == []


def test_round_trip_random_validators():
    addrs = [NodeKey.generate().address for _ in range(7)]
    encoded = qbft_extra_data(addrs)
    assert decode_qbft_extra_data(encoded)["validators"] == addrs
    assert decode_qbft_extra_data(encoded.removeprefix("0x"))["validators"] == addrs


def test_decodes_a_block_header_with_vote_round_and_seals():
    a, b = bytes.fromhex(DOCS_VALIDATORS[0][2:]), bytes.fromhex(DOCS_VALIDATORS[1][2:])
    seal = bytes(range(65))
    raw = rlp.encode([b"\x01" * 32, [a], [b, b"\xff"], 3, [seal, seal]])
    d = decode_qbft_extra_data("0x" + raw.hex())
    assert d["vanity"] == "0x" + "01" * 32
    assert d["votes"] == [{"address": "0x06e23768A0F59cf365e18C2e0c89e151BCDedc70", "add": True}]
    assert d["round"] == 3
    assert d["seals"] == ["0x" + seal.hex()] * 2
    drop = rlp.encode([b"\x00" * 32, [a], [b, b"\x00"], 0, []])
    assert decode_qbft_extra_data(drop.hex())["votes"][0]["add"] is False


@pytest.mark.parametrize("bad", [
    "", "0x", "0xzz", "0xabc", 42, None,
    DOCS_EXTRA_DATA + "00",                                       # trailing byte
    DOCS_EXTRA_DATA[:-2],                                         # truncated
    "0x" + rlp.encode(b"\x00" * 32).hex(),                        # not a list
    "0x" + rlp.encode([b"\x00" * 32, [], [], 0]).hex(),           # 4 items
    "0x" + rlp.encode([b"\x00" * 31, [], [], 0, []]).hex(),       # short vanity
    "0x" + rlp.encode([b"\x00" * 32, [b"\x01" * 19], [], 0, []]).hex(),   # 19-byte address
    "0x" + rlp.encode([b"\x00" * 32, b"\x01" * 20, [], 0, []]).hex(),     # validators not a list
    "0x" + rlp.encode([b"\x00" * 32, [], [b"\x01" * 20, b"\x01"], 0, []]).hex(),  # unknown vote type
    "0x" + rlp.encode([b"\x00" * 32, [], [], b"\x00\x01", []]).hex(),    # round with leading zero
    "0x" + rlp.encode([b"\x00" * 32, [], [], 0, [b"\x01" * 64]]).hex(),  # 64-byte seal
    "0xf87ba0" + DOCS_EXTRA_DATA[6:],                             # wrong outer length
])
def test_malformed_extra_data_raises_config_error(bad):
    with pytest.raises(ConfigError) as e:
        decode_qbft_extra_data(bad)
    assert e.value.code == "config.extra_data"


@pytest.mark.parametrize("bad", [
    ["0x1234"], ["4592c8e45706cc08b8f44b11e43cba0cfc5892cb"], [DOCS_VALIDATORS[0], DOCS_VALIDATORS[0]],
    ["0x4592C8e45706CC08b8F44b11E43CbA0CFC5892CB"],  # wrong checksum
    DOCS_VALIDATORS[0],                              # a string, not a list
])
def test_bad_validator_list_raises(bad):
    with pytest.raises(ConfigError):
        qbft_extra_data(bad)


# -- keys and genesis --------------------------------------------------------------------------------

def test_node_key_known_vector():
    # Private key 1: public key = secp256k1 generator G; address from the well-known derivation.
    k = NodeKey.from_private_key((1).to_bytes(32, "big"))
    assert k.public_key.startswith("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
    assert k.address == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    assert enode_url(k, "10.0.0.1") == f"enode://{k.public_key}@10.0.0.1:30303"
    assert "private_key" not in repr(k)
    for bad in (b"\x00" * 32, b"\xff" * 32, b"\x01" * 31):
        with pytest.raises(ConfigError):
            NodeKey.from_private_key(bad)
    with pytest.raises(ConfigError):
        enode_url(k, "validator1")
    with pytest.raises(ConfigError):
        enode_url(k, "10.0.0.1", 0)


def test_genesis_forks_free_gas_and_qbft():
    addrs = [NodeKey.generate().address for _ in range(4)]
    g = genesis(addrs, chain_id=4242, block_period=3, request_timeout=6)
    c = g["config"]
    assert c["chainId"] == 4242
    for m in ("homesteadBlock", "eip150Block", "eip155Block", "eip158Block", "byzantiumBlock",
              "constantinopleBlock", "petersburgBlock", "istanbulBlock", "berlinBlock", "londonBlock"):
        assert c[m] == 0
    assert c["shanghaiTime"] == 0 and c["cancunTime"] == 0
    assert c["zeroBaseFee"] is True and c["contractSizeLimit"] == 24576
    assert c["qbft"] == {"blockperiodseconds": 3, "epochlength": 30000, "requesttimeoutseconds": 6}
    assert (g["difficulty"], g["mixHash"]) == ("0x1", QBFT_MIX_HASH)
    assert g["alloc"] == {}
    assert decode_qbft_extra_data(g["extraData"])["validators"] == addrs
    with pytest.raises(ConfigError):
        genesis(addrs, block_period=0)


# -- generated network -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def network(tmp_path_factory):
    return generate_network(tmp_path_factory.mktemp("net") / "besu")


def test_network_layout_and_key_files(network):
    out = network.out_dir
    names = [f"validator{i}" for i in range(1, 5)] + ["rpcnode"]
    assert [n.name for n in network.nodes] == names
    assert sorted(p.name for p in (out / "nodes").iterdir()) == sorted(names)
    for node in network.nodes:
        path = out / node.key_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        text = path.read_text()
        assert text.startswith("0x") and len(text) == 66
        key = NodeKey.from_file(path)  # derive again from the file
        assert key.address == node.address
        assert node.enode == f"enode://{key.public_key}@{node.ip}:30303"
    assert (out / ".env").read_text() == "BESU_VERSION=26.8.0\n"
    assert network.chain_id == 1337


def test_network_genesis_lists_exactly_the_validator_keys(network):
    g = json.loads(network.genesis.read_text())
    assert g["config"]["chainId"] == 1337
    assert g["config"]["cancunTime"] == 0 and g["config"]["zeroBaseFee"] is True
    decoded = decode_qbft_extra_data(g["extraData"])
    from_keys = [NodeKey.from_file(network.out_dir / n.key_path).address
                 for n in network.nodes if n.validator]
    assert decoded["validators"] == from_keys == list(network.validators)
    assert decoded["validators"] == sorted(decoded["validators"], key=str.lower)  # ascending, as the docs ask
    rpc = next(n for n in network.nodes if n.name == "rpcnode")
    assert rpc.address not in decoded["validators"]


def test_static_nodes_and_allowlist_hold_every_node_at_fixed_ips(network):
    expected_ips = [f"172.16.239.{i}" for i in range(11, 16)]
    assert [n.ip for n in network.nodes] == expected_ips
    static = json.loads(network.static_nodes.read_text())
    allow = tomllib.loads(network.permissions.read_text())["nodes-allowlist"]
    assert static == allow == list(network.enodes)
    for enode, ip in zip(static, expected_ips, strict=True):
        assert enode.endswith(f"@{ip}:30303")
    assert network.rpc_url == "http://172.16.239.15:8545"


def test_config_toml(network):
    cfg = tomllib.loads(network.config_toml.read_text())
    assert cfg["genesis-file"] == "/config/genesis.json"
    assert cfg["data-path"] == "/data"
    assert cfg["min-gas-price"] == 0
    assert cfg["discovery-enabled"] is False
    assert cfg["static-nodes-file"] == "/config/static-nodes.json"
    assert cfg["permissions-nodes-config-file-enabled"] is True
    assert cfg["permissions-nodes-config-file"] == "/config/permissions_config.toml"
    assert cfg["rpc-http-enabled"] is True and cfg["rpc-ws-enabled"] is True
    for key in ("rpc-http-api", "rpc-ws-api"):
        assert set(cfg[key]) == {"ETH", "NET", "QBFT", "WEB3"}
        assert set(cfg[key]) <= BESU_RPC_GROUPS
    assert {"localhost", "127.0.0.1", "172.16.239.15"} <= set(cfg["host-allowlist"])
    assert cfg["metrics-enabled"] is True


def test_overwrite_refused_then_forced(tmp_path):
    first = generate_network(tmp_path / "n")
    with pytest.raises(ConfigError) as e:
        generate_network(tmp_path / "n")
    assert e.value.code == "config.network_exists"
    assert NodeKey.from_file(first.out_dir / "nodes/validator1/key").address == first.validators[0]
    second = generate_network(tmp_path / "n", validators=5, force=True, besu_version="26.7.1")
    assert set(second.validators).isdisjoint(first.validators)
    assert sorted(p.name for p in (second.out_dir / "nodes").iterdir()) == sorted(
        [f"validator{i}" for i in range(1, 6)] + ["rpcnode"])
    assert (second.out_dir / ".env").read_text() == "BESU_VERSION=26.7.1\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp dir left behind


def test_existing_empty_directory_is_used(tmp_path):
    (tmp_path / "empty").mkdir()
    assert generate_network(tmp_path / "empty").validators


@pytest.mark.parametrize("kwargs", [
    {"validators": 3}, {"validators": 0}, {"subnet": "172.16.239.0/29"}, {"subnet": "not-a-net"},
    {"besu_version": "26.8.0\nEVIL=1"}, {"chain_id": 0},
])
def test_invalid_arguments_refused_and_nothing_written(tmp_path, kwargs):
    with pytest.raises(ConfigError):
        generate_network(tmp_path / "n", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_small_network_allowed_explicitly(tmp_path):
    net = generate_network(tmp_path / "n", validators=1, allow_small=True)
    assert len(net.validators) == 1


# -- docker-compose.yml ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose():
    import yaml
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_compose_matches_generated_network(compose, network):
    services = compose["services"]
    subnet = compose["networks"]["besu"]["ipam"]["config"][0]["subnet"]
    assert subnet == network.subnet
    net = ipaddress.ip_network(subnet)
    for node in network.nodes:
        svc = services[node.name]
        assert svc["image"] == "hyperledger/besu:${BESU_VERSION:-26.8.0}"
        assert svc["environment"]["BESU_PROFILE"] == "ENTERPRISE"
        assert svc["networks"]["besu"]["ipv4_address"] == node.ip
        assert f"--p2p-host={node.ip}" in svc["command"]
        assert "--config-file=/config/config.toml" in svc["command"]
        assert "--node-private-key-file=/keys/key" in svc["command"]
        # The mounts point at what generate_network(out_dir=./besu) writes.
        assert svc["volumes"][:2] == ["./besu/config:/config:ro", f"./besu/{node.key_path.parent}:/keys:ro"]
        assert svc["volumes"][2] == f"{node.name}-data:/data"
        assert f"{node.name}-data" in compose["volumes"]
        assert (svc.get("ports") is not None) == (node.name == "rpcnode")
    assert services["rpcnode"]["ports"] == ["127.0.0.1:8545:8545", "127.0.0.1:8546:8546"]
    besu_names = {n.name for n in network.nodes}
    assert set(services) == besu_names | {"eidln-node"}

    eidln = services["eidln-node"]
    assert eidln["environment"]["EIDLN_CHAIN"] == network.rpc_url
    assert eidln["environment"]["EIDLN_CHAIN_ID"] == str(network.chain_id)
    assert eidln["environment"]["EIDLN_HOME"] == "/data"
    assert eidln["command"] == ["eidln", "node", "run"]
    assert "rpcnode" in eidln["depends_on"]
    assert eidln["volumes"] == ["./eidln-node:/data"]  # network.json from `eidln network init`
    assert "ports" not in eidln
    eidln_ip = eidln["networks"]["besu"]["ipv4_address"]
    assert ipaddress.ip_address(eidln_ip) in net and eidln_ip not in {n.ip for n in network.nodes}
    assert (REPO / "Dockerfile").is_file()


def test_besu_dir_is_git_ignored():
    lines = (REPO / ".gitignore").read_text().splitlines()
    assert "besu/" in lines or "/besu/" in lines

