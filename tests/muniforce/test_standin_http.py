"""Request bodies as HTTP/1.1 sends them: a Bulk 2.0 upload streamed with `Transfer-Encoding: chunked` (as
jsforce sends it) is read whole; bodies over the limit are refused with 413; a malformed chunked body is a 400.
Driven with http.client and raw sockets, written from the Bulk API 2.0 docs (create job, PUT batches, PATCH
UploadComplete, poll, results), not through a Salesforce client."""

from __future__ import annotations

import csv
import http.client
import io
import json
import socket
import time

import pytest

from connectors.muniforce.standin import start_standin
from tests.muniforce.conftest import Rest, person_type

API = "/services/data/v62.0"
LAST = ["כהן", "לוי", "מזרחי", "פרץ"]


def connection(org) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", org.port, timeout=60)


def call(conn, method: str, path: str, session: str, body=None, headers: dict | None = None,
         chunked: bool = False) -> tuple[int, dict, bytes]:
    h = {"Authorization": f"Bearer {session}", **(headers or {})}
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn.request(method, API + path, body=body, headers=h, encode_chunked=chunked)
    r = conn.getresponse()
    return r.status, dict(r.getheaders()), r.read()


def pieces(data: bytes, size: int):
    """The body in pieces of `size` bytes: boundaries fall inside rows and inside Hebrew letters."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


def wait_for(conn, session: str, job_id: str) -> dict:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        status, _, raw = call(conn, "GET", f"/jobs/ingest/{job_id}", session)
        job = json.loads(raw)
        if job["state"] in ("JobComplete", "Failed", "Aborted"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']}")


def test_a_chunked_bulk_upload_of_10000_rows_is_read_whole(standin):
    rest = Rest(standin.url, standin.session_id)
    rt = person_type(rest)
    batches_before = rest.get("limits").json()["DailyBulkApiBatches"]["Remaining"]
    rows = "".join(f"K{i:05d},{LAST[i % 4]},{rt},6600\n" for i in range(10_000))
    data = ("Resident_Key__c,LastName,RecordTypeId,Municipal__c\n" + rows).encode("utf-8")
    conn = connection(standin)
    s = standin.session_id

    status, _, raw = call(conn, "POST", "/jobs/ingest", s, {"object": "Account", "operation": "upsert",
                                                            "externalIdFieldName": "Resident_Key__c",
                                                            "contentType": "CSV", "lineEnding": "LF"})
    assert status == 200
    job = json.loads(raw)
    assert job["contentUrl"] == f"services/data/v62.0/jobs/ingest/{job['id']}/batches"
    status, _, raw = call(conn, "PUT", f"/jobs/ingest/{job['id']}/batches", s, pieces(data, 4093),
                          {"Content-Type": "text/csv"}, chunked=True)
    assert (status, raw) == (201, b"")
    # the same connection serves the next request: the chunked body was read to its last chunk
    status, _, raw = call(conn, "PATCH", f"/jobs/ingest/{job['id']}", s, {"state": "UploadComplete"})
    assert status == 200 and json.loads(raw)["state"] == "UploadComplete"
    done = wait_for(conn, s, job["id"])
    assert (done["state"], done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("JobComplete", 10_000, 0)

    status, headers, raw = call(conn, "GET", f"/jobs/ingest/{job['id']}/successfulResults", s)
    ok = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
    assert status == 200 and headers["Content-Type"] == "text/csv" and len(ok) == 10_000
    assert {r["sf__Created"] for r in ok} == {"true"}
    stored = {r["Resident_Key__c"]: r["LastName"] for r in standin.records("Account")}
    assert len(stored) == 10_000 and stored["K09999"] == LAST[9999 % 4] and stored["K00002"] == "מזרחי"
    # 10,000 records are one internal batch of Salesforce's
    assert rest.get("limits").json()["DailyBulkApiBatches"]["Remaining"] == batches_before - 1
    conn.close()


def test_a_chunked_json_body_is_read_like_a_sized_one(standin):
    rest = Rest(standin.url, standin.session_id)
    rt = person_type(rest)
    conn = connection(standin)
    body = json.dumps({"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Resident_Key__c": f"C{i}", "LastName": "שלום", "RecordTypeId": rt}
        for i in range(3)]}).encode("utf-8")
    status, _, raw = call(conn, "POST", "/composite/sobjects", standin.session_id, pieces(body, 7),
                          {"Content-Type": "application/json"}, chunked=True)
    assert status == 200 and [r["success"] for r in json.loads(raw)] == [True, True, True]
    conn.close()


@pytest.fixture
def small_org(tmp_path):
    org = start_standin(tmp_path / "small.sqlite", max_body=1024, max_upload=4096)
    yield org
    org.stop()


def test_bodies_over_the_limit_are_refused_with_413_and_nothing_is_kept(small_org):
    s = small_org.session_id
    conn = connection(small_org)
    big = {"allOrNone": False, "records": [{"attributes": {"type": "Account"}, "Name": "x" * 2000}]}
    status, headers, raw = call(conn, "POST", "/composite/sobjects", s, big)
    assert status == 413 and headers.get("Connection") == "close"
    assert json.loads(raw)[0]["errorCode"] == "EXCEEDED_MAX_SIZE_REQUEST"
    assert small_org.records("Account") == []
    conn.close()

    conn = connection(small_org)
    status, _, raw = call(conn, "POST", "/jobs/ingest", s, {"object": "Account", "operation": "insert"})
    job_id = json.loads(raw)["id"]
    csv_body = b"LastName\n" + b"".join(b"Resident %05d\n" % i for i in range(1000))   # 15 kB > 4 kB
    status, _, raw = call(conn, "PUT", f"/jobs/ingest/{job_id}/batches", s, pieces(csv_body, 1000),
                          {"Content-Type": "text/csv"}, chunked=True)
    assert status == 413 and json.loads(raw)[0]["errorCode"] == "EXCEEDED_MAX_SIZE_REQUEST"
    conn.close()

    conn = connection(small_org)
    status, _, raw = call(conn, "GET", f"/jobs/ingest/{job_id}", s)
    assert json.loads(raw)["state"] == "Open"          # the job still takes an upload: nothing half-stored
    status, _, _ = call(conn, "PUT", f"/jobs/ingest/{job_id}/batches", s,
                        "Resident_Key__c,LastName\nK1,כהן\n".encode(), {"Content-Type": "text/csv"})
    assert status == 201
    call(conn, "PATCH", f"/jobs/ingest/{job_id}", s, {"state": "UploadComplete"})
    done = wait_for(conn, s, job_id)
    assert (done["numberRecordsProcessed"], done["numberRecordsFailed"]) == (1, 0)
    assert [r["LastName"] for r in small_org.records("Account")] == ["כהן"]
    conn.close()


def test_a_malformed_chunked_body_is_a_400(standin):
    with socket.create_connection(("127.0.0.1", standin.port), timeout=30) as sock:
        sock.sendall((f"POST {API}/composite/sobjects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      f"Authorization: Bearer {standin.session_id}\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n").encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and json.loads(body)[0]["errorCode"] == "JSON_PARSER_ERROR"
