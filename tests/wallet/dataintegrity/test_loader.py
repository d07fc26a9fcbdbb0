"""The offline document loader: pinned bytes, refusals, no network, the shape PyLD wants, and its caches."""

from __future__ import annotations

import hashlib
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.wallet.dataintegrity import VECTOR_CREATED, VECTOR_VM, did_key_resolver, vector_json, vector_key
from wallet.dataintegrity import (
    CONTEXTS,
    CREDENTIALS_V2_URL,
    TN_CONTEXT_URL,
    TN_CONTEXT_V1_URL,
    DocumentLoader,
    LoaderError,
    PinnedContext,
    canonize_rdfc,
    document_loader,
    sign,
    verify,
)
from wallet.dataintegrity.loader import CONTEXT_DIR

ROOT = Path(__file__).resolve().parents[3]

# Digests published in the Recommendations (VC DM 2.0 §B.1, Data Integrity 1.0, CID 1.0), typed in here from the
# specs rather than read from the loader, so that a wrong pin in the loader table fails.
REC_DIGESTS = {
    "https://www.w3.org/ns/credentials/v2": "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    "https://w3id.org/security/data-integrity/v2": "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4",
    "https://w3id.org/security/multikey/v1": "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597",
    "https://www.w3.org/ns/cid/v1": "ea216ecc1cb02cd39b693dba2250141e270ba0bf95890be107dd9a9e8e43de85",
}
REQUIRED_URLS = {
    "https://www.w3.org/ns/credentials/v2",
    "https://www.w3.org/ns/credentials/examples/v2",
    "https://w3id.org/security/data-integrity/v2",
    "https://w3id.org/security/multikey/v1",
    "https://www.w3.org/ns/did/v1",
    "https://www.w3.org/ns/cid/v1",
    "https://w3id.org/security/suites/ed25519-2020/v1",
    "https://eidln.example/ns/tn/v1",
    "https://eidln.example/ns/tn/v2",
}


class CountingLoader(DocumentLoader):
    def __init__(self, table: Any = None) -> None:
        super().__init__(table)
        self.calls: list[str] = []

    def __call__(self, url: str, options: Any = None) -> dict[str, Any]:
        self.calls.append(url)
        return super().__call__(url, options)


def test_table_has_the_required_contexts() -> None:
    assert set(CONTEXTS) == REQUIRED_URLS
    assert document_loader.urls == REQUIRED_URLS


@pytest.mark.parametrize("url", sorted(REQUIRED_URLS))
def test_every_file_has_its_pinned_digest(url: str) -> None:
    pinned = CONTEXTS[url]
    assert pinned.path.parent == CONTEXT_DIR
    assert hashlib.sha256(pinned.path.read_bytes()).hexdigest() == pinned.sha256
    if url in REC_DIGESTS:
        assert pinned.sha256 == REC_DIGESTS[url]


def test_check_all_reads_every_file() -> None:
    DocumentLoader().check_all()


@pytest.mark.parametrize("url", sorted(REQUIRED_URLS))
def test_shape_pyld_expects(url: str) -> None:
    remote = document_loader(url, {})
    assert remote["contextUrl"] is None
    assert remote["documentUrl"] == url
    assert isinstance(remote["document"], dict) and "@context" in remote["document"]
    assert remote["document"] == json.loads(CONTEXTS[url].path.read_bytes())
    assert document_loader(url) == remote  # options are optional


def test_each_call_returns_a_fresh_copy() -> None:
    first = document_loader(CREDENTIALS_V2_URL)["document"]
    first["@context"]["name"] = "https://evil.example/name"
    assert document_loader(CREDENTIALS_V2_URL)["document"]["@context"]["name"] == "https://schema.org/name"


@pytest.mark.parametrize("url", [
    "https://example.com/evil",
    "http://www.w3.org/ns/credentials/v2",  # same path, other scheme
    "https://www.w3.org/ns/credentials/v2/",
    "https://www.w3.org/2018/credentials/v1",  # a real context we do not bundle
    "https://w3id.org/citizenship/v4rc1",
    "file:///etc/passwd",
    "",
])
def test_refuses_other_urls(url: str) -> None:
    with pytest.raises(LoaderError) as info:
        document_loader(url)
    assert info.value.code == "vc.context_not_allowed"


