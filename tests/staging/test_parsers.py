"""Parsers of the source mappings on the shapes the sources write, through the same two-level SQL staging runs."""

import datetime as dt

import pytest

from pipelines.normalize.addresses import install_address_parser
from pipelines.staging.parsers import parse


def run_parser(con, parser: str, values: list):
    install_address_parser(con)
    p = parse(parser, "v")
    con.execute("CREATE OR REPLACE TEMP TABLE raw (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?, ?)", list(enumerate(values)))
    pre = "".join(f", {expr} AS \"{name}\"" for name, expr in p.pre)
    invalid = f"coalesce(({p.invalid}), false)" if p.invalid else "false"
    rows = con.execute(f"""SELECT {p.outputs[0][1]}, {invalid} FROM (SELECT *{pre} FROM raw) ORDER BY i""").fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def test_marital_status_in_every_form_the_register_writes(con):
    values = ["רווק", "רווקה", "נשוי", "נשואה", "גרוש", "גרושה", "אלמן", "אלמנה", "נשוי/אה", "רווק/ה", "משהו אחר"]
    got, bad = run_parser(con, "marital_status", values)
    assert got == ["single", "single", "married", "married", "divorced", "divorced", "widowed", "widowed",
                   "married", "single", None]
    assert bad == [False] * 10 + [True]


def test_gender_and_yes_no(con):
    assert run_parser(con, "gender", ["ז", "נ", " ז ", "זכר", "נקבה", "X"])[0] == ["male", "female", "male", "male", "female", None]
    assert run_parser(con, "yes_no", ["כן", "לא", " כן", "V", "x", "אולי"])[0] == [True, False, True, True, True, None]


def test_floor_words_and_numbers(con):
    got, bad = run_parser(con, "floor", ["3", "קרקע", "מרתף", "-1", "12", "גבוה", "300"])
    assert got[:5] == [3, 0, -1, -1, 12] and bad == [False] * 5 + [True, True]


def test_dates_with_range_checks(con):
    got, bad = run_parser(con, "date_any", ["01/02/1950", "1950-02-01T00:00:00", "18295", "31/02/1950", "01/01/1850", "01/01/2999"])
    assert got[:3] == [dt.date(1950, 2, 1)] * 3
    assert got[3:] == [None] * 3 and bad == [False] * 3 + [True] * 3


def test_house_numbers_and_zip_codes(con):
    assert run_parser(con, "house_number", ["12", "12א", "12 א", "abc"]) == (["12", "12א", "12א", "abc"], [False, False, False, True])
    assert run_parser(con, "zip_code", ["5822012", "58220", "58-22012"])[0] == ["5822012", None, "5822012"]


@pytest.mark.parametrize("raw,expected", [("03933742-3", "039337423"), ("39337423", "039337423"), ("P1234567", "P1234567")],
                         ids=["dash_before_check_digit", "leading_zero_lost", "passport"])
def test_israeli_id_parser(con, raw, expected):
    assert run_parser(con, "israeli_id", [raw])[0] == [expected]
