"""ABI encoding and event decoding for the committed contract artifacts (eth-abi, no provider needed).

One :class:`ContractCodec` per contract: ``encode(fn, *args)`` gives calldata, ``decode_result`` the return
value, ``decode_log`` turns a raw :class:`node.chain.Log` into an :class:`Event` with named, plain-Python
arguments (bytes, ints, checksummed addresses, tuples as dicts). Structs come back as dicts.

**Strings from the chain are decoded leniently.** A contract's ``String`` holds whatever bytes a transaction sent:
any onboarded account can put invalid UTF-8 into, say, a DID service endpoint with hand-made calldata. eth-abi's
strict decoder then raises, and a node that cannot decode one event cannot sync past it: one account would halt
every node's ledger copy (and so every OSP's A). Here invalid UTF-8 decodes with U+FFFD in place of the bad bytes,
so the event is kept and the chain is followed; what the node shows is the text that could be read.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import eth_abi
from eth_abi.codec import ABICodec
from eth_abi.decoding import StringDecoder
from eth_abi.registry import BaseEquals, registry
from eth_utils import (
    collapse_if_tuple,
    event_abi_to_log_topic,
    function_abi_to_4byte_selector,
    to_checksum_address,
)

from contracts import artifact
from node.chain.base import Log

__all__ = ["ContractCodec", "Event", "codec"]


class _LenientString(StringDecoder):
    def __init__(self, handle_string_errors: str = "replace") -> None:
        super().__init__(handle_string_errors=handle_string_errors)


def _lenient_codec() -> ABICodec:
    reg = registry.copy()
    reg.unregister_decoder("string")
    reg.register_decoder(BaseEquals("string"), _LenientString, label="string")
    return ABICodec(reg)


_DECODE = _lenient_codec().decode  # every decode of chain data: see the module notice


@dataclass(frozen=True, slots=True)
class Event:
    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    tx_index: int
    log_index: int
    tx_hash: bytes


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


def _plain(value: Any, param: dict[str, Any]) -> Any:
    """Convert a decoded ABI value into plain Python with names for struct fields."""
    typ: str = param["type"]
    if typ.endswith("[]"):
        inner = dict(param, type=typ[:-2])
        return [_plain(v, inner) for v in value]
    if typ == "tuple":
        return {c["name"]: _plain(v, c) for c, v in zip(param["components"], value, strict=True)}
    if typ == "address":
        return to_checksum_address(value)
    return value


def _abi_value(value: Any, param: dict[str, Any]) -> Any:
    """Accept dicts for structs when encoding."""
    typ: str = param["type"]
    if typ.endswith("[]"):
        inner = dict(param, type=typ[:-2])
        return [_abi_value(v, inner) for v in value]
    if typ == "tuple":
        if isinstance(value, dict):
            return tuple(_abi_value(value[c["name"]], c) for c in param["components"])
        return tuple(_abi_value(v, c) for v, c in zip(value, param["components"], strict=True))
    return value


class ContractCodec:
    def __init__(self, name: str) -> None:
        art = artifact(name)
        self.name = name
        self.bytecode = art.bytecode
        self._functions: dict[str, dict[str, Any]] = {}
        self._events: dict[bytes, dict[str, Any]] = {}
        self._constructor: dict[str, Any] | None = None
        for item in art.abi:
            if item["type"] == "function":
                self._functions[item["name"]] = item
            elif item["type"] == "event":
                self._events[event_abi_to_log_topic(item)] = item  # type: ignore[arg-type]
            elif item["type"] == "constructor":
                self._constructor = item
        self.event_topics = {abi["name"]: topic for topic, abi in self._events.items()}

    def deploy_data(self, *args: Any) -> bytes:
        if self._constructor is None:
            return self.bytecode
        inputs = self._constructor["inputs"]
        values = [_abi_value(a, p) for a, p in zip(args, inputs, strict=True)]
        return self.bytecode + eth_abi.encode(_types(inputs), values)

    def encode(self, fn: str, *args: Any) -> bytes:
        abi = self._functions[fn]
        inputs = abi["inputs"]
        if len(args) != len(inputs):
            raise TypeError(f"{self.name}.{fn} takes {len(inputs)} arguments, got {len(args)}")
        values = [_abi_value(a, p) for a, p in zip(args, inputs, strict=True)]
        return function_abi_to_4byte_selector(abi) + eth_abi.encode(_types(inputs), values)  # type: ignore[arg-type]

    def decode_call(self, calldata: bytes) -> tuple[str, dict[str, Any]]:
        """Name and arguments of an encoded call (used to show what a proposal will do)."""
        sel = calldata[:4]
        for name, abi in self._functions.items():
            if function_abi_to_4byte_selector(abi) == sel:  # type: ignore[arg-type]
                inputs = abi["inputs"]
                values = _DECODE(_types(inputs), calldata[4:])
                return name, {p["name"]: _plain(v, p) for p, v in zip(inputs, values, strict=True)}
        raise ValueError(f"calldata does not call a function of {self.name}")

    def has_function(self, fn: str) -> bool:
        return fn in self._functions

    def decode_result(self, fn: str, data: bytes) -> Any:
        outputs = self._functions[fn]["outputs"]
        values = _DECODE(_types(outputs), data)
        plain = [_plain(v, p) for p, v in zip(outputs, values, strict=True)]
        return plain[0] if len(plain) == 1 else tuple(plain)

    def knows(self, log: Log) -> bool:
        return bool(log.topics) and log.topics[0] in self._events

    def decode_log(self, log: Log) -> Event:
        abi = self._events[log.topics[0]]
        indexed = [p for p in abi["inputs"] if p["indexed"]]
        plain = [p for p in abi["inputs"] if not p["indexed"]]
        args: dict[str, Any] = {}
        for p, topic in zip(indexed, log.topics[1:], strict=True):
            (v,) = _DECODE([collapse_if_tuple(p)], topic)
            args[p["name"]] = _plain(v, p)
        for p, v in zip(plain, _DECODE(_types(plain), log.data), strict=True):
            args[p["name"]] = _plain(v, p)
        ordered = {p["name"]: args[p["name"]] for p in abi["inputs"]}
        return Event(self.name, abi["name"], ordered, log.block_number, log.tx_index, log.log_index, log.tx_hash)


@cache
def codec(name: str) -> ContractCodec:
    return ContractCodec(name)
