"""The ODS stand-in answers like CKAN's datastore_search: paging, filters, keys, errors, failures, delays."""

from __future__ import annotations

import json

import pytest
import requests

from connectors.ods_standin import OdsStandin

KEY, RESOURCE = "test-key", "ods-resource"


def _records(n: int = 250) -> list[dict]:
    return [{"id_number": f"{i:09d}", "municipality_code": "6600" if i % 5 else "5000", "indicator": "dialysis"}
            for i in range(n)]


def _search(url: str, key: str | None = KEY, timeout: float = 10, **params) -> requests.Response:
    headers = {"Authorization": key} if key is not None else {}
    params = {"resource_id": RESOURCE, **params}
    if isinstance(params.get("filters"), dict):
        params["filters"] = json.dumps(params["filters"])
    return requests.get(f"{url}/api/3/action/datastore_search", params=params, headers=headers, timeout=timeout)


def test_pages_through_a_filtered_resource():
    records = _records()
    with OdsStandin(records, KEY, RESOURCE) as url:
        got, offset, total = [], 0, None
        while total is None or offset < total:
            body = _search(url, limit=40, offset=offset, filters={"municipality_code": "6600"}).json()
            assert body["success"] is True and body["help"].endswith("help_show?name=datastore_search")
            result = body["result"]
            total = result["total"]
            assert result["limit"] == 40 and result["offset"] == offset
            assert result["_links"]["next"].startswith("/api/3/action/datastore_search?")
            assert f"offset={offset + 40}" in result["_links"]["next"]
            got += result["records"]
            offset += 40
    expected = [r for r in records if r["municipality_code"] == "6600"]
    assert total == len(expected) == 200
    assert [{k: v for k, v in r.items() if k != "_id"} for r in got] == expected
    assert [r["_id"] for r in got] == sorted(r["_id"] for r in got)
    assert [f["id"] for f in result["fields"]] == ["_id", "id_number", "municipality_code", "indicator"]
    assert result["fields"][0]["type"] == "int" and result["fields"][1]["type"] == "text"


def test_default_limit_and_post_body():
    with OdsStandin(_records(), KEY, RESOURCE) as url:
        assert len(_search(url).json()["result"]["records"]) == 100
        body = requests.post(f"{url}/api/3/action/datastore_search", headers={"Authorization": KEY},
                             json={"resource_id": RESOURCE, "limit": 7, "filters": {"municipality_code": "5000"}},
                             timeout=10).json()
        assert body["result"]["total"] == 50 and len(body["result"]["records"]) == 7


def test_serves_a_generated_jsonl_file(default_data):
    path = default_data.summary.files["ods"]
    lines = path.read_text(encoding="utf-8").splitlines()
    with OdsStandin(path, KEY, RESOURCE) as url:
        result = _search(url, limit=10, filters={"municipality_code": "6600"}).json()["result"]
    assert result["total"] == len(lines)
    assert {k: v for k, v in result["records"][0].items() if k != "_id"} == json.loads(lines[0])


@pytest.mark.parametrize("key", [None, "", "wrong-key"])
def test_rejects_a_missing_or_wrong_key_with_403(key):
    with OdsStandin(_records(), KEY, RESOURCE) as url:
        resp = _search(url, key=key)
    assert resp.status_code == 403
    body = resp.json()
    assert body["success"] is False and body["error"]["__type"] == "Authorization Error"
    assert KEY not in resp.text


def test_unknown_resource_is_404_and_bad_parameters_409():
    with OdsStandin(_records(), KEY, RESOURCE) as url:
        resp = _search(url, resource_id="no-such-resource")
        assert resp.status_code == 404 and resp.json()["error"]["__type"] == "Not Found Error"
        resp = _search(url, limit="many")
        assert resp.status_code == 409 and resp.json()["error"]["limit"] == ["Invalid integer"]
        resp = _search(url, filters={"no_such_field": "1"})
        assert resp.status_code == 409 and resp.json()["error"]["__type"] == "Validation Error"
        resp = requests.get(f"{url}/api/3/action/package_list", headers={"Authorization": KEY}, timeout=10)
        assert resp.status_code == 400


def test_fails_with_500_the_configured_times():
    standin = OdsStandin(_records(), KEY, RESOURCE, fail_times=2)
    url = standin.start()
    try:
        codes = [_search(url).status_code for _ in range(4)]
    finally:
        standin.stop()
    assert codes == [500, 500, 200, 200]
    assert standin.requests == 4


def test_delay_makes_client_timeouts_happen():
    with OdsStandin(_records(), KEY, RESOURCE, delay_seconds=0.5) as url:
        with pytest.raises(requests.Timeout):
            _search(url, timeout=0.1)
        assert _search(url, timeout=5).status_code == 200


def test_stop_frees_the_port():
    standin = OdsStandin(_records(10), KEY, RESOURCE)
    url = standin.start()
    assert url.startswith("http://127.0.0.1:")
    standin.stop()
    with pytest.raises(requests.ConnectionError):
        _search(url, timeout=2)
