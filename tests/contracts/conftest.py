"""Every contract rule runs against every backend: the embedded chain, and anvil (slow)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.chain.base import ChainBackend
from node.chain.embedded import EmbeddedChain
from tests.netkit import Net


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.slow)])
def backend(request: pytest.FixtureRequest) -> Iterator[ChainBackend]:
    if request.param == "embedded":
        chain = EmbeddedChain(None)
        yield chain
        chain.close()
    else:
        from node.chain.jsonrpc import JsonRpcChain

        anvil = request.getfixturevalue("anvil")
        chain = JsonRpcChain(anvil.url, expected_chain_id=1337)
        yield chain
        chain.close()


@pytest.fixture
def net(backend: ChainBackend) -> Net:
    return Net.create(backend)
