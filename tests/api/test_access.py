"""Who may call what: tokens, consumers, clearance on every operation, IDs never in URLs, rate limits, audit."""

import json
import time

import pytest

from schemas.model import table
from serving.api.app import create_app
from serving.api.limits import RateLimiter
from serving.audit import AuditLog
from serving.consumers import load_consumers
from tests.api import scenario
from tests.api.conftest import AUDIENCE, client, served, validator

PROBLEM = "application/problem+json"
SENSITIVITY = {f.name: f.sensitivity for f in table("resident_file").fields}


def consumer(name):
    return next(c for c in load_consumers().by_client.values() if c.name == name)


def calls(people):
    """One request per operation (method, path, JSON body), each finding at least one resident."""
    return {
        "resident": ("GET", f"/v1/residents/{people['moshe']}", None),
        "lookup": ("POST", "/v1/residents/lookup", {"national_id": scenario.MOSHE}),
        "search": ("POST", "/v1/residents/search", {"last_name": "כהן", "first_name": "משה", "birth_date": "1980-02-01"}),
        "household": ("POST", "/v1/households/search", {"street": "סוקולוב", "house_number": "5"}),
        "feed": ("GET", "/v1/changes", None),
        "emergency_lists": ("POST", "/v1/emergency-lists/household",
                            {"parameters": {"street": "ז'בוטינסקי", "house_number": "20"}}),
    }


def residents_in(operation, body):
    if operation == "resident":
        return [body]
    if operation == "feed":
        return [e["data"] for e in body["events"] if "data" in e]
    return body.get("residents", [])


@pytest.mark.parametrize("name", ["statistics", "call_centre_106", "property_tax", "welfare", "national_emergency"])
def test_a_consumer_never_receives_a_field_it_is_not_cleared_for_on_any_operation(api, tokens, people, name):
    c = consumer(name)
    answered = 0
    with client(api, tokens[name]) as http:
        for operation, (method, path, body) in calls(people).items():
            r = http.request(method, path, json=body)
            if not c.may(operation):
                assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
                continue
            if operation in ("lookup", "search") and c.clearance == "public":
                assert r.status_code == 403          # may not search by what it may not see
                continue
            assert r.status_code == 200, (operation, r.text)
            answered += 1
            if operation == "emergency_lists":
                columns = r.json()["columns"]
                assert all(c.role.cleared_for(col["sensitivity"]) for col in columns)
                assert all(set(row) <= {col["name"] for col in columns} for row in r.json()["rows"])
                continue
            found = residents_in(operation, r.json())
            assert found, operation
            for resident in found:
                uncleared = [f for f in resident if not c.role.cleared_for(SENSITIVITY[f])]
                assert uncleared == [], (operation, uncleared)
    searching = ("lookup", "search") if c.clearance == "public" else ()
    assert answered == len([op for op in calls(people) if c.may(op) and op not in searching])


@pytest.mark.parametrize("path", ["/v1/residents/039337423", "/v1/residents/03933742-3", "/v1/residents/AB1234567",
                                  "/v1/changes?cursor=039337423"])
def test_an_id_number_in_a_url_is_refused_and_audited_without_it(issuer, home, tokens, path):
    audit = AuditLog.of(scenario.MUNI, home)
    before = len(audit.entries())
    with served(create_app(scenario.MUNI, validator=validator(issuer), home=home)) as url:
        with client(url, tokens["property_tax"]) as http:
            r = http.get(path)
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM
    assert r.json()["type"].endswith("id-in-url")
    number = path.rsplit("/", 1)[-1].split("=")[-1]
    assert number not in r.text
    entries = audit.entries()
    assert len(entries) == before + 1 and entries[0].outcome == "invalid" and entries[0].reason == "id_in_url"
    assert number not in json.dumps(entries[0].parameters) and entries[0].peer == "127.0.0.1"


