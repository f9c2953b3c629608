"""resident_file_history keeps every version of a resident's values: where did this person live last month?"""

import datetime as dt

from pipelines.identity import build_resident_file, resolve_identities, update_history
from tests.identity.deliveries import SOKOLOV, deliver, key_of, register_row, valid_id
import pytest

pytestmark = pytest.mark.e2e   # crafted deliveries through ingest, staging, identity and the history, over several runs

MOSHE, RIVKA = valid_id(3933742), valid_id(2233445)
OCT, NOV, DEC = dt.datetime(2026, 10, 1), dt.datetime(2026, 11, 1), dt.datetime(2026, 12, 1)


def run(con, folder, register, tag, now):
    deliver(con, folder / tag, register=register, tag=tag)
    resolve_identities(con, now=now)
    build_resident_file(con, 6600, now=now)
    return update_history(con, now=now)


def lived_at(con, key, when):
    return con.execute("""
        SELECT street_code, house_number, apartment FROM resident_file_history
        WHERE resident_key = ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)""", [key, when, when]).fetchall()


def test_a_move_makes_a_new_version_and_the_old_address_stays_answerable(con, tmp_path):
    first = run(con, tmp_path, [register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                                register_row(RIVKA, "רבקה", "לוי", "01/03/1982")], "1", OCT)
    assert (first["new_versions"], first["closed"], first["open"]) == (2, 0, 2)
    moshe = key_of(con, "population_register", MOSHE)
    # November: Moshe moved to Sokolov 5/2; Rivka's record is re-delivered unchanged (only the update date differs)
    second = run(con, tmp_path, [register_row(MOSHE, "משה", "כהן", "01/02/1980", street=SOKOLOV, house="5", apartment="2",
                                              updated_at="01/11/2026"),
                                 register_row(RIVKA, "רבקה", "לוי", "01/03/1982", updated_at="01/11/2026")], "2", NOV)
    assert (second["new_versions"], second["closed"], second["open"]) == (1, 1, 2)
    versions = con.execute("""SELECT valid_from, valid_to, street_code FROM resident_file_history
                              WHERE resident_key = ? ORDER BY valid_from""", [moshe]).fetchall()
    assert versions == [(OCT, NOV, 416), (NOV, None, SOKOLOV)]
    assert lived_at(con, moshe, dt.datetime(2026, 10, 15)) == [(416, "12", "4")]
    assert lived_at(con, moshe, dt.datetime(2026, 11, 15)) == [(SOKOLOV, "5", "2")]
    assert con.execute("SELECT updated_at FROM resident_file WHERE resident_key = ?", [moshe]).fetchall() == [(NOV,)]
    rivka = key_of(con, "population_register", RIVKA)
    assert con.execute("SELECT updated_at FROM resident_file WHERE resident_key = ?", [rivka]).fetchall() == [(OCT,)]
    # December: Rivka is in no source any more; her last version is closed, nothing is deleted
    third = run(con, tmp_path, [register_row(MOSHE, "משה", "כהן", "01/02/1980", street=SOKOLOV, house="5", apartment="2",
                                             updated_at="01/12/2026")], "3", DEC)
    assert (third["new_versions"], third["closed"], third["open"]) == (0, 1, 1)
    assert con.execute("SELECT valid_from, valid_to FROM resident_file_history WHERE resident_key = ?",
                       [rivka]).fetchall() == [(OCT, DEC)]
