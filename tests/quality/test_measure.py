"""Suites run on a crafted municipality database: SQL measures, Great Expectations judges, results are kept.
Each test breaks the data in a known way and expects exactly those checks to fail, with the right counts."""

import json

import duckdb

from quality.gx_validation import validate
from quality.measure import Measurement
from quality.results import accept_latest_counts, latest_results
from quality.runner import run_suite
from quality.suites import suites
from tests.quality.conftest import MUNI, add_profiles, add_residents

MODEL_SUITES = ("resident_file", "muniforce_payload_account", "emergency_profile", "muniforce_payload_emergency_profile")


def run(con, name, run_id="run-1"):
    return {o.expectation.name: o for o in run_suite(con, suites()[name], MUNI, run_id)}


def failed(outcomes):
    return {n for n, o in outcomes.items() if not o.passed}


def unconstrained(con, table):
    """The table without its PRIMARY KEY, so that a test can duplicate a key."""
    con.execute(f"CREATE TABLE _{table} AS SELECT * FROM {table}; DROP TABLE {table}; ALTER TABLE _{table} RENAME TO {table}")


def test_clean_data_passes_every_check(con):
    add_residents(con, 200)
    add_profiles(con, "floor > 6")
    for name in MODEL_SUITES:
        outcomes = run(con, name)
        assert not failed(outcomes), (name, failed(outcomes))
        assert all(o.measurement.error is None for o in outcomes.values())
    assert run(con, "resident_file")["status_in_set"].measurement.elements == 200


def test_each_broken_rule_fails_its_own_check_with_counts(con):
    add_residents(con, 200)
    unconstrained(con, "resident_file")
    con.execute("UPDATE resident_file SET status = 'gone' WHERE resident_key IN ('R00000001', 'R00000002')")
    con.execute("UPDATE resident_file SET mobile_phone = '050-1234567' WHERE resident_key = 'R00000003'")
    con.execute("UPDATE resident_file SET national_id = '123456789' WHERE resident_key = 'R00000004'")   # bad check digit
    con.execute("UPDATE resident_file SET municipality_code = 5000 WHERE resident_key = 'R00000005'")
    con.execute("INSERT INTO resident_file SELECT * FROM resident_file WHERE resident_key = 'R00000006'")
    outcomes = run(con, "resident_file")
    assert failed(outcomes) == {"status_in_set", "mobile_phone_e164", "national_id_israeli_id", "municipality_code_cbs_code",
                                "resident_key_unique"}
    status = outcomes["status_in_set"]
    assert (status.measurement.unexpected, status.measurement.elements) == (2, 201)
    assert status.measurement.samples == ["gone"] and status.measurement.samples_of == "values of status"
    assert outcomes["resident_key_unique"].measurement.unexpected == 1
    assert outcomes["resident_key_unique"].measurement.samples == ["R00000006"]       # the key is public
    # personal fields: the failing rows are named by their key, the values are not shown
    phone = outcomes["mobile_phone_e164"].measurement
    assert phone.samples == ["R00000003"] and phone.samples_of == "rows (resident_key)"
    assert outcomes["national_id_israeli_id"].measurement.samples == ["R00000004"]


def test_schema_check_names_missing_and_mistyped_columns(con):
    add_residents(con, 20)
    con.execute("ALTER TABLE resident_file DROP COLUMN household_key")
    con.execute("ALTER TABLE resident_file ALTER floor TYPE VARCHAR")
    outcome = run(con, "resident_file")["schema"]
    assert not outcome.passed
    assert sorted(outcome.measurement.samples) == ["floor: VARCHAR, expected INTEGER", "household_key: missing"]


def test_shares_are_judged_against_their_threshold(con):
    add_residents(con, 200)
    con.execute("UPDATE resident_file SET national_id = NULL, id_type = 'Unknown' WHERE resident_key < 'R00000006'")
    share = run(con, "resident_file")["residents_with_valid_id_share"]     # 6 of 200 = 3% <= 5%
    assert share.passed and share.measurement.unexpected == 6
    con.execute("UPDATE resident_file SET national_id = NULL, id_type = 'Unknown' WHERE resident_key < 'R00000030'")
    share = run(con, "resident_file", "run-2")["residents_with_valid_id_share"]
    assert not share.passed and share.measurement.unexpected == 30 and share.expectation.blocking


def test_emergency_profiles_need_consent_or_a_statutory_source(con):
    add_residents(con, 50)
    add_profiles(con, "floor > 4")
    assert not failed(run(con, "emergency_profile"))
    con.execute("UPDATE emergency_profile SET consent_status = 'withdrawn' WHERE resident_key = 'R00000005'")
    con.execute("""UPDATE emergency_profile SET legal_basis = 'statutory', consent_status = 'none',
                   statutory_sources = ['NII'] WHERE resident_key = 'R00000006'""")           # lawful
    con.execute("""UPDATE emergency_profile SET legal_basis = 'statutory', consent_status = 'none'
                   WHERE resident_key = 'R00000007'""")                                       # no source: not lawful
    con.execute("UPDATE emergency_profile SET resident_key = 'R99999999' WHERE resident_key = 'R00000008'")
    outcomes = run(con, "emergency_profile", "run-2")
    assert failed(outcomes) == {"consent_or_statutory", "profile_has_resident"}
    assert outcomes["consent_or_statutory"].measurement.samples == ["R00000005", "R00000007"]
    assert outcomes["profile_has_resident"].measurement.samples == ["R99999999"]


