"""The golden record: survivorship rules from the model, provenance per field, status, households."""

import datetime as dt
import json
import shutil

import duckdb
import pytest

from pipelines.identity import build_resident_file, resolve_identities
from schemas.model import table
from tests.identity.deliveries import JABOTINSKY, SOKOLOV, deliver, key_of, register_row, valid_id

pytestmark = pytest.mark.e2e   # crafted deliveries through ingest, staging, identity and the resident file

MOSHE, RIVKA, NEIGHBOUR = valid_id(3933742), valid_id(2233445), valid_id(4455667)
GONE, DEAD, DEAD_IN_YACHAD, NO_CONSENT = valid_id(5566778), valid_id(6677889), valid_id(7788990), valid_id(8899001)
PASSPORT = "AB1234567"


def yachad(record_id, full_name, national_id="", phone="", address="", status="בבית", updated="01/11/2026 10:00"):
    return {"source_record_id": record_id, "national_id": national_id, "full_name": full_name, "phone": phone,
            "address_text": address, "status": status, "updated_at": updated}


@pytest.fixture(scope="module")
def town(reference_db, tmp_path_factory):
    """One small town, resolved and filed once for the module (the tests only read it, the last one re-runs)."""
    folder = tmp_path_factory.mktemp("town")
    shutil.copyfile(reference_db, folder / "municipality.duckdb")
    con = duckdb.connect(str(folder / "municipality.duckdb"))
    deliver(con, folder,
            register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                      register_row(RIVKA, "רבקה", "כהן", "01/03/1982"),
                      register_row(NEIGHBOUR, "דן", "לוי", "05/05/1970", apartment="5"),
                      register_row(DEAD, "חיים", "פרץ", "01/01/1930", house="7", death_date="15/09/2026"),
                      register_row(DEAD_IN_YACHAD, "שמחה", "ביטון", "01/01/1935", house="9"),
                      register_row(NO_CONSENT, "אורה", "דהן", "02/02/1950", house="11"),
                      register_row(PASSPORT, "John", "Smith", "03/03/1990", house="13")],
            ods=[{"id_number": GONE, "first_name": "גד", "last_name": "אלון", "birth_date": "1960-06-06",
                  "source_ministry": "NII", "indicator": "general_disability"}],
            registry=[{"national_id": MOSHE, "first_name": "משה", "last_name": "כהן", "birth_date": "01/02/1980",
                       "street_name": "סוקולוב", "house_number": "5", "apartment": "2", "floor": "3",
                       "phone": "050-5123456", "consent": "כן", "updated_at": "01/09/2026"},
                      {"national_id": NO_CONSENT, "first_name": "אורה", "last_name": "דהן", "birth_date": "02/02/1950",
                       "phone": "050-3333333", "floor": "2", "consent": "לא", "updated_at": "01/09/2026"}],
            yachad=[yachad("Y1", "כהן משה", national_id=MOSHE, phone="052-2222222", updated="15/10/2026 09:00"),
                    yachad("Y2", "ביטון שמחה", national_id=DEAD_IN_YACHAD, status="נפטר")])
    resolve_identities(con)
    build_resident_file(con, 6600, now=dt.datetime(2026, 11, 1))
    yield con
    con.close()


def row(con, national_id):
    cols = table("resident_file").columns
    found = con.execute(f"SELECT {', '.join(cols)} FROM resident_file WHERE national_id = ?", [national_id]).fetchall()
    assert len(found) == 1
    return dict(zip(cols, found[0]))


def test_columns_are_exactly_the_models(town):
    cols = [r[0] for r in town.execute("DESCRIBE resident_file").fetchall()]
    assert cols == table("resident_file").columns


def test_register_wins_identity_and_address_registry_wins_floor_freshest_wins_phone(town):
    r = row(town, MOSHE)
    assert (r["first_name"], r["last_name"], r["birth_date"]) == ("משה", "כהן", dt.date(1980, 2, 1))
    # the register's address, whole: not the registry's Sokolov 5/2
    assert (r["street_code"], r["street_name"], r["house_number"], r["apartment"]) == (JABOTINSKY, "ז'בוטינסקי", "12", "4")
    assert r["floor"] == 3                              # only the disability registry knows the floor
    assert r["mobile_phone"] == "+972522222222"         # Yachad's phone is fresher than the registry's
    assert r["id_type"] == "IsraeliID" and r["status"] == "active"
    assert sorted(r["sources"]) == ["disability_registry", "population_register", "yachad"]
    prov = json.loads(r["provenance"])                   # per survivorship group: its fields came from one record
    assert prov["address"]["source"] == prov["identity"]["source"] == prov["national_id"]["source"] == "population_register"
    assert prov["floor"]["source"] == "disability_registry"
    yachad_row = town.execute("SELECT delivery_id, row FROM identity_records WHERE source = 'yachad' AND record_key = 'Y1'").fetchall()[0]
    assert prov["mobile_phone"] == {"source": "yachad", "record": f"{yachad_row[0]}:{yachad_row[1]}", "as_of": "2026-10-15"}
    assert "phone" not in prov                           # no landline known: no provenance


def test_status_moved_out_deceased_and_passport_holders(town):
    assert row(town, GONE)["status"] == "moved_out"            # known to ODS, gone from the register
    assert row(town, DEAD)["status"] == "deceased" and row(town, DEAD)["death_date"] == dt.date(2026, 9, 15)
    assert row(town, DEAD_IN_YACHAD)["status"] == "deceased"   # Yachad reports נפטר
    p = row(town, PASSPORT)
    assert (p["id_type"], p["status"]) == ("Passport", "active")


def test_households_group_active_residents_by_address_and_apartment(town):
    moshe, rivka, neighbour = row(town, MOSHE), row(town, RIVKA), row(town, NEIGHBOUR)
    assert moshe["household_key"] == rivka["household_key"] is not None
    assert neighbour["household_key"] != moshe["household_key"]
    assert row(town, DEAD)["household_key"] is None and row(town, GONE)["household_key"] is None


def test_registry_record_without_consent_gives_no_values(town):
    r = row(town, NO_CONSENT)
    assert r["mobile_phone"] is None and r["floor"] is None
    assert r["sources"] == ["population_register"]


def test_a_rerun_with_the_same_data_changes_nothing(town):
    before = town.execute("SELECT * FROM resident_file ORDER BY resident_key").fetchall()
    resolve_identities(town)
    counts = build_resident_file(town, 6600, now=dt.datetime(2026, 11, 2))
    assert counts["changed"] == 0
    assert town.execute("SELECT * FROM resident_file ORDER BY resident_key").fetchall() == before
