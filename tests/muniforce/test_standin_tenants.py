"""Several authorities share the MuniForce org, separated by Municipal__c: with its own session an authority
sees and writes only its own records, cannot take over another's, and counts against the one org quota.
First over raw HTTP, then two municipalities syncing through Toshav's real sync into one stand-in.

Toshav's resident keys are random ('R' + 80 random bits, pipelines/identity/registry.py), issued per
municipality; Salesforce keeps Resident_Key__c unique org-wide. Two authorities' keys colliding is
improbable (about n^2 / 2^81 for n keys in the org: ~4e-11 for 10 million), and if it happened the second
authority's record is refused (DUPLICATE_VALUE), never written over the first's."""

from __future__ import annotations

import pytest

from connectors.muniforce.client import connect
from connectors.muniforce.sync import sync_municipality
from tests.muniforce.conftest import Rest, add_profiles, add_residents, key, make_db, options, person_type

HOLON, BAT_YAM = "6600", "6200"


@pytest.fixture
def two(standin):
    holon = Rest(standin.url, standin.tenant_session(HOLON))
    bat_yam = Rest(standin.url, standin.tenant_session(BAT_YAM))
    yield holon, bat_yam
    holon.http.close()
    bat_yam.http.close()


def account(k: str, rt: str, **fields) -> dict:
    return {"attributes": {"type": "Account"}, "Resident_Key__c": k, "LastName": "כהן", "RecordTypeId": rt, **fields}


