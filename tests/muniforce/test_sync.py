"""The sync against the stand-in, over HTTP with the real simple-salesforce client: only what changed is
sent, answers are recorded, rejections are reported and retried, deletions follow the policy."""

from __future__ import annotations

import pytest

from connectors.muniforce.client import connect
from connectors.muniforce.describe import SchemaDriftError
from connectors.muniforce.calls import SalesforceCallError
from connectors.muniforce.standin import start_standin
from connectors.muniforce.sync import sync_municipality
from tests.muniforce.conftest import MUNI, add_profiles, add_residents, key, live, options

STATE = "SELECT key, last_status, sf_id, attempts, last_error_code, last_error_message FROM muniforce_sync_state " \
        "WHERE target = ? ORDER BY key"


def state(con, target="Account"):
    return {r[0]: r[1:] for r in con.execute(STATE, [target]).fetchall()}


@pytest.mark.parametrize("bulk_threshold", [10_000, 50], ids=["collections", "bulk"])
def test_first_sync_creates_all_second_sends_nothing_a_change_sends_exactly_it(con, standin, sf, bulk_threshold):
    add_residents(con, 260)
    add_profiles(con, "hash(resident_key) % 4 = 0")
    profiles = con.execute("SELECT count(*) FROM emergency_profile").fetchone()[0]
    opts = options(bulk_threshold=bulk_threshold, bulk_chunk_rows=100)

    first = sync_municipality(con, MUNI, sf, opts)
    assert (first.counts("Account").created, first.counts("Emergency_Profile__c").created) == (260, profiles)
    assert first.totals.rejected == first.totals.pending == 0
    accounts = live(standin, "Account")
    assert len(accounts) == 260
    ids = {k: s[1] for k, s in state(con).items()}
    assert ids == {k: r["Id"] for k, r in accounts.items()}  # matched back by external ID
    if bulk_threshold < 260:
        assert standin.stats["bulk_create"] >= 3 and "collections_upsert" not in standin.stats

    calls_before, usage_before = dict(standin.stats), standin.api_usage()
    second = sync_municipality(con, MUNI, sf, opts)
    assert second.api_calls == 0 and standin.api_usage() == usage_before and standin.stats == calls_before
    assert second.counts("Account").unchanged == 260 and second.totals.created == second.totals.updated == 0

    changed = [key(3), key(77), key(201)]
    con.execute("UPDATE resident_file SET mobile_phone = '+972549999999' WHERE resident_key IN (?, ?, ?)", changed)
    third = sync_municipality(con, MUNI, sf, opts)
    assert third.counts("Account").updated == 3 and third.counts("Account").unchanged == 257
    writes = {k: r["_writes"] for k, r in live(standin, "Account").items()}
    assert {k for k, w in writes.items() if w == 2} == set(changed)
    assert all(w == 1 for k, w in writes.items() if k not in changed)
    assert live(standin, "Account")[key(77)]["PersonMobilePhone"] == "+972549999999"


def test_person_accounts_and_profiles_as_mapped(con, standin, sf):
    add_residents(con, 12)
    add_profiles(con, f"resident_key = '{key(5)}'")
    sync_municipality(con, MUNI, sf, options())
    acc = live(standin, "Account")[key(5)]
    rt = sf.query("SELECT Id FROM RecordType WHERE DeveloperName = 'PersonAccount'")["records"][0]["Id"]
    assert acc["RecordTypeId"] == rt and acc["IsPersonAccount"] == 1
    assert acc["Name"] == f"{acc['FirstName']} {acc['LastName']}"
    assert (acc["Type"], acc["Municipal__c"], acc["IdentificationType__pc"]) == ("Resident", "6600", "IsraeliID")
    assert acc["IdNumber__pc"] == "010000005" and acc["PersonBirthdate"] == "1950-07-05"
    assert acc["PersonMailingStreet"] == "הרצל 6, כניסה א, דירה 6" and acc["PersonMailingCity"] == "חולון"
    assert acc["Resident_Status__c"] == "Active"
    prof = live(standin, "Emergency_Profile__c")[key(5)]
    assert prof["Account__c"] == acc["Id"]  # lookup set through the parent's external ID
    assert prof["Needs__c"] == "ESCORT_EVACUATION;WHEELCHAIR" and prof["Lives_Alone__c"] == "Yes"
    assert prof["Source_Updated_At__c"] == "2026-11-01T08:00:00.000+0000"
    soql = sf.query_all(f"SELECT Resident_Key__c, Account__r.Resident_Key__c FROM Emergency_Profile__c "
                        f"WHERE Resident_Key__c = '{key(5).lower()}'")   # SOQL compares case-insensitively
    assert soql["records"][0]["Account__r"]["Resident_Key__c"] == key(5)


