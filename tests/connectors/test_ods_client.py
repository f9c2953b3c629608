"""The ODS CKAN client against a real local CKAN-style server: paging, a 500 once, a bad key, a timeout."""

import pytest

from connectors.errors import SourceApiError
from connectors.ods import OdsClient, api_delivery
from connectors.ods_standin import OdsStandin

KEY, RESOURCE = "test-key-1", "ods-resource-1"


def records(n, municipality="6600"):
    return [{"id_number": f"{i:09d}", "first_name": "משה", "last_name": "כהן", "birth_date": "1950-01-02",
             "municipality_code": municipality, "source_ministry": "NII", "indicator": "blind",
             "indicator_value": "", "valid_from": "2020-01-01", "updated_at": "2026-10-01T10:00:00"} for i in range(n)]


def test_pages_until_total_and_filters_the_municipality():
    with OdsStandin(records(23) + records(5, municipality="5000"), KEY, RESOURCE) as url:
        client = OdsClient(url, KEY, RESOURCE, page_size=10, backoff_seconds=0)
        got = client.fetch(6600)
    assert len(got) == 23
    assert {r["municipality_code"] for r in got} == {"6600"}


def test_retries_a_500_then_succeeds():
    server = OdsStandin(records(3), KEY, RESOURCE, fail_times=1)
    with server as url:
        got = OdsClient(url, KEY, RESOURCE, backoff_seconds=0).fetch(6600)
        assert server.requests == 2
    assert len(got) == 3


def test_gives_up_after_bounded_retries():
    with OdsStandin(records(3), KEY, RESOURCE, fail_times=100) as url:
        with pytest.raises(SourceApiError, match="HTTP 500 after 3 attempts"):
            OdsClient(url, KEY, RESOURCE, max_retries=2, backoff_seconds=0).fetch(6600)


def test_bad_key_is_a_clear_error_that_does_not_echo_the_key():
    with OdsStandin(records(3), KEY, RESOURCE) as url:
        with pytest.raises(SourceApiError) as e:
            OdsClient(url, "wrong-secret-key", RESOURCE, backoff_seconds=0).fetch(6600)
    assert "403" in str(e.value) and "TOSHAV_ODS_API_KEY" in str(e.value)
    assert "wrong-secret-key" not in str(e.value)


def test_timeout_is_retried_then_reported():
    with OdsStandin(records(1), KEY, RESOURCE, delay_seconds=0.5) as url:
        with pytest.raises(SourceApiError, match="did not answer after 2 attempts"):
            OdsClient(url, KEY, RESOURCE, timeout=0.1, max_retries=1, backoff_seconds=0).fetch(6600)


def test_api_pull_becomes_a_delivery_with_row_numbers():
    name, digest, read = api_delivery(records(4), RESOURCE)
    assert name == f"api:{RESOURCE}" and len(digest) == 64
    assert read.table.column("_row").to_pylist() == [1, 2, 3, 4]
    assert api_delivery(records(4), RESOURCE)[1] == digest          # same content, same hash: not ingested twice