def test_an_authority_sees_and_writes_only_its_own_records(standin, rest, two):
    holon, bat_yam = two
    rt = person_type(holon)
    made = holon.patch("composite/sobjects/Account/Resident_Key__c", json={"records": [
        account("H1", rt, Municipal__c=HOLON), account("H2", rt)]}).json()      # left out: set to Holon's code
    assert [r["success"] for r in made] == [True, True]
    h1 = made[0]["id"]
    bat_yam.post("sobjects/Account", json={"Resident_Key__c": "B1", "LastName": "לוי", "RecordTypeId": rt})
    assert {r["Resident_Key__c"]: r["Municipal__c"] for r in standin.records("Account")} == \
        {"H1": HOLON, "H2": HOLON, "B1": BAT_YAM}

    # reads: query, queryAll, aggregates, by Id, by external ID, Collections retrieve
    assert [r["Resident_Key__c"] for r in bat_yam.query("SELECT Resident_Key__c FROM Account")["records"]] == ["B1"]
    assert bat_yam.query("SELECT COUNT() FROM Account", "queryAll")["totalSize"] == 1
    assert bat_yam.query("SELECT COUNT(Id) FROM Account")["records"][0]["expr0"] == 1
    assert bat_yam.get(f"sobjects/Account/{h1}").status_code == 404
    assert bat_yam.get("sobjects/Account/Resident_Key__c/H1").status_code == 404
    assert bat_yam.post("composite/sobjects/Account", json={"ids": [h1], "fields": ["Id"]}).json() == [None]
    assert rest.query("SELECT COUNT() FROM Account")["totalSize"] == 3          # the administrator sees all

    # writes: another authority's record cannot be taken over, updated or deleted
    taken = bat_yam.patch("composite/sobjects/Account/Resident_Key__c", json={"records": [
        account("h1", rt, FirstName="זר")]}).json()[0]
    assert taken["success"] is False and taken["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
    assert taken["errors"][0]["fields"] == ["Resident_Key__c"]
    single = bat_yam.patch("sobjects/Account/Resident_Key__c/H1", json={"FirstName": "זר"})
    assert single.status_code == 400 and single.json()[0]["errorCode"] == "DUPLICATE_VALUE"
    updated = bat_yam.patch("composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "id": h1, "FirstName": "זר"}]}).json()[0]
    assert updated["errors"][0]["statusCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    assert bat_yam.patch(f"sobjects/Account/{h1}", json={"FirstName": "זר"}).json()[0]["errorCode"] == \
        "INSUFFICIENT_ACCESS_OR_READONLY"
    deleted = bat_yam.delete("composite/sobjects", params={"ids": h1}).json()[0]
    assert deleted["errors"][0]["statusCode"] == "INSUFFICIENT_ACCESS_OR_READONLY"
    moved = bat_yam.post("sobjects/Account",
                         json={"Resident_Key__c": "B2", "LastName": "לוי", "Municipal__c": HOLON})
    assert moved.status_code == 400 and moved.json()[0]["errorCode"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION"
    holon_rows = {r["Resident_Key__c"]: r for r in standin.records("Account") if r["Municipal__c"] == HOLON}
    assert set(holon_rows) == {"H1", "H2"} and holon_rows["H1"]["FirstName"] is None
    assert holon_rows["H1"]["_writes"] == 1

    # a lookup through a parent's external ID finds only the authority's own parents
    prof = bat_yam.patch("composite/sobjects/Emergency_Profile__c/Resident_Key__c", json={"records": [
        {"attributes": {"type": "Emergency_Profile__c"}, "Resident_Key__c": "BP1", "Legal_Basis__c": "consent",
         "Account__r": {"Resident_Key__c": "H1"}}]}).json()[0]
    assert prof["errors"][0]["statusCode"] == "INVALID_FIELD" and "not found" in prof["errors"][0]["message"]


def test_bulk_jobs_belong_to_their_authority(standin, two):
    holon, bat_yam = two
    job = holon.post("jobs/ingest", json={"object": "Account", "operation": "upsert",
                                          "externalIdFieldName": "Resident_Key__c"}).json()
    assert "tenant" not in job
    assert bat_yam.get(f"jobs/ingest/{job['id']}").status_code == 404
    assert bat_yam.get("jobs/ingest").json()["records"] == []
    assert [j["id"] for j in holon.get("jobs/ingest").json()["records"]] == [job["id"]]


def test_every_session_counts_against_one_org_quota(standin, rest, two):
    holon, bat_yam = two
    before = standin.api_usage()
    holon.get("limits")
    r = bat_yam.get("limits")
    assert r.headers["Sforce-Limit-Info"] == f"api-usage={before + 2}/{standin.daily_limit}"
    assert r.json()["DailyApiRequests"]["Remaining"] == standin.daily_limit - before - 2
    standin.daily_limit = before + 3
    assert holon.get("limits").status_code == 200
    refused = bat_yam.get("limits")
    assert refused.status_code == 403 and refused.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.e2e   # two whole syncs and a third (~13 s)
def test_two_municipalities_sync_into_one_org_through_the_real_sync(tmp_path, standin):
    holon_db, bat_yam_db = make_db(tmp_path / "6600" / "toshav.duckdb"), make_db(tmp_path / "6200" / "toshav.duckdb")
    add_residents(holon_db, 300, municipality=6600)
    add_profiles(holon_db, "hash(resident_key) % 3 = 0")
    add_residents(bat_yam_db, 250, start=10_000, municipality=6200)        # keys of their own
    add_residents(bat_yam_db, 1, start=7, municipality=6200)               # a key Holon issued too (a collision)
    add_profiles(bat_yam_db, "hash(resident_key) % 3 = 0")
    holon_sf = connect(standin.url, session_id=standin.tenant_session(6600))
    bat_yam_sf = connect(standin.url, session_id=standin.tenant_session(6200))

    holon = sync_municipality(holon_db, 6600, holon_sf, options())                # sObject Collections
    bat_yam = sync_municipality(bat_yam_db, 6200, bat_yam_sf,           # through Bulk 2.0 jobs as well
                                options(municipality_name="בת ים", bulk_threshold=100, bulk_chunk_rows=1000))
    assert holon.counts("Account").created == 300 and holon.totals.rejected == 0
    assert bat_yam.counts("Account").created == 250
    assert bat_yam.counts("Account").rejected == 1
    assert {r.key for r in bat_yam.rejects} == {key(7)}                   # only the colliding resident
    assert ("Account", "DUPLICATE_VALUE") in {(r.target, r.code) for r in bat_yam.rejects}
    assert standin.stats["bulk_create"] >= 1
    accounts = standin.records("Account")
    by_muni = {m: {a["Resident_Key__c"] for a in accounts if a["Municipal__c"] == m} for m in ("6600", "6200")}
    assert len(by_muni["6600"]) == 300 and len(by_muni["6200"]) == 250 and key(7) in by_muni["6600"]
    assert not by_muni["6600"] & by_muni["6200"]
    assert {a["PersonMailingCity"] for a in accounts if a["Resident_Key__c"] == key(7)} == {"חולון"}
    profiles = standin.records("Emergency_Profile__c")
    parents = {a["Id"]: a["Municipal__c"] for a in accounts}
    assert profiles and all(parents[p["Account__c"]] == p["Municipal__c"] for p in profiles)

    # Holon's residents leave: its run deactivates its own records only
    holon_db.execute("UPDATE resident_file SET status = 'moved_out'")
    again = sync_municipality(holon_db, 6600, holon_sf, options())
    assert again.counts("Account").updated == 300
    statuses = {(a["Municipal__c"], a["Resident_Status__c"]) for a in standin.records("Account")}
    assert statuses == {("6600", "MovedOut"), ("6200", "Active")}
    assert not any(p["Municipal__c"] == "6600" for p in standin.records("Emergency_Profile__c"))
    assert any(p["Municipal__c"] == "6200" for p in standin.records("Emergency_Profile__c"))
    holon_db.close()
    bat_yam_db.close()