@pytest.mark.parametrize("bulk_threshold", [10_000, 5], ids=["collections_null", "bulk_na"])
def test_a_value_that_disappears_is_cleared_in_muniforce(con, standin, sf, bulk_threshold):
    add_residents(con, 20)
    opts = options(bulk_threshold=bulk_threshold)
    sync_municipality(con, MUNI, sf, opts)
    assert live(standin, "Account")[key(4)]["PersonEmail"] == "resident4@example.org"
    con.execute(f"UPDATE resident_file SET email = NULL, entrance = NULL WHERE resident_key IN "
                f"(SELECT resident_key FROM resident_file ORDER BY resident_key LIMIT 10)")
    report = sync_municipality(con, MUNI, sf, opts)
    assert report.counts("Account").updated == 10
    acc = live(standin, "Account")
    assert acc[key(4)]["PersonEmail"] is None   # null in REST, #N/A in Bulk
    assert acc[key(0)]["PersonMailingStreet"] == "הרצל 1, דירה 1"
    assert acc[key(15)]["PersonEmail"] == "resident15@example.org"


def test_rejections_carry_salesforce_code_without_the_value_and_are_retried(con, standin, sf):
    add_residents(con, 30)
    forty, forty_one = "א" * 40, "ב" * 41   # lengths count characters: 40 Hebrew letters are 80 bytes
    con.execute("UPDATE resident_file SET first_name = ? WHERE resident_key = ?", [forty, key(1)])
    con.execute("UPDATE resident_file SET first_name = ? WHERE resident_key = ?", [forty_one, key(2)])
    con.execute("UPDATE resident_file SET email = 'not-an-address' WHERE resident_key = ?", [key(3)])
    add_profiles(con, f"resident_key IN ('{key(2)}', '{key(4)}')")

    first = sync_municipality(con, MUNI, sf, options())
    assert first.counts("Account").created == 28 and first.counts("Account").rejected == 2
    rejects = {(r.target, r.key): r for r in first.rejects}
    too_long = rejects[("Account", key(2))]
    assert (too_long.code, too_long.fields) == ("STRING_TOO_LONG", "FirstName")
    assert forty_one not in too_long.message and "max length=40" in too_long.message
    assert rejects[("Account", key(3))].code == "INVALID_EMAIL_ADDRESS"
    assert "not-an-address" not in rejects[("Account", key(3))].message
    # the profile of a rejected account cannot find its parent
    assert rejects[("Emergency_Profile__c", key(2))].code == "INVALID_FIELD"
    assert live(standin, "Account")[key(1)]["FirstName"] == forty
    summary = first.summary()
    assert "STRING_TOO_LONG" in summary and forty_one not in summary and "not-an-address" not in summary
    assert state(con)[key(2)][:1] == ("rejected",) and state(con)[key(2)][2] == 1

    second = sync_municipality(con, MUNI, sf, options())      # unchanged, but rejected: sent again
    assert second.counts("Account").rejected == 2 and second.counts("Account").unchanged == 28
    assert state(con)[key(2)][2] == 2

    con.execute("UPDATE resident_file SET first_name = 'בן' WHERE resident_key = ?", [key(2)])
    con.execute("UPDATE resident_file SET email = NULL WHERE resident_key = ?", [key(3)])
    third = sync_municipality(con, MUNI, sf, options())
    assert third.counts("Account").created == 2 and third.counts("Account").rejected == 0
    assert third.counts("Emergency_Profile__c").created == 1
    assert state(con)[key(2)][:1] == ("created",) and state(con)[key(2)][2:] == (0, None, None)
    assert len(live(standin, "Account")) == 30


