"""A generated municipality of 3,000 residents with the default dirt, through the real connectors and staging:
the quality targets of identity resolution, `toshav evaluate`, and keys that survive a grown, changed delivery."""

import csv
import io
import json
import shutil

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from connectors.delivery import delivery_files, ingest_files
from pipelines.cli import _load_commands, app
from pipelines.identity import build_emergency_profile, build_resident_file, evaluate, resolve_identities, update_history
from pipelines.sample_data import generate
from pipelines.settings import municipality_db_path
from pipelines.staging import stage_source
from schemas.sources import SOURCES
from tests.identity.deliveries import MUNI, keys_by_record

pytestmark = pytest.mark.e2e   # a generated municipality through ingest, staging and identity

RESIDENTS, SEED = 3000, 5


def stage_inbox(con, inbox):
    for source in SOURCES:
        ingest_files(con, source, delivery_files(inbox / str(MUNI) / source))
        stage_source(con, source)


def build_all(con):
    report = resolve_identities(con)
    build_resident_file(con, MUNI)
    update_history(con)
    build_emergency_profile(con, MUNI)
    return report


@pytest.fixture(scope="module")
def town(tmp_path_factory, reference_db):
    out = tmp_path_factory.mktemp("generated")
    generate(MUNI, RESIDENTS, out / "data", seed=SEED)
    db = municipality_db_path(MUNI, out / "home")
    db.parent.mkdir(parents=True)
    shutil.copyfile(reference_db, db)
    con = duckdb.connect(str(db))
    stage_inbox(con, out / "data" / "inbox")
    build_all(con)
    con.execute("CHECKPOINT")
    yield con, out
    con.close()


def test_merge_precision_recall_and_field_accuracy_meet_the_targets(town):
    con, out = town
    ev = evaluate(con, out / "data" / "truth", MUNI)
    assert ev.records_matched_to_truth == ev.records > RESIDENTS
    assert ev.true_pairs > 500                       # the sources overlap: there is something to merge
    assert ev.precision >= 0.999 and ev.recall >= 0.99
    assert ev.different_valid_ids_merged == 0
    assert ev.residents_compared > 0.95 * RESIDENTS
    assert all(v >= 0.99 for v in ev.field_accuracy.values()), ev.field_accuracy


def test_twins_in_the_generated_town_keep_their_own_keys(town):
    con, out = town
    persons = pq.read_table(out / "data" / "truth" / str(MUNI) / "persons.parquet", columns=["person_id", "twin_of"])
    records = pq.read_table(out / "data" / "truth" / str(MUNI) / "records.parquet", columns=["source", "file", "row", "person_id"])
    con.register("_persons", persons)
    con.register("_truth_records", records)
    twins_merged, twins = con.execute("""
        WITH key_of AS (SELECT t.person_id, any_value(x.resident_key) AS resident_key
                        FROM _truth_records t JOIN identity_record_rows x
                          ON x.source = t.source AND x.file = t.file AND x.row = t.row GROUP BY 1)
        SELECT count(*) FILTER (WHERE a.resident_key = b.resident_key), count(*)
        FROM _persons p JOIN key_of a ON a.person_id = p.person_id JOIN key_of b ON b.person_id = p.twin_of
        WHERE p.twin_of IS NOT NULL""").fetchall()[0]
    assert twins > 0 and twins_merged == 0


def test_toshav_evaluate_prints_the_figures_and_no_personal_value(town):
    con, out = town
    con.execute("CHECKPOINT")
    _load_commands()
    names = pq.read_table(out / "data" / "truth" / str(MUNI) / "persons.parquet", columns=["last_name", "national_id"])
    result = CliRunner().invoke(app, ["evaluate", "-m", str(MUNI), "--home", str(out / "home"),
                                      "--truth", str(out / "data" / "truth"), "--strict"])
    assert result.exit_code == 0, result.output
    for measure in ("merge precision", "merge recall", "accuracy: address", "different valid IDs merged"):
        assert measure in result.output
    shown = set(result.output.split())
    assert not shown & set(names.column("last_name").to_pylist()[:500])
    assert not shown & set(names.column("national_id").to_pylist())


