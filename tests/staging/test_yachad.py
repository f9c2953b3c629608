"""Yachad: one full-name field, IDs with a dash, needs in free text, statuses in Hebrew."""

from connectors.delivery import ingest_files
from pipelines.normalize.addresses import load_reference_streets
from pipelines.staging import stage_source
from schemas.sources import load_source
from tests.connectors.test_files import PR_HEADER, ROW, write_csv

YACHAD_HEADER = [c.headers[0] for c in load_source("yachad").columns]


def register_row(last, first):
    return ROW[:1] + [last, first] + ROW[3:]


def test_yachad_staging(con, tmp_path):
    load_reference_streets(con, 6600)
    # the register teaches which words are last names and which are first names
    reg = [register_row("כהן", "משה"), register_row("לוי", "רחל"), register_row("כהן", "דוד"), register_row("מזרחי", "משה")]
    ingest_files(con, "population_register", [write_csv(tmp_path / "pr.csv", PR_HEADER, reg)])
    stage_source(con, "population_register")
    rows = [
        ["Y1", "03933742-3", "כהן משה", "050-2345678", "רח' ז'בוטינסקי 12 דירה 4, חולון", "מפונה", "מלון דן", "כיסא גלגלים; חמצן", "2", "01/11/2026 14:35"],
        ["Y2", "", "רחל לוי", "+972523456789", "סוקולב 5/3", "לא אותר", "", "זקוק לתרופות ולכיסא גלגלים", "1", "02/11/2026 09:00"],
        ["Y3", "039337424", "מזרחי", "", "", "סטטוס מוזר", "", "", "", ""],
    ]
    ingest_files(con, "yachad", [write_csv(tmp_path / "y.csv", YACHAD_HEADER, rows, encoding="utf-8-sig")])
    report = stage_source(con, "yachad")
    assert (report.staged, report.quarantined) == (3, 0)
    got = {r[0]: r[1:] for r in con.execute("""
        SELECT source_record_id, national_id, national_id_valid, first_name, last_name, name_order, status,
               needs_codes, street_code, house_number, apartment
        FROM stg_yachad""").fetchall()}
    zhabo = con.execute("SELECT street_code FROM ref_streets WHERE street_name = 'ז''בוטינסקי'").fetchone()[0]
    sokolov = con.execute("SELECT street_code FROM ref_streets WHERE street_name = 'סוקולוב'").fetchone()[0]
    assert got["Y1"] == ("039337423", True, "משה", "כהן", "last_first", "evacuated", ["OXYGEN", "WHEELCHAIR"], zhabo, "12", "4")
    assert got["Y2"][2:9] == ("רחל", "לוי", "first_last", "not_located", ["MEDICATION", "WHEELCHAIR"], sokolov, "5")
    assert got["Y2"][9] == "3"
    assert got["Y3"][:2] == ("039337424", False)              # invalid ID kept as evidence
    assert got["Y3"][5] is None                                # unknown status: blanked, not guessed
    issues = con.execute("SELECT field, reason FROM field_issues WHERE source = 'yachad'").fetchall()
    assert ("status", "value not in the allowed list") not in issues  # status is free text mapped, not a closed list
