"""REST resources as the Salesforce REST API docs describe them, called with raw requests: unknown fields on
single create/update, sObject Collections update and retrieve, an object's basic information, describe's
record types (honoured on create) and child relationships, and the limits an admin checks."""

from __future__ import annotations

from tests.muniforce.conftest import person_type


def account(key: str, rt: str | None = None, **fields) -> dict:
    rec = {"attributes": {"type": "Account"}, "Resident_Key__c": key, "LastName": "לוי", **fields}
    if rt:
        rec["RecordTypeId"] = rt
    return rec


def test_an_unknown_field_on_a_single_create_or_update_is_invalid_field(rest, standin):
    r = rest.post("sobjects/Account", json={"Resident_Key__c": "U1", "LastName": "כהן", "Shoe_Size__c": 42})
    assert r.status_code == 400
    assert r.json() == [{"message": "No such column 'Shoe_Size__c' on sobject of type Account",
                         "errorCode": "INVALID_FIELD"}]
    created = rest.post("sobjects/Account", json={"Resident_Key__c": "U1", "LastName": "כהן"})
    assert created.status_code == 201 and created.json()["success"] is True
    rid = created.json()["id"]
    r = rest.patch(f"sobjects/Account/{rid}", json={"FirstName": "דן", "Shoe_Size__c": 42})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"
    assert "'Shoe_Size__c'" in r.json()[0]["message"]
    assert standin.records("Account")[0]["FirstName"] is None     # the request was refused whole
    r = rest.patch(f"sobjects/Account/{rid}", json={"IsDeleted": True})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert r.json()[0]["fields"] == ["IsDeleted"]