def _csv_rows(path, encoding):
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


def _write_csv(path, rows, encoding):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))


def test_keys_survive_a_delivery_with_ten_percent_new_and_five_percent_changed_records(town, tmp_path):
    con, out = town
    con.execute("CHECKPOINT")
    db = tmp_path / "grown.duckdb"
    shutil.copyfile(municipality_db_path(MUNI, out / "home"), db)
    grown = duckdb.connect(str(db))
    before = keys_by_record(grown)
    first_keys = {k for (k,) in grown.execute("SELECT resident_key FROM identity_keys").fetchall()}

    # New persons: another generated town's register and ODS rows (IDs not already known here).
    other = tmp_path / "other"
    generate(MUNI, RESIDENTS // 9, other, seed=SEED + 1)
    inbox = out / "data" / "inbox" / str(MUNI)
    reg_file = next((inbox / "population_register").iterdir())
    register = _csv_rows(reg_file, "cp1255")
    header, rows = register[0], register[1:]
    known = {r[0].zfill(9) for r in rows}
    new_rows = [r for r in _csv_rows(next((other / "inbox" / str(MUNI) / "population_register").iterdir()), "cp1255")[1:]
                if r[0].zfill(9) not in known]
    assert len(new_rows) >= 0.1 * len(rows)
    new_rows = new_rows[: int(0.1 * len(rows)) + 1]
    # Changed: every 20th resident moved to another apartment in the same building.
    apartment = header.index("דירה")
    changed = 0
    for i, r in enumerate(rows):
        if i % 20 == 0:
            r[apartment] = str((int(r[apartment]) if r[apartment].isdigit() else 0) + 50)
            changed += 1
    assert changed >= 0.05 * len(rows)
    delivery = tmp_path / "inbox" / str(MUNI)
    (delivery / "population_register").mkdir(parents=True)
    _write_csv(delivery / "population_register" / "population_register_next.csv", [header, *rows, *new_rows], "cp1255")
    new_ids = {r[0].zfill(9) for r in new_rows}
    ods_lines = next((inbox / "ods").iterdir()).read_text(encoding="utf-8").splitlines()
    ods_lines += [line for line in next((other / "inbox" / str(MUNI) / "ods").iterdir()).read_text(encoding="utf-8").splitlines()
                  if json.loads(line)["id_number"].zfill(9) in new_ids]
    (delivery / "ods").mkdir()
    (delivery / "ods" / "ods_next.jsonl").write_text("\n".join(ods_lines) + "\n", encoding="utf-8")
    for source in ("population_register", "ods"):
        ingest_files(grown, source, delivery_files(delivery / source))
        stage_source(grown, source)
    stage_source(grown, "yachad")          # Yachad's name order is learnt from the (new) register

    report = build_all(grown)
    after = keys_by_record(grown)
    still_there = {r: k for r, k in before.items()
                   if grown.execute("SELECT count(*) FROM identity_records WHERE source = ? AND record_key = ?",
                                    list(r)).fetchall()[0][0]}
    assert len(still_there) == len(before)
    changed_keys = [r for r in still_there if after[r] != before[r]]
    assert changed_keys == []
    assert report.merges == 0 and report.new_keys >= len(new_rows) * 0.95
    assert grown.execute("SELECT count(*) FROM identity_merges").fetchall()[0][0] == 0
    live = {k for (k,) in grown.execute("SELECT resident_key FROM resident_file").fetchall()}
    assert len(first_keys - live) < 0.01 * len(first_keys)     # only persons whose records all left
    # the moves are in the history: a second version for (about) every changed resident
    moved = grown.execute("""SELECT count(*) FROM (SELECT resident_key FROM resident_file_history
                                                   GROUP BY 1 HAVING count(*) = 2)""").fetchall()[0][0]
    assert moved >= 0.95 * changed
    grown.close()
