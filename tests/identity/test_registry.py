"""Resident keys: opaque, stable across runs, merges keep the older key and are recorded for the sync."""

import datetime as dt
import re

from pipelines.identity import resolve_identities
from tests.identity.deliveries import background_register, deliver, key_of, keys_by_record, register_row, valid_id
import pytest

pytestmark = pytest.mark.e2e   # crafted deliveries through ingest, staging, identity and the resident file, over several runs

MOSHE, RACHEL = valid_id(3933742), valid_id(5512345)
T1, T2, T3 = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2), dt.datetime(2026, 11, 3)


def yachad(record_id, full_name, national_id="", phone="", address=""):
    return {"source_record_id": record_id, "national_id": national_id, "full_name": full_name, "phone": phone,
            "address_text": address, "status": "בבית", "updated_at": "01/11/2026 10:00"}


def test_keys_are_opaque_and_a_rerun_keeps_every_key(con, tmp_path):
    deliver(con, tmp_path, register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                                     register_row(RACHEL, "רחל", "לוי", "03/04/1975"), *background_register(50)],
            yachad=[yachad("Y1", "גולדברג שמעון", phone="054-7654321", address="סוקולוב 5 דירה 2")])
    first = resolve_identities(con, now=T1)
    keys = keys_by_record(con)
    assert first.new_keys == 53 and first.kept_keys == 0
    for key in keys.values():
        assert re.fullmatch(r"R[0-9A-F]{20}", key)
        assert MOSHE not in key and RACHEL not in key
    second = resolve_identities(con, now=T2)
    assert keys_by_record(con) == keys
    assert second.new_keys == 0 and second.kept_keys == 53 and second.merges == 0
    assert con.execute("SELECT count(*) FROM identity_merges").fetchall()[0][0] == 0
    issued = con.execute("SELECT count(*), min(issued_at), max(issued_at) FROM identity_keys").fetchall()[0]
    assert issued == (53, T1, T1)


def test_a_merge_keeps_the_older_key_and_records_the_retired_one(con, tmp_path):
    deliver(con, tmp_path / "1", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"), *background_register(50)])
    resolve_identities(con, now=T1)
    older = key_of(con, "population_register", MOSHE)
    # Run 2: Yachad tracks someone under a nickname at another address: not recognisable, a new person.
    deliver(con, tmp_path / "2", yachad=[yachad("Y7", "כהן מושיקו", phone="050-9998877", address="סוקולוב 9 דירה 1")],
            tag="2")
    resolve_identities(con, now=T2)
    younger = key_of(con, "yachad", "Y7")
    assert younger != older
    # Run 3: Yachad now carries the ID: the same person. The older key survives, the younger is retired.
    deliver(con, tmp_path / "3", yachad=[yachad("Y7", "כהן מושיקו", national_id=MOSHE, phone="050-9998877",
                                                address="סוקולוב 9 דירה 1")], tag="3")
    report = resolve_identities(con, now=T3)
    assert report.merges == 1
    assert key_of(con, "yachad", "Y7") == key_of(con, "population_register", MOSHE) == older
    assert con.execute("SELECT retired_key, surviving_key, merged_at FROM identity_merges").fetchall() == [(younger, older, T3)]
    assert con.execute("SELECT retired_at, surviving_key FROM identity_keys WHERE resident_key = ?",
                       [younger]).fetchall() == [(T3, older)]
    assert keys_by_record(con)[("yachad", "Y7")] == older


def test_a_record_that_leaves_for_a_run_comes_back_with_its_key(con, tmp_path):
    deliver(con, tmp_path / "1", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                                           register_row(RACHEL, "רחל", "לוי", "03/04/1975")])
    resolve_identities(con, now=T1)
    rachel = key_of(con, "population_register", RACHEL)
    deliver(con, tmp_path / "2", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980")], tag="2")
    resolve_identities(con, now=T2)
    assert con.execute("SELECT count(*) FROM identity_records WHERE resident_key = ?", [rachel]).fetchall()[0][0] == 0
    deliver(con, tmp_path / "3", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980", updated_at="01/12/2026"),
                                           register_row(RACHEL, "רחל", "לוי", "03/04/1975", updated_at="01/12/2026")],
            tag="3")
    report = resolve_identities(con, now=T3)
    assert key_of(con, "population_register", RACHEL) == rachel and report.new_keys == 0


def test_a_split_gives_the_key_to_the_record_holding_the_id(con, tmp_path):
    # Run 1: a Yachad record carries Moshe's ID by mistake (it is Rachel's record), so it shares Moshe's key.
    deliver(con, tmp_path / "1", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980")],
            yachad=[yachad("Y3", "לוי רחל", national_id=MOSHE)])
    resolve_identities(con, now=T1)
    moshe = key_of(con, "population_register", MOSHE)
    assert key_of(con, "yachad", "Y3") == moshe
    # Run 2: corrected to Rachel's ID; Rachel is in the register now. Moshe keeps his key, Y3 goes to Rachel.
    deliver(con, tmp_path / "2", register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                                           register_row(RACHEL, "רחל", "לוי", "03/04/1975")],
            yachad=[yachad("Y3", "לוי רחל", national_id=RACHEL)], tag="2")
    report = resolve_identities(con, now=T2)
    assert key_of(con, "population_register", MOSHE) == moshe
    assert key_of(con, "yachad", "Y3") == key_of(con, "population_register", RACHEL) != moshe
    assert report.splits == 1 and report.merges == 0
