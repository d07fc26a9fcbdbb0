"""Every JSON read from outside goes through ``wallet.strictjson`` (issue 9): nested brackets are a typed error.

Importing py-evm / py_ecc (``node.api.app``, ``node.cli``) raises the recursion limit to 100,000; the standard
decoder then overflows the C stack on 65,536 ``[`` and the process dies with SIGSEGV. Each reader here must
refuse such input with its own package's error instead: the wallet and its backups (``wallet.corrupt``), the
node's ledger-account key files (``keystore.corrupt``), the deployment file (``ConfigError``), PASSporT segments
(``passport.malformed``) and pinned JSON-LD contexts (``vc.context_digest_mismatch``). Anchored credentials and
DID history rows are covered in ``tests/node/sync/test_verify_strict.py``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from node.errors import ConfigError
from node.keystore import Keystore, KeystoreError
from node.ledger.deployment import Deployment
from wallet.dataintegrity import CREDENTIALS_V2_URL, DocumentLoader, LoaderError, PinnedContext
from wallet.errors import WalletError
from wallet.keystore import Wallet
from wallet.passport import PassportError
from wallet.passport.token import decode

PASS = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
NESTED = b"[" * 65536
pytestmark = pytest.mark.usefixtures("cheap_kdfs")  # key derivation at test cost (tests/conftest.py)


@pytest.fixture(autouse=True)
def _deep(py_ecc_recursion_limit: None) -> None:
    """Every test here runs with py_ecc's recursion limit (``tests/conftest.py``)."""


def _wallet_code(fn: object) -> str:
    with pytest.raises(WalletError) as err:
        fn()  # type: ignore[operator]
    return err.value.code


# ------------------------------------------------------------------------------------------------ wallet files


@pytest.mark.parametrize("content", [NESTED, b'{"header": ' + NESTED, b'{"ciphertext": "", "header": {"x": '
                                     + b'[{"a": ' * 65536], ids=["brackets", "in-header", "objects"])
def test_nested_wallet_file_is_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "wallet.json"
    path.write_bytes(content)
    assert _wallet_code(lambda: Wallet.open(path, PASS)) == "wallet.corrupt"


def test_nested_backup_is_corrupt(tmp_path: Path) -> None:
    backup, restored = tmp_path / "backup.json", tmp_path / "restored.json"
    backup.write_bytes(NESTED)
    assert _wallet_code(lambda: Wallet.import_backup(backup, PASS, restored, PASS)) == "wallet.corrupt"
    assert not restored.exists()