def test_refusal_reaches_the_caller_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def no_network(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise AssertionError("the loader tried the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = {"@context": [CREDENTIALS_V2_URL, "https://example.com/evil"], "type": "VerifiableCredential"}
    with pytest.raises(LoaderError) as info:
        canonize_rdfc(doc, document_loader)
    assert info.value.code == "vc.context_not_allowed" and "https://example.com/evil" in info.value.message
    assert attempts == []


def _altered_copy(tmp_path: Path, change: bytes) -> DocumentLoader:
    original = CONTEXTS[CREDENTIALS_V2_URL]
    altered = tmp_path / "credentials-v2.jsonld"
    altered.write_bytes(original.path.read_bytes() + change)
    return DocumentLoader({CREDENTIALS_V2_URL: PinnedContext(altered, original.sha256)})


def test_refuses_altered_bytes(tmp_path: Path) -> None:
    loader = _altered_copy(tmp_path, b" ")  # JSON-equal, byte-different: still refused
    with pytest.raises(LoaderError) as info:
        loader(CREDENTIALS_V2_URL)
    assert info.value.code == "vc.context_digest_mismatch"
    with pytest.raises(LoaderError):
        loader.check_all()


def test_altered_context_fails_sign_and_verify(tmp_path: Path) -> None:
    loader = _altered_copy(tmp_path, b"\n")
    doc = {"@context": [CREDENTIALS_V2_URL], "type": ["VerifiableCredential"], "issuer": "did:example:1",
           "credentialSubject": {"id": "did:example:2"}}
    with pytest.raises(LoaderError) as info:
        sign(doc, vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED, loader=loader)
    assert info.value.code == "vc.context_digest_mismatch"
    signed = sign(doc, vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED, loader=document_loader)
    result = verify(signed, key_resolver=did_key_resolver, loader=loader)
    assert not result.verified and result.codes == ("vc.context_digest_mismatch",)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    loader = DocumentLoader({CREDENTIALS_V2_URL: PinnedContext(tmp_path / "absent.jsonld", "00" * 32)})
    with pytest.raises(LoaderError) as info:
        loader(CREDENTIALS_V2_URL)
    assert info.value.code == "vc.context_digest_mismatch"


def test_contexts_are_loaded_once_per_loader() -> None:
    loader = CountingLoader()
    doc = vector_json("unsigned.json")
    first = canonize_rdfc(doc, loader)
    for _ in range(3):
        assert canonize_rdfc(doc, loader) == first
    assert sorted(loader.calls) == sorted(doc["@context"])  # each URL once, then PyLD's cache in the loader
    assert len(loader.resolved_contexts) >= 2


def test_a_new_loader_does_not_reuse_another_loaders_contexts(tmp_path: Path) -> None:
    canonize_rdfc(vector_json("unsigned.json"), document_loader)  # warm the default loader's cache
    loader = _altered_copy(tmp_path, b" ")
    with pytest.raises(LoaderError):
        canonize_rdfc({"@context": CREDENTIALS_V2_URL, "type": "VerifiableCredential"}, loader)


@pytest.mark.parametrize(("url", "name"), [(TN_CONTEXT_V1_URL, "eidln-tn-v1.jsonld"),
                                         (TN_CONTEXT_URL, "eidln-tn-v2.jsonld")])
def test_tn_contexts_are_published_byte_identical(url: str, name: str) -> None:
    package_copy = CONTEXTS[url].path.read_bytes()
    assert CONTEXTS[url].path.name == name
    assert (ROOT / "docs" / "contexts" / name).read_bytes() == package_copy


@pytest.mark.parametrize("url", [TN_CONTEXT_V1_URL, TN_CONTEXT_URL])
def test_tn_context_is_protected_and_has_no_vocab(url: str) -> None:
    ctx = json.loads(CONTEXTS[url].path.read_bytes())["@context"]
    assert ctx["@version"] == 1.1 and ctx["@protected"] is True
    assert "@vocab" not in ctx
    for term, definition in ctx.items():
        if term.startswith("@"):
            continue
        iri = definition if isinstance(definition, str) else definition["@id"]
        assert iri == "https://eidln.example/ns/tn#" + term


def test_v2_only_adds_to_v1() -> None:
    """A published context never changes meaning: every v1 term means the same IRI in v2."""
    v1 = json.loads(CONTEXTS[TN_CONTEXT_V1_URL].path.read_bytes())["@context"]
    v2 = json.loads(CONTEXTS[TN_CONTEXT_URL].path.read_bytes())["@context"]
    for term, definition in v1.items():
        if term.startswith("@"):
            assert v2[term] == definition
            continue
        iri = definition if isinstance(definition, str) else definition.get("@id", definition)
        new = v2[term]
        assert iri == (new if isinstance(new, str) else new.get("@id", new))
    assert {"role", "logoIntegrity", "DIDAuthentication", "authChallenge"} <= set(v2) - set(v1)


def test_one_loader_serves_many_threads() -> None:
    loader = DocumentLoader()
    signed = sign(vector_json("unsigned.json"), vector_key(), verification_method=VECTOR_VM, created=VECTOR_CREATED,
                  loader=loader)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: verify(signed, key_resolver=did_key_resolver, loader=loader), range(200)))
    assert all(result.verified for result in results)
