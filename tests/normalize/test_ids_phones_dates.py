import datetime as dt
import random

import phonenumbers
import pytest
from stdnum import luhn
from stdnum.il import idnr

from pipelines.normalize.dates import parse_date
from pipelines.normalize.israeli_id import parse_id
from pipelines.normalize.phones import to_e164


def _random_valid_id(rng):
    body = f"{rng.randrange(0, 10**8):08d}"
    return body + luhn.calc_check_digit(body)   # the Israeli check digit is Luhn's


def test_id_shapes_from_the_sources():
    assert parse_id("039337423") == ("039337423", "IsraeliID", True)
    assert parse_id("39337423") == ("039337423", "IsraeliID", True)       # leading zero lost
    assert parse_id("03933742-3") == ("039337423", "IsraeliID", True)      # Yachad's dash before the check digit
    assert parse_id(" 0-393-374-23 ") == ("039337423", "IsraeliID", True)
    assert parse_id("039337424")[2] is False                                # wrong check digit: kept, invalid
    assert parse_id("000000000")[2] is False
    assert parse_id("1234567890")[1] == "Unknown"                          # too long
    assert parse_id("P1234567") == ("P1234567", "Passport", True)
    assert parse_id("") == (None, "Unknown", False)


def test_sql_id_macros_agree_with_stdnum_on_random_ids(con):
    rng = random.Random(7)
    values = []
    for _ in range(3000):
        v = _random_valid_id(rng)
        kind = rng.randrange(4)
        if kind == 1:
            v = v.lstrip("0") or "0"
        elif kind == 2:
            v = v[:-1] + str((int(v[-1]) + rng.randrange(1, 10)) % 10)   # typo in the check digit
        elif kind == 3:
            v = v[:8] + "-" + v[8]
        values.append(v)
    con.execute("CREATE TABLE ids (v VARCHAR)")
    con.executemany("INSERT INTO ids VALUES (?)", [(v,) for v in values])
    rows = con.execute("SELECT v, il_id_normalize(v), il_id_type(v), il_id_valid(v) FROM ids").fetchall()
    for v, norm, kind, valid in rows:
        py = parse_id(v)
        assert (norm, kind, valid) == py
        assert valid == idnr.is_valid(norm)


PHONES = ["052-3456789", "0523456789", "+972523456789", "972-52-3456789", "+972-52-345-6789", "00972523456789",
          "054-7654321", "058-1234567", "050-1234567",   # 050-1xxxxxx is an unallocated range: invalid
          "03-5551234", "035551234", "+97235551234", "08-9123456", "02-6234567", "077-2345678",
          "1234", "052-34567", "+1-202-555-0100", ""]


@pytest.mark.parametrize("raw", PHONES, ids=[f"phone{i}" for i in range(len(PHONES))])  # no numbers in test ids
def test_phones_agree_with_phonenumbers(con, raw):
    e164, kind = to_e164(raw)
    assert con.execute("SELECT phone_e164(?), phone_kind(?)", [raw, raw]).fetchone() == (e164, kind)
    try:
        parsed = phonenumbers.parse(raw, "IL")
        lib_ok = phonenumbers.is_valid_number(parsed) and parsed.country_code == 972
    except phonenumbers.NumberParseException:
        lib_ok = False
    assert (e164 is not None) == lib_ok


def test_phone_kinds_and_formats():
    assert to_e164("052-3456789") == to_e164("+972523456789") == to_e164("972-52-3456789") == ("+972523456789", "mobile")
    assert to_e164("03-5551234") == ("+97235551234", "landline")
    assert to_e164("050-1234567") == (None, None)


def test_sql_phone_macro_agrees_with_phonenumbers_on_random_numbers(con):
    rng = random.Random(3)
    values = [rng.choice(["0", "+972", "972-"]) + rng.choice(["5", "2", "3", "4", "8", "9", "7"]) +
              "".join(str(rng.randrange(10)) for _ in range(rng.choice([7, 8]))) for _ in range(2000)]
    con.execute("CREATE TABLE phones (v VARCHAR)")
    con.executemany("INSERT INTO phones VALUES (?)", [(v,) for v in values])
    for v, e164, kind in con.execute("SELECT v, phone_e164(v), phone_kind(v) FROM phones").fetchall():
        assert (e164, kind) == to_e164(v), v


DATES = [
    ("01/02/1980", dt.date(1980, 2, 1)), ("1/2/1980", dt.date(1980, 2, 1)), ("01.02.1980", dt.date(1980, 2, 1)),
    ("01-02-1980", dt.date(1980, 2, 1)), ("1980-02-01", dt.date(1980, 2, 1)), ("1980-02-01T00:00:00", dt.date(1980, 2, 1)),
    ("29221", dt.date(1980, 1, 1)), ("29221.0", dt.date(1980, 1, 1)),          # Excel serial numbers
    ("31/02/1980", None), ("29/02/2023", None), ("29/02/2024", dt.date(2024, 2, 29)), ("13/13/2000", None),
    ("abc", None), ("", None),
]


@pytest.mark.parametrize("raw,expected", DATES)
def test_dates(con, raw, expected):
    assert parse_date(raw) == expected
    assert con.execute("SELECT parse_date_any(?)", [raw]).fetchone()[0] == expected


def test_excel_cells_and_timestamps(con):
    assert parse_date(dt.datetime(1980, 2, 1, 0, 0)) == dt.date(1980, 2, 1)
    assert parse_date(29221) == dt.date(1980, 1, 1)
    assert con.execute("SELECT parse_timestamp_any('01/11/2026 14:35')").fetchone()[0] == dt.datetime(2026, 11, 1, 14, 35)
    assert con.execute("SELECT parse_timestamp_any('2026-11-01T14:35:10')").fetchone()[0] == dt.datetime(2026, 11, 1, 14, 35, 10)
