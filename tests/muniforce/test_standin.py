"""The stand-in speaks Salesforce: status codes, error shapes, Collections and Bulk 2.0 as simple-salesforce
expects them, validation from the describe, the daily quota, persistence across restarts."""

from __future__ import annotations

import csv
import io

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest, SalesforceResourceNotFound

from connectors.muniforce.client import api_meter, connect
from connectors.muniforce.standin import start_standin
from connectors.muniforce.standin.ids import is_valid_id


def person(sf) -> str:
    return sf.query("SELECT Id FROM RecordType WHERE SobjectType = 'Account' AND DeveloperName = 'PersonAccount'"
                    )["records"][0]["Id"]


def account(k: str, rt: str, **fields) -> dict:
    return {"attributes": {"type": "Account"}, "Resident_Key__c": k, "LastName": "לוי", "RecordTypeId": rt, **fields}


def upsert(sf, records, obj="Account", all_or_none=False):
    return sf.restful(f"composite/sobjects/{obj}/Resident_Key__c", method="PATCH",
                      json={"allOrNone": all_or_none, "records": records})


def test_auth_describe_and_limit_header(standin):
    r = requests.get(f"{standin.url}/services/data/v62.0/sobjects/Account/describe")
    assert r.status_code == 401 and r.json() == [{"message": "Session expired or invalid",
                                                  "errorCode": "INVALID_SESSION_ID"}]
    sf = connect(standin.url, session_id=standin.session_id)
    d = sf.Emergency_Profile__c.describe()
    fields = {f["name"]: f for f in d["fields"]}
    assert d["keyPrefix"].startswith("a0") and fields["Resident_Key__c"]["externalId"]
    assert fields["Account__c"]["referenceTo"] == ["Account"] and fields["Account__c"]["relationshipName"] == "Account__r"
    assert fields["Needs__c"]["encrypted"] and fields["Legal_Basis__c"]["restrictedPicklist"]
    sf.query("SELECT COUNT() FROM Account")
    assert sf.api_usage["api-usage"].used == standin.api_usage() == api_meter(sf).used == 2
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nothing__c.describe()


def test_single_record_upsert_answers_201_then_200_and_matches_keys_case_insensitively(sf, standin):
    rt = person(sf)
    created = sf.Account.upsert("Resident_Key__c/KEY-1", {"LastName": "כהן", "RecordTypeId": rt}, raw_response=True)
    assert created.status_code == 201 and created.json()["created"] is True
    updated = sf.Account.upsert("Resident_Key__c/key-1", {"FirstName": "דנה"}, raw_response=True)
    assert updated.status_code == 200 and updated.json()["created"] is False
    rec = sf.Account.get_by_custom_id("Resident_Key__c", "Key-1")
    assert (rec["Resident_Key__c"], rec["FirstName"], rec["Name"]) == ("key-1", "דנה", "דנה כהן")
    assert is_valid_id(rec["Id"]) and rec["Id"].startswith("001")


def test_collections_upsert_shapes_and_validation(sf, standin):
    rt = person(sf)
    results = upsert(sf, [
        account("A1", rt, FirstName="א" * 40),                       # 40 Hebrew letters: fits
        account("A2", rt, FirstName="א" * 41),                       # one too many
        account("A3", rt, LastName=None),
        account("A4", rt, PersonEmail="nope"),
        account("A5", rt, Resident_Status__c="Gone"),
        account("A6", rt, RecordTypeId="012Dn0000000099AAA"),
        account("a1", rt),                                            # equals A1 but for case
    ])
    assert results[0]["success"] is False and results[6]["success"] is False   # duplicate in one request
    codes = [r["errors"][0]["statusCode"] for r in results]
    assert codes == ["DUPLICATE_EXTERNAL_ID", "STRING_TOO_LONG", "REQUIRED_FIELD_MISSING", "INVALID_EMAIL_ADDRESS",
                     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", "INVALID_CROSS_REFERENCE_KEY", "DUPLICATE_EXTERNAL_ID"]
    assert results[1]["errors"][0]["fields"] == ["FirstName"] and "max length=40" in results[1]["errors"][0]["message"]
    ok = upsert(sf, [account("A1", rt, FirstName="א" * 40)])
    assert ok == [{"id": ok[0]["id"], "success": True, "errors": [], "created": True}]
    with pytest.raises(SalesforceMalformedRequest) as err:
        upsert(sf, [account("A7", rt, Unknown__c="x")])
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        upsert(sf, [account(f"B{i}", rt) for i in range(201)])
    assert err.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    rolled = upsert(sf, [account("C1", rt), account("C2", rt, LastName=None)], all_or_none=True)
    assert [r["errors"][0]["statusCode"] for r in rolled] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                              "REQUIRED_FIELD_MISSING"]
    assert {r["Resident_Key__c"] for r in standin.records("Account")} == {"A1"}


def test_lookups_through_the_parent_external_id(sf, standin):
    rt = person(sf)
    upsert(sf, [account("P1", rt)])
    res = upsert(sf, [
        {"attributes": {"type": "Emergency_Profile__c"}, "Resident_Key__c": "P1", "Legal_Basis__c": "consent",
         "Account__r": {"Resident_Key__c": "p1"}},
        {"attributes": {"type": "Emergency_Profile__c"}, "Resident_Key__c": "P2", "Legal_Basis__c": "consent",
         "Account__r": {"Resident_Key__c": "P2"}},
    ], obj="Emergency_Profile__c")
    assert res[0]["success"] and res[1]["errors"][0]["statusCode"] == "INVALID_FIELD"
    assert "Foreign key external ID: P2 not found" in res[1]["errors"][0]["message"]
    prof = standin.records("Emergency_Profile__c")[0]
    assert prof["Account__c"] == standin.records("Account")[0]["Id"] and prof["Name"] == "0000001"