def test_missing_expired_wrong_audience_and_forged_tokens_get_401_problems(issuer, home, people):
    later = validator(issuer, clock=lambda: time.time() + 2 * 3600)       # the provider's tokens live an hour
    genuine = issuer.token("toshav-property-tax")
    wrong_audience = issuer.token("toshav-property-tax", audience="another-service")
    head, claims, signature = genuine.split(".")
    forged = ".".join([head, claims, signature[:-6] + ("AAAAAA" if not signature.endswith("AAAAAA") else "BBBBBB")])
    path = f"/v1/residents/{people['moshe']}"
    with served(create_app(scenario.MUNI, validator=validator(issuer), home=home)) as url, \
            served(create_app(scenario.MUNI, validator=later, home=home)) as url_later:
        cases = [(url, None, "missing"), (url, wrong_audience, "audience"), (url, forged, "signature"),
                 (url_later, genuine, "expired"), (url, "not-a-jwt", "malformed")]
        for base, token, reason in cases:
            with client(base, token) as http:
                r = http.get(path)
            assert r.status_code == 401, reason
            assert r.headers["content-type"] == PROBLEM and r.headers["www-authenticate"].startswith("Bearer ")
            assert "resident_key" not in r.text and (token is None or token not in r.text)
    entries = AuditLog.of(scenario.MUNI, home).entries(limit=5)
    assert sorted(e.reason for e in entries) == sorted(reason for _, _, reason in cases)
    assert {e.outcome for e in entries} == {"unauthenticated"}


def test_a_call_to_no_operation_is_audited_too(issuer, home):
    audit = AuditLog.of(scenario.MUNI, home)
    with served(create_app(scenario.MUNI, validator=validator(issuer), home=home)) as url:
        with client(url, None) as http:
            assert http.get("/v1/no-such-thing").status_code == 404
    entry = audit.entries(limit=1)[0]
    assert (entry.query, entry.outcome, entry.peer) == ("refused", "invalid", "127.0.0.1")


def test_a_token_without_the_scope_or_of_an_unknown_client_is_forbidden(api, issuer, people):
    for sub in ("toshav-no-scope", "toshav-unknown"):
        with client(api, issuer.token(sub)) as http:
            r = http.get(f"/v1/residents/{people['moshe']}")
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM


def test_past_the_limit_a_consumer_gets_429_with_retry_after_and_others_do_not(issuer, home, tokens, people):
    limit = consumer("statistics").requests_per_minute
    frozen = RateLimiter(clock=lambda: 1000.0)       # no refill while the test sends its requests
    with served(create_app(scenario.MUNI, validator=validator(issuer), home=home, limiter=frozen)) as url:
        with client(url, tokens["statistics"]) as http:
            codes = [http.get(f"/v1/residents/{people['moshe']}").status_code for _ in range(limit + 1)]
            refused = http.get(f"/v1/residents/{people['moshe']}")
        with client(url, tokens["property_tax"]) as other:
            assert other.get(f"/v1/residents/{people['moshe']}").status_code == 200
    assert codes[:limit] == [200] * limit and codes[limit] == 429
    assert refused.status_code == 429 and refused.headers["content-type"] == PROBLEM
    assert int(refused.headers["retry-after"]) >= 1
    assert AuditLog.of(scenario.MUNI, home).entries(limit=2)[1].outcome == "rate_limited"


def test_every_call_is_audited_with_consumer_purpose_and_counts_never_values(issuer, home, tokens, people):
    audit = AuditLog.of(scenario.MUNI, home)
    with served(create_app(scenario.MUNI, validator=validator(issuer), home=home)) as url:
        with client(url, tokens["property_tax"]) as http:
            assert http.post("/v1/residents/lookup", json={"national_id": scenario.MOSHE}).status_code == 200
            assert http.post("/v1/residents/search", json={"last_name": "כהן", "birth_date": "1980-02-01"}).status_code == 200
    search, lookup = audit.entries(limit=2)
    assert (lookup.subject, lookup.role, lookup.channel, lookup.query, lookup.row_count, lookup.outcome) == \
        ("toshav-property-tax", "property_tax", "api", "lookup", 1, "ok")
    assert lookup.parameters["purpose"] == [consumer("property_tax").purpose]
    assert lookup.parameters["asked"] == ["national_id"] and search.parameters["asked"] == ["last_name", "birth_date"]
    text = json.dumps([lookup.parameters, search.parameters], ensure_ascii=False)
    assert scenario.MOSHE not in text and "כהן" not in text and "1980" not in text
    assert AUDIENCE not in text
