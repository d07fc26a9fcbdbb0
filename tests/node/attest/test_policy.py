"""The TOML trunk policy: defaults, per-trunk overrides, and every refusal naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.vocab import TNRange
from node.attest import PolicyError, load_policy, parse_policy

DID = "did:eidln:local:4pNoqb2Nk7wDyPefj7Yv3g"


def test_defaults_and_overrides(tmp_path: Path) -> None:
    f = tmp_path / "policy.toml"
    f.write_text(f"""
[defaults]
freshness = 30
[trunks.pbx]
osp_numbers = ["12025550100-12025550199", "12025550300"]
customers = ["{DID}"]
mechanisms = ["ledger", "ledger"]
[trunks.gw]
gateway = true
""")
    p = load_policy(f)
    pbx = p.trunk("pbx")
    assert pbx is not None and pbx.freshness == 30 and pbx.future_skew == 5 and pbx.mechanisms == ("ledger",)
    assert pbx.osp_numbers == (TNRange(12025550100, 100), TNRange(12025550300, 1))
    assert pbx.assigned(12025550199) and not pbx.assigned(12025550200)
    assert len(pbx.customers) == 1 and pbx.algorithms == frozenset({"EdDSA", "ES256"})
    assert p.trunk("gw").gateway and p.trunk("other") is None  # type: ignore[union-attr]


@pytest.mark.parametrize("doc, where", [
    ({"trunks": {"a": {"freshness": 0}}}, "trunks.a.freshness"),
    ({"trunks": {"a": {"freshness": "60"}}}, "trunks.a.freshness"),
    ({"trunks": {"a": {"future_skew": 61}}}, "trunks.a.future_skew"),
    ({"trunks": {"a": {"algorithms": ["none"]}}}, "trunks.a.algorithms"),
    ({"trunks": {"a": {"algorithms": ["HS256", "ES256"]}}}, "trunks.a.algorithms"),
    ({"trunks": {"a": {"algorithms": []}}}, "trunks.a.algorithms"),
    ({"trunks": {"a": {"mechanisms": ["lemon-squeeze"]}}}, "trunks.a.mechanisms"),
    ({"trunks": {"a": {"cert_miss": "wait"}}}, "trunks.a.cert_miss"),
    ({"trunks": {"a": {"spc_encompass": True}}}, "trunks.a.spc_encompass"),
    ({"trunks": {"a": {"require_crl": "yes"}}}, "trunks.a.require_crl"),
    ({"trunks": {"a": {"osp_numbers": ["12025550199-12025550100"]}}}, "trunks.a.osp_numbers"),
    ({"trunks": {"a": {"osp_numbers": ["+1 202"]}}}, "trunks.a.osp_numbers"),
    ({"trunks": {"a": {"osp_numbers": ["12025550100-"]}}}, "trunks.a.osp_numbers"),
    ({"trunks": {"a": {"customers": ["did:web:example.com"]}}}, "trunks.a.customers"),
    ({"trunks": {"a": {"gateway": "yes"}}}, "trunks.a.gateway"),
    ({"trunks": {"a": {"fresh": 60}}}, "unknown key 'fresh'"),
    ({"defaults": {"osp_numbers": []}}, "unknown key 'osp_numbers'"),
    ({"trunk": {}}, "unknown top-level table 'trunk'"),
    ({"trunks": {"a": 1}}, "trunks.a must be a table"),
])
def test_refusals_name_the_key(doc: dict[str, object], where: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    assert info.value.code == "policy.invalid" and where in info.value.message


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[trunks.a\nfreshness = 1")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)
    bad.write_text("[trunks.a]\nfreshness = -1\n")
    with pytest.raises(PolicyError, match=r"bad.toml: trunks.a.freshness"):
        load_policy(bad)


def test_vetting_policy_keys() -> None:
    did = "did:eidln:local:12drXXUifSrRnXLGbXg8E"
    p = parse_policy({"defaults": {"vetting": "every-link", "vetting_levels": ["full"]},
                      "trunks": {"a": {}, "b": {"vetting": "none"}, "c": {"require_vetted": False},
                                 "d": {"require_vetted": True, "vetting_agencies": [did]}}})
    assert (p.trunks["a"].vetting, p.trunks["a"].vetting_levels) == ("every-link", frozenset({"full"}))
    assert p.trunks["b"].vetting == p.trunks["c"].vetting == "none" and not p.trunks["c"].require_vetted
    assert p.trunks["d"].vetting == "parties" and len(p.trunks["d"].vetting_agencies) == 1
    for bad, match in (({"vetting": "some"}, "vetting must be one of"),
                       ({"vetting": "none", "require_vetted": True}, "not both"),
                       ({"vetting_agencies": ["not-a-did"]}, "vetting_agencies"),
                       ({"vetting_levels": [""]}, "vetting_levels")):
        with pytest.raises(PolicyError, match=match):
            parse_policy({"trunks": {"x": bad}})


def test_vetting_did_auth_key() -> None:
    p = parse_policy({"trunks": {"a": {"vetting_did_auth": True}, "b": {}}})
    assert p.trunks["a"].vetting_did_auth and not p.trunks["b"].vetting_did_auth
    with pytest.raises(PolicyError, match="vetting_did_auth"):
        parse_policy({"trunks": {"a": {"vetting_did_auth": "yes"}}})
