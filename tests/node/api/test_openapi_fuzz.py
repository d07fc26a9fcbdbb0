"""Schemathesis against the node's own OpenAPI document: generated requests for /v1/attest and the ATIS-1000082
routes, valid and invalid, never get a 5xx and always get a documented status and content type."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from did_method.resolver import Resolver
from node.api import create_app
from node.api.metrics import Metrics
from node.shaken.sign import ShakenSigner
from node.shaken.verify import StiVerifier
from node.shaken.x5u import CertFetcher
from node.sync.didhistory import IndexHistory
from tests.node.attest.world import World, build


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(scope="module")
def api_schema(fuzz_world: World) -> Any:
    assert fuzz_world.engine is not None
    fetcher = CertFetcher()  # production mode: a generated x5u is refused, never fetched
    verifier = StiVerifier(roots=[], fetcher=fetcher)
    signer: ShakenSigner = fuzz_world.engine.signer
    app = create_app(Resolver(IndexHistory(fuzz_world.index), network="local", chain_id=1337), signer=signer,
                     verifier=verifier, metrics=Metrics(), engine=fuzz_world.engine, audit=fuzz_world.audit)
    return schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/(v1/attest|stir/v1/)")


def test_no_server_errors(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} == {"/v1/attest", "/stir/v1/signing", "/stir/v1/verification"}
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(op.as_strategy(generation_mode=mode))
            @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def run(case: Any) -> None:
                response = case.call()
                assert response.status_code < 500, (case.path, response.status_code, response.text[:300])
                case.validate_response(response, checks=[status_code_conformance, content_type_conformance])

            run()