def test_collections_update_by_id(rest, standin):
    rt = person_type(rest)
    ids = [r["id"] for r in rest.post("composite/sobjects", json={
        "records": [account("A1", rt), account("A2", rt)]}).json()]
    r = rest.patch("composite/sobjects", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "id": ids[0], "FirstName": "נועה"},
        {"attributes": {"type": "Account"}, "Id": ids[1], "PersonEmail": "not an address"},
        {"attributes": {"type": "Account"}, "id": "001Dn0000000ZZZAAA", "FirstName": "x"}]})
    assert r.status_code == 200
    res = r.json()
    assert res[0] == {"id": ids[0], "success": True, "errors": [], "created": False}
    assert res[1]["success"] is False and res[1]["errors"][0]["statusCode"] == "INVALID_EMAIL_ADDRESS"
    assert res[2]["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    stored = {s["Id"]: s for s in standin.records("Account")}
    assert stored[ids[0]]["FirstName"] == "נועה" and stored[ids[0]]["Name"] == "נועה לוי"
    rolled = rest.patch("composite/sobjects", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "id": ids[0], "FirstName": "רון"},
        {"attributes": {"type": "Account"}, "id": ids[1], "LastName": None}]}).json()
    assert [x["errors"][0]["statusCode"] for x in rolled] == ["ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                              "REQUIRED_FIELD_MISSING"]
    assert {s["Id"]: s for s in standin.records("Account")}[ids[0]]["FirstName"] == "נועה"


def test_collections_retrieve_by_post_and_get(rest):
    rt = person_type(rest)
    ids = [r["id"] for r in rest.post("composite/sobjects", json={
        "records": [account("G1", rt, FirstName="אורי"), account("G2", rt)]}).json()]
    rest.delete(f"sobjects/Account/{ids[1]}")
    asked = [ids[0], ids[1], "001Dn0000000ZZZAAA", "garbage"]
    r = rest.post("composite/sobjects/Account", json={"ids": asked, "fields": ["Id", "FirstName", "resident_key__c"]})
    assert r.status_code == 200
    assert r.json() == [{"attributes": {"type": "Account", "url": f"/services/data/v62.0/sobjects/Account/{ids[0]}"},
                         "Id": ids[0], "FirstName": "אורי", "Resident_Key__c": "G1"}, None, None, None]
    got = rest.get("composite/sobjects/Account", params={"ids": ids[0], "fields": "LastName"}).json()
    assert got[0]["LastName"] == "לוי" and set(got[0]) == {"attributes", "LastName"}
    bad = rest.post("composite/sobjects/Account", json={"ids": [ids[0]], "fields": ["Nope__c"]})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    too_many = rest.post("composite/sobjects/Account", json={"ids": [ids[0]] * 2001, "fields": ["Id"]})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_basic_information_and_describe_urls(rest):
    r = rest.get("sobjects/Account/")
    assert r.status_code == 200
    info = r.json()
    assert info["recentItems"] == [] and info["objectDescribe"]["name"] == "Account"
    assert info["objectDescribe"]["keyPrefix"] == "001"
    assert info["objectDescribe"]["urls"]["describe"] == "/services/data/v62.0/sobjects/Account/describe"
    assert rest.get("sobjects/Nothing__c/").status_code == 404
    listed = {o["name"]: o for o in rest.get("sobjects").json()["sobjects"]}
    assert listed["Emergency_Profile__c"]["custom"] is True and listed["Account"]["urls"]["sobject"] == \
        "/services/data/v62.0/sobjects/Account"


def test_record_types_in_describe_and_honoured_on_create(rest, standin):
    described = rest.get("sobjects/Account/describe").json()
    infos = {i["developerName"]: i for i in described["recordTypeInfos"]}
    assert set(infos) == {"PersonAccount", "Business_Account", "Master"}
    assert infos["PersonAccount"]["defaultRecordTypeMapping"] is True      # the mapping's type (Account.record_type)
    assert infos["Master"]["master"] is True and infos["Master"]["recordTypeId"] == "012000000000000AAA"
    assert sum(i["defaultRecordTypeMapping"] for i in infos.values()) == 1
    by_query = rest.query("SELECT Id, DeveloperName FROM RecordType WHERE SobjectType = 'Account'")["records"]
    assert {r["DeveloperName"]: r["Id"] for r in by_query} == \
        {k: i["recordTypeId"] for k, i in infos.items() if k != "Master"}

    # no RecordTypeId: the default (person account) type; Name is made of the person's names
    person = rest.post("sobjects/Account", json={"Resident_Key__c": "P1", "FirstName": "יעל", "LastName": "כהן"})
    assert person.status_code == 201
    rec = rest.get(f"sobjects/Account/{person.json()['id']}").json()
    assert (rec["RecordTypeId"], rec["IsPersonAccount"], rec["Name"]) == \
        (infos["PersonAccount"]["recordTypeId"], True, "יעל כהן")
    # a business account needs Name, not LastName
    business = infos["Business_Account"]["recordTypeId"]
    r = rest.post("sobjects/Account", json={"Resident_Key__c": "B1", "RecordTypeId": business, "LastName": "x"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert r.json()[0]["fields"] == ["Name"]
    r = rest.post("sobjects/Account",
                  json={"Resident_Key__c": "B1", "RecordTypeId": business, "Name": "עמותת חסד"})
    rec = rest.get(f"sobjects/Account/{r.json()['id']}").json()
    assert (rec["RecordTypeId"], rec["IsPersonAccount"]) == (business, False)
    r = rest.post("sobjects/Account", json={"Resident_Key__c": "B2", "RecordTypeId": "012Dn0000000099AAA",
                                            "LastName": "x"})
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_CROSS_REFERENCE_KEY"


def test_describe_lists_child_relationships(rest):
    rels = rest.get("sobjects/Account/describe").json()["childRelationships"]
    assert {"childSObject": "Emergency_Profile__c", "field": "Account__c",
            "relationshipName": "Emergency_Profiles__r"}.items() <= rels[0].items()


def test_limits_lists_what_an_admin_checks(rest, standin):
    limits = rest.get("limits").json()
    for name in ("DailyApiRequests", "DailyBulkApiBatches", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB",
                 "DataStorageMB", "FileStorageMB"):
        assert set(limits[name]) == {"Max", "Remaining"} and 0 <= limits[name]["Remaining"] <= limits[name]["Max"]
    assert limits["DailyApiRequests"]["Max"] - limits["DailyApiRequests"]["Remaining"] == standin.api_usage()
    assert limits["DataStorageMB"]["Max"] == limits["DataStorageMB"]["Remaining"]        # empty org
    rt = person_type(rest)
    for start in range(0, 600, 200):   # 600 person accounts at 4 KB = 2,400 KB -> 3 MB used
        rest.patch("composite/sobjects/Account/Resident_Key__c", json={
            "records": [account(f"L{i}", rt) for i in range(start, start + 200)]})
    after = rest.get("limits").json()
    assert after["DataStorageMB"]["Max"] - after["DataStorageMB"]["Remaining"] == 3
    # describe, three Collections calls and this limits call
    assert after["DailyApiRequests"]["Remaining"] == limits["DailyApiRequests"]["Remaining"] - 5
