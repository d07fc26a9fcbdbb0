"""Settings from the environment: every bad value is a ConfigError naming the variable, never an untyped error."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import ConfigError
from node.settings import Settings


@pytest.mark.parametrize("name", ["EIDLN_SYNC_INTERVAL", "EIDLN_RPC_TIMEOUT", "EIDLN_BODY_TIMEOUT",
                                  "EIDLN_HEADER_TIMEOUT", "EIDLN_READY_MAX_AGE"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "abc"])
def test_timings_must_be_finite_positive_numbers(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize(("name", "value"), [("EIDLN_MAX_BODY", "1023"), ("EIDLN_MAX_CONNECTIONS", "0"),
                                             ("EIDLN_MAX_REORG_DEPTH", "-1"), ("EIDLN_MAX_BODY", "64k")])
def test_limits_are_checked(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_limits_and_their_defaults() -> None:
    s = Settings.from_env({})
    assert (s.max_body, s.body_timeout, s.header_timeout, s.max_connections, s.ready_max_age, s.max_reorg_depth) \
        == (65536, 10.0, 10.0, 1024, 15.0, 0)
    s = Settings.from_env({"EIDLN_MAX_BODY": "131072", "EIDLN_MAX_REORG_DEPTH": "16", "EIDLN_HEADER_TIMEOUT": "2.5"})
    assert (s.max_body, s.max_reorg_depth, s.header_timeout) == (131072, 16, 2.5)


def test_a_passphrase_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    f = tmp_path / "pass"
    f.write_bytes(b"\xff\xfe secret\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        Settings.from_env({"EIDLN_PASSPHRASE_FILE": str(f)})


def test_stivs_ppt_strictness() -> None:
    assert Settings.from_env({}).stivs_require_ppt is False
    assert Settings.from_env({"EIDLN_STIVS_REQUIRE_PPT": "1"}).stivs_require_ppt is True
    with pytest.raises(ConfigError, match="EIDLN_STIVS_REQUIRE_PPT"):
        Settings.from_env({"EIDLN_STIVS_REQUIRE_PPT": "maybe"})
