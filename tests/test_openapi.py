"""/openapi.json describes what is served, from the validator's own schemas, and
Schemathesis finds no 5xx and no answer outside the description."""

from __future__ import annotations

import os

import httpx
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from mockspike import MockSpike
from mockspike.adapters.openapi import openapi_document
from mockspike.contract.validate import message_schema

_fake = MockSpike()
# The coverage phase's negative cases are some 20,000 a body-taking operation under the 2026
# schema (minutes each); they run in the deep profile (HYPOTHESIS_PROFILE=deep). Every run has
# the positive coverage cases, the schema's examples and fuzzed cases, valid and invalid.
_DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
_config = SchemathesisConfig.from_dict(
    {} if _DEEP else {"phases": {"coverage": {"generation": {"mode": "positive"}}}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _fake.app, config=_config)


def test_served_description_is_built_from_the_validator_schema(http: httpx.Client) -> None:
    served = http.get("/openapi.json").json()
    assert served == openapi_document()
    assert served["openapi"] == "3.1.0"
    request = served["components"]["schemas"]["MessagesRequest"]
    assert request["required"] == message_schema()["required"]
    assert set(request["properties"]) == set(message_schema()["properties"])
    components = served["components"]["schemas"]
    assert components["thinking_disabled"] == message_schema()["$defs"]["thinking_disabled"]
    assert components["tool"]["properties"]["cache_control"]["allOf"] == [
        {"$ref": "#/components/schemas/cache_control"}
    ]


@schema.parametrize()
@settings(max_examples=8, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_and_answers_match_the_description(case: schemathesis.Case) -> None:
    case.headers = {**(case.headers or {}), "x-api-key": "sk-schemathesis"}
    case.call_and_validate(
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance]
    )
