"""Who is who: a valid ID decides, twins stay apart, typos are linked or flagged, Hebrew compared by letters."""

import datetime as dt

import pytest
from stdnum.il import idnr

from pipelines.identity import resolve_identities
from tests.identity.deliveries import (FIRST_NAMES, LAST_NAMES, SOKOLOV, background_register, bad_check_digit, deliver,
                                      key_of, register_row, valid_id)

pytestmark = pytest.mark.e2e   # crafted deliveries through ingest, staging, identity and the resident file

MOSHE = valid_id(3933742)          # 039337423: starts with 0, so sources drop the leading zero
TWIN_A, TWIN_B = valid_id(21000011), valid_id(21000029)
OTHER = valid_id(5512345)


def yachad_row(record_id, full_name, national_id="", phone="", address="", status="בבית", **extra):
    return {"source_record_id": record_id, "national_id": national_id, "full_name": full_name, "phone": phone,
            "address_text": address, "status": status, "updated_at": "01/11/2026 10:00", **extra}


def ods_row(national_id, first, last, birth, indicator="blind", ministry="WELFARE"):
    return {"id_number": national_id, "first_name": first, "last_name": last, "birth_date": birth,
            "source_ministry": ministry, "indicator": indicator, "updated_at": "2026-10-20T08:00:00"}


def registry_row(national_id, first, last, birth, consent="כן", **extra):
    return {"national_id": national_id, "first_name": first, "last_name": last, "birth_date": birth,
            "consent": consent, **extra}


def test_one_valid_id_in_every_source_and_format_is_one_person(con, tmp_path):
    deliver(con, tmp_path,
            register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"), register_row(OTHER, "רחל", "לוי", "03/04/1975")],
            ods=[ods_row(MOSHE.lstrip("0"), "משה", "כהן", "1980-02-01"),
                 ods_row(MOSHE, "משה", "כהן", "1980-02-01", indicator="deaf", ministry="NII")],
            yachad=[yachad_row("Y1", "כהן משה", national_id=f"{MOSHE[:8]}-{MOSHE[8]}", phone="050-2345678")],
            registry=[registry_row(int(MOSHE), "משה", "כהן", dt.datetime(1980, 2, 1))])
    report = resolve_identities(con)
    assert report.unresolved == 0 and report.records == 5           # ODS's two rows of one ID are one record
    keys = {s: key_of(con, s, MOSHE) for s in ("population_register", "ods", "disability_registry")}
    keys["yachad"] = key_of(con, "yachad", "Y1")
    assert len(set(keys.values())) == 1
    assert key_of(con, "population_register", OTHER) != keys["yachad"]
    assert report.persons == 2


def test_twins_with_different_valid_ids_are_never_merged(con, tmp_path):
    # Same last name, birth date, address, apartment and phone; one pair even shares the first name.
    twins = [register_row(TWIN_A, "נועה", "מזרחי", "05/06/2015"), register_row(TWIN_B, "מאיה", "מזרחי", "05/06/2015")]
    same_name = [register_row(valid_id(21000037), "דניאל", "פרץ", "07/08/2012", house="20"),
                 register_row(valid_id(21000045), "דניאל", "פרץ", "07/08/2012", house="20")]
    phone = "052-7654321"
    deliver(con, tmp_path, register=twins + same_name + background_register(),
            registry=[registry_row(TWIN_A, "נועה", "מזרחי", "05/06/2015", phone=phone, street_name="ז'בוטינסקי",
                                   house_number="12", apartment="4"),
                      registry_row(TWIN_B, "מאיה", "מזרחי", "05/06/2015", phone=phone, street_name="ז'בוטינסקי",
                                   house_number="12", apartment="4")],
            # a Yachad record of twin A without any ID, at the shared address with the shared phone
            yachad=[yachad_row("Y1", "מזרחי נועה", phone=phone, address="ז'בוטינסקי 12 דירה 4, חולון")])
    report = resolve_identities(con)
    a, b = key_of(con, "population_register", TWIN_A), key_of(con, "population_register", TWIN_B)
    assert a != b
    assert key_of(con, "disability_registry", TWIN_A) == a and key_of(con, "disability_registry", TWIN_B) == b
    assert key_of(con, "population_register", valid_id(21000037)) != key_of(con, "population_register", valid_id(21000045))
    assert key_of(con, "yachad", "Y1") == a                   # the record without ID goes to the twin it names
    assert report.persons == 4 + 300
    merged = con.execute("""SELECT count(*) FROM (SELECT resident_key FROM identity_records WHERE id_valid
                            GROUP BY 1 HAVING count(DISTINCT national_id) > 1)""").fetchall()[0][0]
    assert merged == 0


def test_valid_looking_id_typo_is_flagged_for_review_not_merged(con, tmp_path):
    a, b = "210000097", "210000907"                            # two adjacent digits swapped; both pass the check
    assert idnr.is_valid(a) and idnr.is_valid(b)
    deliver(con, tmp_path, register=[register_row(a, "יוסף", "אברהם", "09/09/1949")],
            ods=[ods_row(b, "יוסף", "אברהם", "1949-09-09")])
    resolve_identities(con)
    ka, kb = key_of(con, "population_register", a), key_of(con, "ods", b)
    assert ka != kb
    flagged = con.execute("SELECT kind, resident_key_a, resident_key_b, record_a, record_b FROM identity_review").fetchall()
    assert len(flagged) == 1
    kind, r1, r2, rec_a, rec_b = flagged[0]
    assert kind == "similar_ids" and {r1, r2} == {ka, kb}
    assert a not in rec_a + rec_b and b not in rec_a + rec_b  # records named by file and row, not by ID