def test_deactivate_policy_marks_leavers_and_withdrawn_consent_deletes_the_profile(con, standin, sf):
    add_residents(con, 10)
    add_profiles(con)
    sync_municipality(con, MUNI, sf, options())
    con.execute("UPDATE resident_file SET status = 'moved_out' WHERE resident_key = ?", [key(1)])
    con.execute("UPDATE resident_file SET status = 'deceased', death_date = DATE '2026-10-01' WHERE resident_key = ?",
                [key(2)])
    con.execute("DELETE FROM resident_file WHERE resident_key IN (?, ?)", [key(3), key(4)])
    con.execute("DELETE FROM emergency_profile WHERE resident_key IN (?, ?)", [key(3), key(4)])
    con.execute("INSERT INTO identity_merges VALUES (?, ?, TIMESTAMP '2026-11-02 00:00:00')", [key(3), key(0)])
    con.execute("DELETE FROM emergency_profile WHERE resident_key = ?", [key(6)])   # consent withdrawn
    con.execute("UPDATE emergency_profile SET consent_status = 'withdrawn' WHERE resident_key = ?", [key(7)])
    con.execute("UPDATE emergency_profile SET legal_basis = 'statutory', consent_status = 'none' "
                "WHERE resident_key = ?", [key(8)])

    report = sync_municipality(con, MUNI, sf, options())
    acc = live(standin, "Account")
    assert len(acc) == 10   # nobody deleted under the default policy
    assert acc[key(1)]["Resident_Status__c"] == "MovedOut" and acc[key(2)]["Resident_Status__c"] == "Deceased"
    assert (acc[key(3)]["Resident_Status__c"], acc[key(3)]["Merged_Into__c"]) == ("Merged", key(0))
    assert acc[key(3)]["LastName"] is not None   # deactivation sends only the status fields
    assert (acc[key(4)]["Resident_Status__c"], acc[key(4)]["Merged_Into__c"]) == ("Removed", None)
    profiles = live(standin, "Emergency_Profile__c")
    # withdrawn (row gone, or left behind with consent withdrawn), inactive and retired are gone
    assert set(profiles) == {key(i) for i in (0, 5, 8, 9)}
    assert profiles[key(8)]["Legal_Basis__c"] == "statutory"
    assert report.counts("Account").deactivated == 2 and report.counts("Account").updated == 2
    assert report.counts("Emergency_Profile__c").deleted == 6
    assert state(con, "Emergency_Profile__c")[key(6)][:2] == ("deleted", None)
    again = sync_municipality(con, MUNI, sf, options())
    assert again.api_calls == 0


def test_delete_policy_deletes_leavers(con, standin, sf):
    add_residents(con, 8)
    add_profiles(con, f"resident_key = '{key(1)}'")
    sync_municipality(con, MUNI, sf, options(deletion_policy="delete"))
    con.execute("UPDATE resident_file SET status = 'moved_out' WHERE resident_key = ?", [key(1)])
    con.execute("DELETE FROM resident_file WHERE resident_key = ?", [key(3)])
    con.execute("INSERT INTO identity_merges VALUES (?, ?, now())", [key(3), key(0)])
    report = sync_municipality(con, MUNI, sf, options(deletion_policy="delete"))
    assert set(live(standin, "Account")) == {key(i) for i in (0, 2, 4, 5, 6, 7)}
    assert live(standin, "Emergency_Profile__c") == {}
    assert report.counts("Account").deleted == 2 and report.counts("Emergency_Profile__c").deleted == 1
    deleted = [r for r in standin.records("Account", include_deleted=True) if r["IsDeleted"]]
    assert {r["Resident_Key__c"] for r in deleted} == {key(1), key(3)}
    # the resident comes back: a new record is created
    con.execute("UPDATE resident_file SET status = 'active' WHERE resident_key = ?", [key(1)])
    back = sync_municipality(con, MUNI, sf, options(deletion_policy="delete"))
    assert back.counts("Account").created == 1 and key(1) in live(standin, "Account")


