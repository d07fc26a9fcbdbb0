"""Pure replay and rendering (SPEC.md 5.3, 6.2): invalid ledger entries are left out, broken links refused."""

from __future__ import annotations

from typing import Any

from nacl.signing import SigningKey

from did_method import KeyType, self_certifying_id
from did_method.document import Change, render, replay
from did_method.resolver import Resolver
from did_method.syntax import format_did

PK = bytes(SigningKey.generate().verify_key)
IDENT = self_certifying_id(KeyType.ED25519, PK)
DID = format_did("local", IDENT)
CTRL = "0x" + "11" * 20


def ch(block: int, name: str, prev: int, **args: Any) -> Change:
    return Change(block, 0, 1_800_000_000 + block, name, {"did": "0x" + IDENT.hex(), "previous_change": prev,
                                                           **args})


def created(block: int = 10) -> list[Change]:
    return [ch(block, "DIDCreated", 0, controller=CTRL),
            ch(block, "KeyAdded", block, fragment="key-1", key_type=1, public_key="0x" + PK.hex(), relationships=3)]


class ListHistory:
    def __init__(self, changes: list[Change]) -> None:
        self._changes = changes

    def changes(self, ident: bytes) -> list[Change]:
        return self._changes if ident == IDENT else []


def test_invalid_entries_are_left_out() -> None:
    bad_point = "0x02" + "ff" * 32  # x beyond the field: not a P-256 point
    changes = created() + [
        ch(11, "KeyAdded", 10, fragment="key-2", key_type=2, public_key=bad_point, relationships=2),
        ch(12, "KeyAdded", 11, fragment="bad frag", key_type=1, public_key="0x" + PK.hex(), relationships=2),
        ch(13, "ServiceSet", 12, fragment="brand", service_type="BrandService", endpoint="not a uri"),
        ch(14, "ServiceSet", 13, fragment="rcd", service_type="RichCallData", endpoint="https://acme.example/rcd"),
    ]
    doc = render(DID, replay(changes))
    assert [vm["id"] for vm in doc["verificationMethod"]] == [f"{DID}#key-1"]
    assert doc["assertionMethod"] == [f"{DID}#key-1"]
    assert doc["service"] == [{"id": f"{DID}#rcd", "type": "RichCallData",
                               "serviceEndpoint": "https://acme.example/rcd"}]


def test_service_replaced_in_place_and_removed() -> None:
    changes = created() + [
        ch(11, "ServiceSet", 10, fragment="a", service_type="T", endpoint="https://a.example"),
        ch(12, "ServiceSet", 11, fragment="b", service_type="T", endpoint="https://b.example"),
        ch(13, "ServiceSet", 12, fragment="a", service_type="T", endpoint="https://a2.example"),
    ]
    assert [s["serviceEndpoint"] for s in render(DID, replay(changes))["service"]] == ["https://a2.example",
                                                                                       "https://b.example"]
    changes.append(ch(14, "ServiceRemoved", 13, fragment="a"))
    assert [s["id"] for s in render(DID, replay(changes))["service"]] == [f"{DID}#b"]


def test_broken_history_is_internal_error() -> None:
    changes = created() + [ch(12, "KeyAdded", 11, fragment="key-2", key_type=1, public_key="0x" + PK.hex(),
                                 relationships=2)]
    res = Resolver(ListHistory(changes), network="local", chain_id=1337).resolve(DID)
    assert res.did_resolution_metadata["error"] == "internalError"
    assert "incomplete" in res.did_resolution_metadata["errorMessage"]


def test_bad_version_id_is_invalid_options() -> None:
    r = Resolver(ListHistory(created()), network="local", chain_id=1337)
    assert r.resolve(DID, version_id="abc").did_resolution_metadata["error"] == "invalidOptions"
    assert r.resolve(DID, version_id="10").did_document is not None
    assert r.resolve(DID, version_id="9").did_resolution_metadata["error"] == "notFound"
