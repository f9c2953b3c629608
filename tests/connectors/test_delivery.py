"""Deliveries are ingested once by content hash; staging accounts for every row."""

from pathlib import Path

from connectors.delivery import ingest_files
from pipelines.normalize.addresses import load_reference_streets
from pipelines.staging import stage_source
from tests.connectors.test_files import PR_HEADER, ROW, write_csv


def test_same_file_is_not_ingested_twice_and_a_changed_file_is(con, tmp_path):
    path = write_csv(tmp_path / "pr.csv", PR_HEADER, [ROW])
    assert ingest_files(con, "population_register", [path]).files_ingested == 1
    again = ingest_files(con, "population_register", [path])
    assert (again.files_ingested, again.files_already_ingested) == (0, 1)
    write_csv(path, PR_HEADER, [ROW, ROW])
    assert ingest_files(con, "population_register", [path]).rows == 2
    assert con.execute("SELECT count(*) FROM deliveries WHERE status = 'ingested'").fetchone()[0] == 2


def test_a_rejected_delivery_is_logged_without_personal_data_and_the_next_file_is_read(con, tmp_path):
    bad = write_csv(tmp_path / "a_bad.csv", ["שם משפחה"], [["כהן"]])
    good = write_csv(tmp_path / "b_good.csv", PR_HEADER, [ROW])
    report = ingest_files(con, "population_register", [bad, good])
    assert report.files_ingested == 1 and report.rows == 1
    assert [name for name, _ in report.rejected] == ["a_bad.csv"]
    status, problem = con.execute("SELECT status, problem FROM deliveries WHERE file = 'a_bad.csv'").fetchone()
    assert status == "rejected" and "national_id" in problem and "כהן" not in problem
    assert "כהן" not in str(report.metadata())
    # the same rejected bytes are not read again
    again = ingest_files(con, "population_register", [bad])
    assert (again.files_already_ingested, again.rejected) == (1, [])


def test_rows_in_equal_rows_staged_plus_quarantined_per_file(con, tmp_path):
    load_reference_streets(con, 6600)
    bad_date = ROW[:5] + ["31/02/1980"] + ROW[6:]
    no_id = [""] + ROW[1:]
    bad_phone_free = ROW[:13] + ["12"] + ROW[14:]            # bad optional zip: staged, value blanked
    rows = [ROW, bad_date, ["1", "2"], no_id, bad_phone_free]
    path = write_csv(tmp_path / "pr.csv", PR_HEADER, rows)
    ingest_files(con, "population_register", [path])
    report = stage_source(con, "population_register")
    assert report.staged + report.quarantined + report.malformed == len(rows)
    assert (report.staged, report.quarantined, report.malformed) == (2, 2, 1)
    q = con.execute("SELECT row, fields, reasons FROM quarantine ORDER BY row").fetchall()
    assert [(r, f) for r, f, _ in q] == [(3, ["birth_date"]), (4, None), (5, ["national_id"])]
    assert con.execute("SELECT row, field FROM field_issues").fetchall() == [(6, "zip_code")]
    # quarantined rows keep the record as delivered, in the database
    assert con.execute("SELECT record->>'birth_date' FROM quarantine WHERE row = 3").fetchone()[0] == "31/02/1980"
    # re-staging the same delivery does not duplicate its quarantine rows
    stage_source(con, "population_register")
    assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] == 3