def test_row_count_drift_compares_with_the_last_accepted_run(con):
    add_residents(con, 200)
    first = run(con, "resident_file", "run-1")["row_count_drift"]
    assert first.passed and "baseline" in first.measurement.note
    con.execute("DELETE FROM resident_file WHERE resident_key >= 'R00000100'")
    second = run(con, "resident_file", "run-2")["row_count_drift"]
    assert not second.passed and second.measurement.observed == 0.5 and second.measurement.unexpected == 100
    # the drop is not silently accepted by having happened once
    assert not run(con, "resident_file", "run-3")["row_count_drift"].passed
    assert ("resident_file", 100, False) in accept_latest_counts(con)
    assert run(con, "resident_file", "run-4")["row_count_drift"].passed
    # a small drop stays within the threshold (10%)
    con.execute("DELETE FROM resident_file WHERE resident_key >= 'R00000095'")
    assert run(con, "resident_file", "run-5")["row_count_drift"].passed


def test_payload_checks_judge_what_the_sync_would_send(con):
    add_residents(con, 200)
    add_profiles(con, "floor > 6")
    con.execute("UPDATE resident_file SET last_name = repeat('ש', 81) WHERE resident_key < 'R00000020'")
    con.execute("UPDATE resident_file SET email = 'not-an-email' WHERE resident_key < 'R00000003'")
    outcomes = run(con, "muniforce_payload_account")
    assert failed(outcomes) == {"payload_account_lastname_length", "payload_account_personemail_email"}
    assert outcomes["payload_account_lastname_length"].measurement.unexpected == 20
    assert outcomes["payload_account_lastname_length"].expectation.blocking
    assert outcomes["payload_account_personemail_email"].expectation.severity == "WARN"


def test_no_personal_value_leaves_the_database(con):
    add_residents(con, 200)
    add_profiles(con, "floor > 6")
    unconstrained(con, "resident_file")
    long_name = "ירושלמיפרידמן" * 7
    con.execute(f"UPDATE resident_file SET last_name = '{long_name}' WHERE resident_key < 'R00000050'")
    con.execute("UPDATE resident_file SET national_id = '123456789', mobile_phone = '0501234567' WHERE resident_key < 'R00000010'")
    con.execute("UPDATE resident_file SET email = 'broken.address' WHERE resident_key < 'R00000030'")
    con.execute("INSERT INTO resident_file SELECT * FROM resident_file WHERE resident_key = 'R00000001'")
    con.execute("UPDATE emergency_profile SET emergency_contact_phone = 'טלפון-שבור-77', consent_status = 'withdrawn'")
    metadata = []
    for name in MODEL_SUITES:
        metadata += [o.metadata() for o in run_suite(con, suites()[name], MUNI, "run-1")]
    shown = json.dumps(metadata, ensure_ascii=False) + json.dumps(latest_results(con), ensure_ascii=False, default=str)
    assert '"samples"' in shown                       # samples are shown ...
    personal = con.execute("""
        SELECT DISTINCT v FROM (
            SELECT unnest([national_id, first_name, last_name, mobile_phone, email, street_name]) AS v FROM resident_file
            UNION ALL SELECT unnest([emergency_contact_name, emergency_contact_phone]) FROM emergency_profile)
        WHERE v IS NOT NULL""").fetchall()
    leaked = [v for (v,) in personal if v in shown]
    assert not leaked, f"{len(leaked)} personal values appear in check metadata"   # ... but never a personal value


def test_a_missing_table_fails_its_checks_without_raising(con):
    outcomes = run(con, "emergency_profile")
    assert all(not o.passed for o in outcomes.values())
    assert "does not exist" in outcomes["consent_or_statutory"].measurement.error
    payload = run(con, "muniforce_payload_emergency_profile")
    assert all(not o.passed and "could not be built" in o.measurement.error for o in payload.values())


def test_great_expectations_is_the_judge():
    suite = suites()["stg_population_register"]
    ms = {e.name: Measurement(e.name, elements=100, unexpected=0, observed=0.0) for e in suite.expectations}
    ms["invalid_id_share"] = Measurement("invalid_id_share", elements=100, unexpected=2, observed=0.02)    # > 1%
    ms["quarantine_share"] = Measurement("quarantine_share", elements=100, unexpected=2, observed=0.02)    # <= 2%
    ms["row_count_drift"] = Measurement("row_count_drift", elements=70, observed=0.7)                     # dropped 30%
    ms["schema"] = Measurement("schema", error="table stg_population_register does not exist")
    verdicts = validate(suite, ms)
    assert {n for n, ok in verdicts.items() if not ok} == {"invalid_id_share", "row_count_drift", "schema"}


def test_results_are_kept_per_run_and_the_latest_is_reported(tmp_path):
    path = tmp_path / "m.duckdb"
    with duckdb.connect(str(path)) as con:
        add_residents(con, 30)
        run(con, "resident_file", "run-1")
        con.execute("UPDATE resident_file SET status = 'gone' WHERE resident_key = 'R00000001'")
        run(con, "resident_file", "run-2")
        assert con.execute("SELECT count(DISTINCT run_id) FROM quality_results").fetchone()[0] == 2
    with duckdb.connect(str(path), read_only=True) as ro:
        latest = [r for r in latest_results(ro) if r["suite"] == "resident_file"]
    assert {r["run_id"] for r in latest} == {"run-2"}
    assert [r["check_name"] for r in latest if not r["passed"]] == ["status_in_set"]