def test_query_pages_through_next_records_url(sf):
    rt = person(sf)
    for start in range(0, 2300, 200):
        upsert(sf, [account(f"Q{i:05d}", rt) for i in range(start, min(start + 200, 2300))])
    page = sf.query("SELECT Id, Resident_Key__c FROM Account ORDER BY Resident_Key__c")
    assert (page["totalSize"], page["done"], len(page["records"])) == (2300, False, 2000)
    assert page["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    everything = sf.query_all("SELECT Resident_Key__c FROM Account WHERE Resident_Key__c != 'Q00000'")
    assert everything["totalSize"] == 2299 and len(everything["records"]) == 2299
    assert sf.query("SELECT COUNT() FROM Account WHERE Resident_Key__c IN ('q00001', 'Q00002')")["totalSize"] == 2
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Nope__c FROM Account")
    assert err.value.content[0]["errorCode"] == "INVALID_FIELD"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.query("SELECT Id Account")
    assert err.value.content[0]["errorCode"] == "MALFORMED_QUERY"


def test_delete_is_soft_and_a_second_delete_says_entity_is_deleted(sf, standin):
    rt = person(sf)
    rid = upsert(sf, [account("D1", rt)])[0]["id"]
    first = sf.restful("composite/sobjects", method="DELETE", params={"ids": rid, "allOrNone": "false"})
    again = sf.restful("composite/sobjects", method="DELETE", params={"ids": rid, "allOrNone": "false"})
    assert first == [{"id": rid, "success": True, "errors": []}]
    assert again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 0
    recreated = upsert(sf, [account("D1", rt)])[0]   # a deleted record no longer holds its external ID
    assert recreated["created"] and recreated["id"] != rid


def test_bulk_job_through_simple_salesforce_one_call_api(sf, standin):
    """simple-salesforce's own bulk2 upsert (create, upload, UploadComplete, poll) works against the stand-in,
    and the result endpoints have Salesforce's columns."""
    rt = person(sf)
    rows = [{"Resident_Key__c": f"K{i}", "LastName": "מזרחי" if i != 3 else "", "RecordTypeId": rt,
             "PersonEmail": "bad" if i == 4 else "#N/A"} for i in range(6)]
    result = sf.bulk2.Account.upsert(records=rows, external_id_field="Resident_Key__c", wait=0.05)
    assert result[0]["numberRecordsProcessed"] == 6 and result[0]["numberRecordsFailed"] == 2
    job_id = result[0]["job_id"]
    ok = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_successful_records(job_id))))
    failed = list(csv.DictReader(io.StringIO(sf.bulk2.Account.get_failed_records(job_id))))
    assert set(ok[0]) >= {"sf__Id", "sf__Created", "Resident_Key__c"} and len(ok) == 4
    assert {r["sf__Created"] for r in ok} == {"true"}
    errors = {r["Resident_Key__c"]: r["sf__Error"] for r in failed}
    assert errors["K3"].startswith("REQUIRED_FIELD_MISSING:") and errors["K3"].endswith(" --")
    assert errors["K4"].startswith("INVALID_EMAIL_ADDRESS:")
    job = sf.restful(f"jobs/ingest/{job_id}")
    assert (job["state"], job["operation"], job["object"], job["externalIdFieldName"]) == \
        ("JobComplete", "upsert", "Account", "Resident_Key__c")


def test_bulk_job_state_machine(sf):
    client = sf.bulk2.Account._client
    job = client.create_job("upsert", external_id_field="Resident_Key__c")
    assert job["state"] == "Open"
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful(f"jobs/ingest/{job['id']}/successfulResults")
    assert err.value.content[0]["errorCode"] == "INVALIDJOBSTATE"
    aborted = client.abort_job(job["id"], False)
    assert aborted["state"] == "Aborted"
    with pytest.raises(SalesforceMalformedRequest):
        client.upload_job_data(job["id"], "Resident_Key__c,LastName\nX,Y\n")
    bad = client.create_job("upsert", external_id_field="Resident_Key__c")
    client.upload_job_data(bad["id"], "Resident_Key__c,Nope__c\nX,Y\n")
    client.close_job(bad["id"])
    with pytest.raises(Exception, match="Field name not found"):
        client.wait_for_job(bad["id"], False, wait=0.05)


def test_daily_limit_and_persistence_across_restarts(tmp_path):
    db = tmp_path / "org.sqlite"
    with start_standin(db, daily_limit=2) as org:
        sf = connect(org.url, session_id=org.session_id)
        rt = person(sf)
        upsert(sf, [account("S1", rt)])
        session = org.session_id
        with pytest.raises(SalesforceRefusedRequest) as err:
            sf.query("SELECT Id FROM Account")
        assert err.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    with start_standin(db, daily_limit=100) as org:   # same data, same session, same day's usage
        assert org.session_id == session and org.api_usage() == 2
        sf = connect(org.url, session_id=session)
        s1 = sf.query("SELECT Id, Resident_Key__c FROM Account")["records"]
        assert [r["Resident_Key__c"] for r in s1] == ["S1"]
        s2 = upsert(sf, [account("S2", rt)])[0]
        assert s2["created"] and s2["id"] != s1[0]["Id"]   # Ids are never reused after a restart
