"""The OpenAPI 3.1 document: the committed copy is the served one, and schemathesis finds no server error and no
response that breaks it, on every operation, called with valid tokens against real uvicorn."""

import itertools
import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

from serving.api.app import create_app
from serving.api.limits import RateLimiter
from serving.api.openapi import document_text
from tests.api import scenario
from tests.api.conftest import served, validator

ROOT = Path(__file__).resolve().parents[2]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
CASES: dict[str, int] = {}


def test_the_committed_document_is_the_served_one(api):
    import httpx

    served_doc = httpx.get(f"{api}/openapi.json", timeout=30).json()
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == document_text(), "docs/openapi.json is stale: run `python -m serving.api.openapi > docs/openapi.json`"
    assert json.loads(committed) == served_doc
    assert served_doc["openapi"].startswith("3.1")
    for path in served_doc["paths"].values():
        for operation in path.values():
            summary = operation["summary"]
            assert any("\u0590" <= ch <= "\u05ff" for ch in summary) and any(ch.isascii() and ch.isalpha() for ch in summary)


@pytest.fixture(scope="module")
def fuzzed(issuer, home):
    """The API on its own server; its rate limiter's clock moves a minute a call, so no limit cuts the run short."""
    minutes = itertools.count(step=60.0)
    app = create_app(scenario.MUNI, validator=validator(issuer), home=home,
                     limiter=RateLimiter(clock=lambda: float(next(minutes))))
    with served(app) as url:
        yield url
    print(f"\nschemathesis cases per operation: {CASES}; total {sum(CASES.values())}")


# The committed document, which the test above proves is the one the server serves (schemathesis's lazy loading
# from a fixture does not run under this pytest).
schema = schemathesis.openapi.from_dict(json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")))


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_response_outside_the_schema(case, fuzzed, tokens):
    consumer = "welfare" if case.path.startswith("/v1/emergency-lists") else "property_tax"
    response = case.call(base_url=fuzzed, headers={"Authorization": f"Bearer {tokens[consumer]}"})
    key = f"{case.method} {case.path}"
    CASES[key] = CASES.get(key, 0) + 1
    case.validate_response(response, checks=CHECKS)
