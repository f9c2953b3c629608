"""Retry and quota rules of `Caller`, error parsing and redaction: small pure pieces, tested directly."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError, SalesforceMalformedRequest, SalesforceRefusedRequest

from connectors.muniforce.bulk import parse_error
from connectors.muniforce.calls import Caller, QuotaStop, RetryPolicy, SalesforceCallError
from connectors.muniforce.client import ApiMeter
from connectors.muniforce.report import redact
from tests.muniforce.conftest import Sleeps


def failing(*errors):
    """A call that raises the given exceptions in turn, then returns 'ok'."""
    pending = list(errors)
    calls = []

    def fn():
        calls.append(1)
        if pending:
            raise pending.pop(0)
        return "ok"

    return fn, calls


def sf_error(cls, status, code):
    return cls("https://x/services/data/v62.0/x", status, "x", [{"errorCode": code, "message": "m"}])


def test_5xx_and_lock_errors_are_retried_with_exponential_back_off():
    sleeps = Sleeps()
    call = Caller(ApiMeter(), RetryPolicy(attempts=4, base_delay=0.25, factor=2, sleep=sleeps), 0.5)
    fn, calls = failing(sf_error(SalesforceGeneralError, 503, "SERVER_UNAVAILABLE"),
                        sf_error(SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW"),
                        sf_error(SalesforceGeneralError, 500, "UNKNOWN_EXCEPTION"))
    assert call("x", fn) == "ok" and len(calls) == 4 and sleeps.delays == [0.25, 0.5, 1.0]


def test_retries_are_bounded_and_the_error_names_the_code_only():
    call = Caller(ApiMeter(), RetryPolicy(attempts=3, base_delay=1, sleep=Sleeps()), 0.5)
    fn, calls = failing(*[sf_error(SalesforceGeneralError, 503, "SERVER_UNAVAILABLE")] * 5)
    with pytest.raises(SalesforceCallError, match="HTTP 503 SERVER_UNAVAILABLE") as err:
        call("Account collections upsert", fn)
    assert len(calls) == 3 and err.value.__cause__ is None and err.value.__suppress_context__


def test_client_errors_are_not_retried():
    call = Caller(ApiMeter(), RetryPolicy(sleep=Sleeps()), 0.5)
    fn, calls = failing(sf_error(SalesforceMalformedRequest, 400, "INVALID_FIELD"))
    with pytest.raises(SalesforceCallError, match="INVALID_FIELD"):
        call("x", fn)
    assert len(calls) == 1


def test_a_burst_limit_is_retried_but_the_daily_limit_stops_the_run():
    sleeps = Sleeps()
    meter = ApiMeter(used=10, limit=100)
    call = Caller(meter, RetryPolicy(attempts=3, base_delay=1, sleep=sleeps), 1.0)
    fn, calls = failing(sf_error(SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED"))
    assert call("x", fn) == "ok" and sleeps.delays == [1]
    meter.used, meter.limit = 100, 100
    fn, calls = failing(sf_error(SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED"))
    with pytest.raises(QuotaStop):
        call("x", fn, reserve=False)
    assert len(calls) == 1


def test_the_quota_share_is_checked_before_each_call():
    meter = ApiMeter()
    call = Caller(meter, RetryPolicy(sleep=Sleeps()), 0.5)
    meter.used, meter.limit = 49, 100
    call.reserve(1)
    with pytest.raises(QuotaStop, match="49/100"):
        call.reserve(2)
    fn, calls = failing()
    with pytest.raises(QuotaStop):
        meter.used = 50
        call("x", fn)
    assert calls == [] and call("poll a running job", fn, reserve=False) == "ok"


def test_bulk_error_cells_are_parsed():
    assert parse_error("STRING_TOO_LONG:First Name: data value too large: x (max length=40):FirstName --") == \
        ("STRING_TOO_LONG", "First Name: data value too large: x (max length=40)", "FirstName")
    assert parse_error("REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --") == \
        ("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", "LastName")
    assert parse_error("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record: --") == \
        ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", "")


def test_redaction_removes_every_value_of_the_record():
    msg = "Last Name: data value too large: ישראלי-כהן (max length=10)"
    assert redact(msg, ["ישראלי-כהן", "x", None, 1950]) == "Last Name: data value too large: «value» (max length=10)"
