"""CSV (UTF-8 with BOM) and XLSX exports: Hebrew intact, formula injection neutralised, numbers left numbers."""

import csv
import io
import zipfile

import pytest
from openpyxl import load_workbook

from serving.exports import csv_bytes, neutralise, xlsx_bytes
from tests.emergency.conftest import INJECTION_FIRST, INJECTION_LAST
from tests.emergency.helpers import column, keys, run

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def sokolov(home):
    r = run(home, "evacuation_assistance", streets="סוקולוב")
    assert keys(r) == ["E08", "INJ"]
    assert column(r, "last_name")[1] == INJECTION_LAST      # the list itself shows the name as stored
    return r


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+972501234567", "'+972501234567"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("כהן", "כהן"), ("a=b", "a=b"), ("", ""),
    (-1, -1), (3, 3), (None, None),
    (" =1+1", "' =1+1"), ("\u00a0\u00a0@SUM(A1)", "'\u00a0\u00a0@SUM(A1)"), ("\u200f=1", "'\u200f=1"),
    ("\u202b+1", "'\u202b+1"), ("\u2067\u200e -1", "'\u2067\u200e -1"), ("＝1+1", "'＝1+1"), ("＋1", "'＋1"),
    ("－1", "'－1"), ("＠SUM(A1)", "'＠SUM(A1)"), ("\ufeff=1", "'\ufeff=1"), (" כהן", " כהן"), ("\u200fכהן", "\u200fכהן"),
], ids=["equals", "plus_phone", "minus", "at", "tab", "carriage_return", "hebrew", "inner_equals", "empty",
        "negative_number", "number", "none", "leading_space", "leading_nbsp", "rlm", "rle", "isolate_lrm_space",
        "fullwidth_equals", "fullwidth_plus", "fullwidth_minus", "fullwidth_at", "bom", "space_hebrew", "rlm_hebrew"])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_has_a_bom_hebrew_and_no_live_formula(sokolov):
    data = csv_bytes(sokolov.titles, sokolov.rows)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == sokolov.titles and "שם משפחה" in rows[0]
    assert len(rows) == 3
    last, first = rows[0].index("שם משפחה"), rows[0].index("שם פרטי")
    assert rows[2][last] == "'" + INJECTION_LAST
    assert rows[2][first] == "'" + INJECTION_FIRST
    assert not [cell for row in rows for cell in row if cell.startswith(TRIGGERS)]


def test_xlsx_is_right_to_left_and_the_injected_name_is_inert_text(sokolov):
    data = xlsx_bytes(sokolov.titles, sokolov.rows, sokolov.query.title_he)
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml      # no formula cell at all
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.sheet_view.rightToLeft
    header = [c.value for c in ws[1]]
    assert header == sokolov.titles
    injected = ws[3]
    last = injected[header.index("שם משפחה")]
    assert last.value == "'" + INJECTION_LAST and last.data_type == "s"
    assert injected[header.index("שם פרטי")].value == "'" + INJECTION_FIRST
    assert injected[header.index("קומה")].value == 5                   # numbers stay numbers
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [t for t in texts if t.startswith(TRIGGERS)]


def test_a_negative_floor_stays_a_number():
    data = xlsx_bytes(["קומה", "שם"], [[-1, "-1"]], "x")
    row = list(load_workbook(io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))[0]
    assert row == (-1, "'-1")
    assert csv_bytes(["קומה"], [[-1]]).decode("utf-8-sig").splitlines()[1] == "-1"


HIDDEN_FORMULAS = [" =HYPERLINK(\"http://evil.example\")", "\u200f=1+1", "\u202b@SUM(1)", "＝1+1", "－2+3"]


def test_hidden_formulas_are_inert_in_csv_and_xlsx():
    rows = [[v, 5] for v in HIDDEN_FORMULAS]
    read = list(csv.reader(io.StringIO(csv_bytes(["שם", "קומה"], rows).decode("utf-8-sig"), newline="")))
    assert [r[0] for r in read[1:]] == ["'" + v for v in HIDDEN_FORMULAS]
    ws = load_workbook(io.BytesIO(xlsx_bytes(["שם", "קומה"], rows, "רשימה"))).active
    assert [ws.cell(row=r, column=1).value for r in range(2, ws.max_row + 1)] == ["'" + v for v in HIDDEN_FORMULAS]
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in range(2, ws.max_row + 1))