def test_invalid_id_one_digit_off_is_linked_by_name_and_birth_date(con, tmp_path):
    typo = bad_check_digit(MOSHE)
    assert not idnr.is_valid(typo)
    deliver(con, tmp_path,
            register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"),
                      register_row(valid_id(4455667), "משה", "כהן", "02/02/1980", house="30"), *background_register()],
            ods=[ods_row(typo, "משה", "כהן", "1980-02-01")])
    report = resolve_identities(con)
    assert report.unresolved == 1 and report.linked_to_anchor == 1
    assert key_of(con, "ods", typo) == key_of(con, "population_register", MOSHE)
    assert key_of(con, "ods", typo) != key_of(con, "population_register", valid_id(4455667))


@pytest.mark.parametrize("written, register", [
    ("כהן יוסיף", "יוסף"),        # ktiv male: an extra yod
    ("יוסף כהן", "יוסף"),         # Yachad's name in first-last order
    ("כהנ יוסף", "יוסף"),         # a final letter typed as a regular one
], ids=["ktiv_male", "first_last_order", "final_letter_as_regular"])
def test_hebrew_spelling_variants_without_id_link_to_the_right_person(con, tmp_path, written, register):
    household = [register_row(MOSHE, register, "כהן", "01/02/1980"),
                 register_row(valid_id(2233445), "רבקה", "כהן", "01/03/1982"),
                 register_row(valid_id(21000052), "אליעזר", "כהן", "01/03/2010")]
    deliver(con, tmp_path, register=household + background_register(),
            yachad=[yachad_row("Y1", written, phone="03-5551234", address="ז'בוטינסקי 12/4")])
    report = resolve_identities(con)
    assert report.linked_to_anchor == 1
    assert key_of(con, "yachad", "Y1") == key_of(con, "population_register", MOSHE)


def test_a_household_member_without_id_is_not_taken_for_another(con, tmp_path):
    # Same last name, address and landline as the register person, but another first name: a family member
    # the register does not hold. Must not be merged into anyone.
    deliver(con, tmp_path,
            register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"), register_row(valid_id(2233445), "רבקה", "כהן", "01/03/1982"),
                      *background_register()],
            yachad=[yachad_row("Y1", "כהן אברהם", phone="03-5551234", address="ז'בוטינסקי 12 דירה 4")])
    report = resolve_identities(con)
    assert report.new_persons_without_id == 1
    assert key_of(con, "yachad", "Y1") not in {key_of(con, "population_register", MOSHE),
                                               key_of(con, "population_register", valid_id(2233445))}


def test_records_without_id_of_one_person_are_linked_to_each_other(con, tmp_path):
    # Two Yachad records (a duplicate under another record id), no ID, a person the register does not hold.
    deliver(con, tmp_path, register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"), *background_register()],
            yachad=[yachad_row("Y1", "גולדברג שמעון", phone="054-7654321", address="סוקולוב 5 דירה 2"),
                    yachad_row("Y2", "גולדברג שמעון", phone="054-7654321", address="רח' סוקולוב 5/2")])
    resolve_identities(con)
    assert key_of(con, "yachad", "Y1") == key_of(con, "yachad", "Y2") != key_of(con, "population_register", MOSHE)
    street = con.execute("SELECT DISTINCT street_code FROM identity_records WHERE source = 'yachad'").fetchall()
    assert street == [(SOKOLOV,)]


def test_a_municipality_with_nothing_staged_yet_builds_empty_tables(con):
    from pipelines.identity import build_emergency_profile, build_resident_file, update_history

    assert resolve_identities(con).records == 0
    assert build_resident_file(con, 6600)["residents"] == 0
    assert update_history(con)["open"] == 0
    assert build_emergency_profile(con, 6600)["profiles"] == 0


def test_only_records_without_id_still_resolve(con, tmp_path):
    # A source that knows no birth dates and no valid IDs at all (Yachad alone): typed columns, no anchors.
    others = [yachad_row(f"B{i}", f"{LAST_NAMES[(i * 7 + i // 30) % 30]} {FIRST_NAMES[i % 30]}",
                         phone=f"052-{3000000 + i * 7919}", address=f"סוקולוב {100 + i}") for i in range(100)]
    deliver(con, tmp_path, yachad=[yachad_row("Y1", "כהן משה", phone="052-2222222", address="סוקולוב 5"),
                                   yachad_row("Y2", "כהן משה", phone="052-2222222", address="סוקולוב 5"),
                                   yachad_row("Y3", "לוי דנה", phone="052-4567890", address="סוקולוב 7"), *others])
    report = resolve_identities(con)
    assert (report.persons, report.new_persons_without_id) == (102, 102)
    assert key_of(con, "yachad", "Y1") == key_of(con, "yachad", "Y2") != key_of(con, "yachad", "Y3")
