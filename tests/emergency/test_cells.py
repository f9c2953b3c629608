"""Shown values are computed in SQL: phone numbers as dialled (held to the phonenumbers library), Hebrew labels,
unknown codes shown as stored, empty text as ''."""

import datetime as dt

import duckdb
import phonenumbers
import pytest

from serving.catalogue import Column, load_catalogue
from serving.cells import display_parameters, display_sql


def shown(fmt: str, value, sql_type: str):
    cat = load_catalogue()
    con = duckdb.connect()
    for statement in cat.macro_statements():
        con.execute(statement)
    expr, maps = display_sql(Column("c", "c", fmt, "public"), 'q."c"')
    params = {"v": value, **display_parameters(maps, cat.labels)}
    return con.execute(f"SELECT {expr} FROM (SELECT $v::{sql_type} AS c) q", params).fetchall()[0][0]


@pytest.mark.parametrize("e164", ["+972522345678", "+972547654321", "+97231234567", "+97226543210",
                                  "+97248123456", "+97289123456", "+97297654321", "+972733456789"],
                         ids=["mobile052", "mobile054", "tel03", "tel02", "tel04", "tel08", "tel09", "voip073"])
def test_israeli_phones_are_shown_as_phonenumbers_writes_them(e164):
    number = phonenumbers.parse(e164, "IL")
    assert phonenumbers.is_valid_number(number)
    assert shown("phone", e164, "VARCHAR") == phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


@pytest.mark.parametrize("value, expected", [("+12125551234", "+12125551234"), ("050-1234567", "050-1234567"),
                                             (None, "")], ids=["foreign", "unallocated_range", "missing"])
def test_other_phone_values_are_shown_as_stored(value, expected):
    assert shown("phone", value, "VARCHAR") == expected


def test_labels():
    assert shown("labels:mobility", "wheelchair", "VARCHAR") == "כיסא גלגלים"
    assert shown("labels:yachad_status", "not_located", "VARCHAR") == "לא אותר"
    assert shown("labels:mobility", "hovering", "VARCHAR") == "hovering"       # unknown code: as stored
    assert shown("labels:mobility", None, "VARCHAR") == ""
    assert shown("list_labels:needs", ["OXYGEN", "WHEELCHAIR", "NEW_CODE"], "VARCHAR[]") == "חמצן, כיסא גלגלים, NEW_CODE"
    assert shown("list_labels:needs", [], "VARCHAR[]") == ""
    assert shown("list_labels:disability_types", None, "VARCHAR[]") == ""


def test_yes_no_numbers_timestamps_text():
    assert [shown("yes_no", v, "BOOLEAN") for v in (True, False, None)] == ["כן", "לא", ""]
    assert shown("number", -1, "INTEGER") == -1 and shown("number", None, "INTEGER") is None
    assert shown("timestamp", dt.datetime(2026, 11, 20, 9, 5), "TIMESTAMP") == "20/11/2026 09:05"
    assert shown("text", "12א", "VARCHAR") == "12א" and shown("text", None, "VARCHAR") == ""