def test_dry_run_calls_nothing_and_predicts_the_real_run(con, standin, sf):
    add_residents(con, 40)
    sync_municipality(con, MUNI, sf, options())
    con.execute("UPDATE resident_file SET phone = '+97235551234' WHERE resident_key < ?", [key(5)])
    add_residents(con, 3, start=100)
    con.execute("UPDATE resident_file SET status = 'moved_out' WHERE resident_key = ?", [key(30)])
    usage = standin.api_usage()
    dry = sync_municipality(con, MUNI, None, options(dry_run=True, deletion_policy="delete"))
    assert standin.api_usage() == usage
    c = dry.counts("Account")
    assert (c.created, c.updated, c.deleted, c.unchanged) == (3, 5, 1, 34)
    real = sync_municipality(con, MUNI, sf, options(deletion_policy="delete"))
    r = real.counts("Account")
    assert (r.created, r.updated, r.deleted) == (3, 5, 1)


def test_keys_equal_but_for_case_are_rejected_locally(con, standin, sf):
    add_residents(con, 3)
    con.execute("UPDATE resident_file SET resident_key = lower(resident_key) WHERE resident_key = ?", [key(1)])
    add_residents(con, 1, start=1)   # key(1) again, upper case: Salesforce would see one record
    report = sync_municipality(con, MUNI, sf, options())
    assert {r.code for r in report.rejects} == {"DUPLICATE_EXTERNAL_ID"} and report.counts("Account").rejected == 2
    assert set(live(standin, "Account")) == {key(0), key(2)}


def test_schema_drift_stops_before_writing(tmp_path, con):
    add_residents(con, 5)
    drifted = {"Account.IdNumber__pc": None, "Account.PersonEmail": {"type": "string"},
               "Emergency_Profile__c.Needs__c": {"length": 255}}
    with start_standin(tmp_path / "drift.sqlite", describe_overrides=drifted) as org:
        sf = connect(org.url, session_id=org.session_id)
        with pytest.raises(SchemaDriftError) as err:
            sync_municipality(con, MUNI, sf, options())
        assert org.records("Account") == []
    problems = "\n".join(err.value.problems)
    assert "Account.IdNumber__pc: field missing" in problems
    assert "Account.PersonEmail: is string in the org, the mapping writes email" in problems
    assert "Emergency_Profile__c.Needs__c: holds 255 characters in the org, the mapping allows 1000" in problems
    with start_standin(tmp_path / "noobject.sqlite", describe_overrides={"Emergency_Profile__c": None}) as org:
        with pytest.raises(SchemaDriftError, match="Emergency_Profile__c: object missing"):
            sync_municipality(con, MUNI, connect(org.url, session_id=org.session_id), options())


def test_a_wrong_session_fails_with_its_code(con, standin):
    add_residents(con, 2)
    sf = connect(standin.url, session_id="00DDn00000Toshav!wrong")
    with pytest.raises(SalesforceCallError) as err:
        sync_municipality(con, MUNI, sf, options())
    assert err.value.status == 401 and err.value.code == "INVALID_SESSION_ID"
    assert con.execute("SELECT stopped FROM muniforce_sync_runs").fetchall() == [("failed: SalesforceCallError",)]