_CLI = """
import sys
import node.cli
sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))  # what importing py_ecc does
sys.exit(node.cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
@pytest.mark.parametrize("command", [["did", "show"], ["wallet", "import", "{backup}"]], ids=["show", "import"])
def test_cli_on_a_nested_wallet_exits_normally(tmp_path: Path, command: list[str]) -> None:
    """The process of issue 9: ``eidln did show`` on such a wallet died with SIGSEGV (-11 / 139)."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "wallet.json").write_bytes(NESTED)
    (tmp_path / "backup.json").write_bytes(NESTED)
    if "import" in command:
        (home / "wallet.json").unlink()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIDLN_")}
    env |= {"EIDLN_HOME": str(home), "EIDLN_WALLET_PASSPHRASE": PASS}
    argv = [a.format(backup=tmp_path / "backup.json") for a in command]
    proc = subprocess.run([sys.executable, "-c", _CLI, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "error: wallet.corrupt:" in proc.stderr


# ------------------------------------------------------------------------------------------------ node files


def test_nested_deployment_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "network.json"
    path.write_bytes(NESTED)
    with pytest.raises(ConfigError) as err:
        Deployment.load(path)
    assert err.value.code == "config.invalid" and "json.too_deep" in err.value.message


def test_huge_deployment_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "network.json"
    path.write_bytes(b'{"pad": "' + b"x" * (1 << 20) + b'"}')
    with pytest.raises(ConfigError) as err:
        Deployment.load(path)
    assert "json.too_large" in err.value.message


@pytest.mark.parametrize("content", [NESTED, b"[]", b"{}", b'{"address": 7}'],
                         ids=["nested", "array", "empty", "address-not-text"])
def test_keystore_file_that_is_not_a_keystore_is_corrupt(tmp_path: Path, content: bytes) -> None:
    ks = Keystore(tmp_path / "keys", PASS)
    ks.create("governor1")
    (tmp_path / "keys" / "governor1.json").write_bytes(content)
    for read in (ks.load, ks.address):
        with pytest.raises(KeystoreError) as err:
            read("governor1")
        assert err.value.code == "keystore.corrupt"


def test_duplicate_members_in_a_keystore_file_are_corrupt(tmp_path: Path) -> None:
    ks = Keystore(tmp_path / "keys", PASS)
    ks.create("governor1")
    path = tmp_path / "keys" / "governor1.json"
    text = path.read_text()
    path.write_text(text[:-1] + ', "address": "0000000000000000000000000000000000000000"}')
    with pytest.raises(KeystoreError) as err:
        ks.address("governor1")
    assert err.value.code == "keystore.corrupt"


# ------------------------------------------------------------------------------------------------ PASSporT


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: bytes, claims: bytes) -> str:
    return f"{_b64(header)}.{_b64(claims)}.{_b64(bytes(64))}"


def test_deeply_nested_claims_are_malformed() -> None:
    header = b'{"alg":"ES256"}'
    within_limit = b'{"a":' + b"[" * 2900 + b"]" * 2900 + b"}"  # fits the 8,192-character token limit
    with pytest.raises(PassportError) as err:
        decode(_token(header, within_limit))
    assert err.value.code == "passport.malformed"
    with pytest.raises(PassportError) as err:  # a caller that allows big tokens still gets no crash
        decode(_token(header, b'{"a":' + NESTED + b"}"), max_len=1 << 20)
    assert err.value.code == "passport.malformed"
    with pytest.raises(PassportError) as err:
        decode(_token(b'{"alg":"ES256","x":' + b"{" * 4000 + b"}", b'{"iat":1}'))
    assert err.value.code == "passport.malformed"


def test_claims_at_the_nesting_limit_decode() -> None:
    header = b'{"alg":"ES256"}'
    at_limit = b'{"a":' + b"[" * 31 + b"]" * 31 + b"}"  # 32 levels, counting the claims object
    assert "a" in decode(_token(header, at_limit)).claims
    with pytest.raises(PassportError) as err:
        decode(_token(header, b'{"a":' + b"[" * 32 + b"]" * 32 + b"}"))
    assert err.value.code == "passport.malformed"


def test_duplicate_members_stay_duplicate_key() -> None:
    with pytest.raises(PassportError) as err:
        decode(_token(b'{"alg":"ES256"}', b'{"iat":1,"iat":2}'))
    assert err.value.code == "passport.duplicate_key"


# ------------------------------------------------------------------------------------------------ JSON-LD contexts


def test_nested_context_file_is_refused_even_when_pinned(tmp_path: Path) -> None:
    path = tmp_path / "credentials-v2.jsonld"
    path.write_bytes(NESTED)
    loader = DocumentLoader({CREDENTIALS_V2_URL: PinnedContext(path, hashlib.sha256(NESTED).hexdigest())})
    with pytest.raises(LoaderError) as err:
        loader(CREDENTIALS_V2_URL)
    assert err.value.code == "vc.context_digest_mismatch" and "json.too_deep" in err.value.message


def test_a_passphrase_that_is_not_unicode_is_a_wallet_error() -> None:
    """A passphrase with a lone surrogate (EIDLN_PASSPHRASE bytes that are not UTF-8) raised UnicodeEncodeError
    out of the key derivation (found by the fuzzer)."""
    from nacl.pwhash import argon2id

    from wallet import envelope
    from wallet.errors import WalletError

    limits = (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE)
    blob = envelope.seal(b"x", "correct horse battery", limits)
    for call in (lambda: envelope.unseal(blob, "bad\udcff passphrase", "f"),
                 lambda: envelope.seal(b"x", "bad\udcff passphrase", limits)):
        with pytest.raises(WalletError) as err:
            call()
        assert err.value.code == "wallet.bad_passphrase"
