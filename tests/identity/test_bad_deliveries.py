"""One broken file stops nothing else: each bad delivery is rejected as a file (named, with its problem, never a
value) or read with every row staged or quarantined, and the other sources still reach the resident file."""

import csv
import io
from pathlib import Path

import pytest

from connectors.delivery import ingest_files
from connectors.freshness import source_freshness
from pipelines.identity import build_resident_file, resolve_identities
from pipelines.staging import stage_source
from schemas.sources import SOURCES, load_source
from tests.identity.deliveries import _csv, _xlsx, background_register, deliver, register_row, valid_id

PERSON = valid_id(43_000_001)


def _yachad_rows():
    return [{"source_record_id": f"Y{k}", "national_id": valid_id(30_000_000 + 7 * k), "full_name": "לוי אברהם",
             "phone": "050-1234567", "address_text": "סוקולוב 100 דירה 1", "status": "בבית",
             "updated_at": "02/11/2026 08:00"} for k in range(3)]


def _headers(source, drop=()):
    return [(c.field, c.headers[0]) for c in load_source(source).columns if c.field not in drop]


def _write(path: Path, header, rows, encoding) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def empty(d):
    (d / "yachad.csv").write_bytes(b"")
    return "yachad", d / "yachad.csv", "rejected"


def header_only(d):
    return "yachad", _csv(d / "yachad.csv", "yachad", [], encoding="utf-8-sig"), "rejected"


def truncated_xlsx(d):
    good = _xlsx(d / "full.xlsx", [{"national_id": PERSON, "first_name": "נועה", "last_name": "לוי", "consent": "כן"}])
    data = good.read_bytes()
    good.unlink()
    (d / "registry.xlsx").write_bytes(data[: len(data) // 2])
    return "disability_registry", d / "registry.xlsx", "rejected"


def not_a_zip(d):
    (d / "registry.xlsx").write_text("מספר זהות,שם פרטי\n123,נועה\n", encoding="utf-8")
    return "disability_registry", d / "registry.xlsx", "rejected"


def utf16(d):
    rows = [register_row(PERSON, "נועה", "לוי", "01/02/1960")]
    return "population_register", _csv(d / "register.csv", "population_register", rows, encoding="utf-16"), "read"


def nul_bytes(d):
    rows = _yachad_rows()
    rows[1]["full_name"] = "לוי\x00אברהם"
    return "yachad", _csv(d / "yachad.csv", "yachad", rows, encoding="utf-8-sig"), "read"


def missing_id_column(d):
    cols = _headers("population_register", drop=("national_id",))
    row = register_row(PERSON, "נועה", "לוי", "01/02/1960")
    return ("population_register", _write(d / "register.csv", [h for _, h in cols], [[row.get(f, "") for f, _ in cols]],
                                          "cp1255"), "rejected")


def long_name(d):
    rows = [register_row(PERSON, "נ" * 10_000, "לוי", "01/02/1960"), register_row(valid_id(43_000_002), "דן", "לוי", "01/02/1961")]
    return "population_register", _csv(d / "register.csv", "population_register", rows, encoding="utf-8-sig"), "read"


def extra_column_and_line_breaks(d):
    cols = _headers("yachad")
    rows = [[r.get(f, "") for f, _ in cols] + [note] for r, note in zip(_yachad_rows(), ["שורה\nשנייה", "", "א\r\nב"])]
    return "yachad", _write(d / "yachad.csv", [h for _, h in cols] + ["הערות"], rows, "utf-8-sig"), "read"


BAD = [empty, header_only, truncated_xlsx, not_a_zip, utf16, nul_bytes, missing_id_column, long_name,
       extra_column_and_line_breaks]


@pytest.mark.parametrize("make", BAD, ids=[f.__name__ for f in BAD])
def test_a_bad_delivery_stops_nothing_else(con, tmp_path, make):
    # a first good delivery of every source (the register's background population, Yachad tracking three of them)
    deliver(con, tmp_path / "good", register=background_register(60), yachad=_yachad_rows(),
            registry=[{"national_id": valid_id(30_000_000), "first_name": "אברהם", "last_name": "לוי",
                       "consent": "כן", "updated_at": "01/10/2026"}])
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    source, path, expected = make(bad_dir)
    report = ingest_files(con, source, [path])          # never raises for a bad file
    if expected == "rejected":
        assert [name for name, _ in report.rejected] == [path.name]
        problem = report.rejected[0][1]
        assert "נועה" not in problem and PERSON not in problem
        (f,) = source_freshness(con, sources=(source,))
        assert f.rejected and f.file is not None       # the source keeps its last good delivery
        assert any(path.name in p for p in f.problems())
    else:
        assert report.rejected == [] and report.files_ingested == 1
    for s in SOURCES:
        stage_source(con, s)
    # rows in = staged + quarantined, for every file read
    for delivery_id, s, rows, malformed in con.execute(
            "SELECT delivery_id, source, rows, malformed FROM deliveries WHERE status = 'ingested'").fetchall():
        staged = con.execute(f"SELECT count(*) FROM stg_{s} WHERE delivery_id = ?", [delivery_id]).fetchall()[0][0]
        latest = con.execute("SELECT max(delivery_id) FROM deliveries WHERE source = ? AND status = 'ingested'",
                             [s]).fetchall()[0][0]
        if delivery_id != latest:
            continue                                    # staging works from a source's latest delivery
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE delivery_id = ?", [delivery_id]).fetchall()[0][0]
        assert rows + malformed == staged + quarantined, (s, delivery_id)
    # the other sources (and the broken one's last good delivery) reach the resident file
    resolve_identities(con)
    build_resident_file(con, 6600)
    sources = {s for (s,) in con.execute("SELECT DISTINCT unnest(sources) FROM resident_file").fetchall()}
    assert {"population_register", "yachad", "disability_registry"} <= sources
    register_people = con.execute("SELECT count(*) FROM stg_population_register").fetchall()[0][0]
    assert register_people >= 1
    assert con.execute("SELECT count(*) FROM resident_file").fetchall()[0][0] >= register_people
