"""Reading deliveries as they arrive: encodings, headers, broken and empty files."""

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest

from connectors.errors import SourceFileError
from connectors.files import read_file
from schemas.sources import header_key, load_source

PR = load_source("population_register")
PR_HEADER = [c.headers[0] for c in PR.columns]
ROW = ["39337423", "כהן", "משה", "אברהם", "ז", "01/02/1980", "נשוי", "6600", "416", "ז'בוטינסקי", "12א", "", "4",
       "5800000", "", "01/10/2026"]


def write_csv(path: Path, header, rows, encoding="cp1255", newline="\r\n") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["cp1255", "utf-8-sig", "utf-8"])
def test_csv_in_every_encoding_reads_the_same(tmp_path, encoding):
    path = write_csv(tmp_path / "pr.csv", PR_HEADER, [ROW, ROW], encoding=encoding)
    read = read_file(PR, path)
    assert read.encoding == encoding
    assert read.table.column("last_name").to_pylist() == ["כהן", "כהן"]
    assert read.table.column("street_name").to_pylist() == ["ז'בוטינסקי"] * 2
    assert read.table.column("_row").to_pylist() == [2, 3]


def test_headers_match_after_trimming_and_unifying_geresh():
    assert header_key("  ת״ז ") == header_key('ת"ז') == header_key("ת''ז")
    assert header_key("ID_Number") == header_key("id_number")
    ya = load_source("yachad")
    found, missing, extra = ya.match_headers(["מזהה רשומה", " ת.ז. ", "שם  מלא"])
    assert set(found.values()) == {"source_record_id", "national_id", "full_name"} and not missing and not extra


def test_missing_required_column_names_file_and_column(tmp_path):
    header = [h for h in PR_HEADER if h != "תאריך לידה"]
    path = write_csv(tmp_path / "register_2026.csv", header, [ROW[:5] + ROW[6:]])
    with pytest.raises(SourceFileError) as e:
        read_file(PR, path)
    assert "register_2026.csv" in str(e.value) and "birth_date" in str(e.value) and "תאריך לידה" in str(e.value)
    assert "כהן" not in str(e.value)


def test_unknown_extra_column_is_kept_and_reported(tmp_path):
    path = write_csv(tmp_path / "pr.csv", PR_HEADER + ["הערות"], [ROW + ["הערה"]])
    read = read_file(PR, path)
    assert read.extra_headers == ["הערות"]
    assert read.table.column("_extra").to_pylist() == ['{"הערות": "הערה"}']


def test_malformed_line_is_reported_with_its_line_number(tmp_path):
    path = write_csv(tmp_path / "pr.csv", PR_HEADER, [ROW, ["1", "2"], ROW])
    read = read_file(PR, path)
    assert read.table.column("_row").to_pylist() == [2, 4]
    assert [r for r, _ in read.malformed] == [3]


def test_empty_file_and_header_only_file(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceFileError, match="empty.csv.*empty"):
        read_file(PR, empty)
    header_only = write_csv(tmp_path / "header.csv", PR_HEADER, [])
    assert read_file(PR, header_only).table.num_rows == 0


def _workbook(path: Path, sheet="מאגר", rows=()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    src = load_source("disability_registry")
    ws.append([c.headers[0] for c in src.columns])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_xlsx_with_date_cells_text_dates_and_blank_rows(tmp_path):
    src = load_source("disability_registry")
    n = len(src.columns)
    row1 = ["39337423", "משה", "כהן", dt.datetime(1950, 3, 4)] + [None] * (n - 4)
    row2 = ["39337423", "רחל", "לוי", "04/03/1950"] + [None] * (n - 4)
    path = _workbook(tmp_path / "reg.xlsx", rows=[row1, [None] * n, row2])
    read = read_file(src, path)
    assert read.table.column("_row").to_pylist() == [2, 4]      # Excel row numbers; the blank row 3 is skipped
    assert read.blank_rows == 1
    assert read.table.column("birth_date").to_pylist() == ["1950-03-04T00:00:00", "04/03/1950"]


def test_corrupt_xlsx_and_missing_sheet(tmp_path):
    src = load_source("disability_registry")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(SourceFileError, match="broken.xlsx.*not a readable XLSX"):
        read_file(src, bad)
    wrong_sheet = _workbook(tmp_path / "sheet.xlsx", sheet="Sheet1")
    with pytest.raises(SourceFileError, match="no sheet named"):
        read_file(src, wrong_sheet)


def test_jsonl_with_a_broken_line(tmp_path):
    ods = load_source("ods")
    path = tmp_path / "ods.jsonl"
    path.write_text('{"id_number": "039337423", "municipality_code": "6600", "source_ministry": "NII", "indicator": "blind"}\n'
                    "{not json\n"
                    '{"id_number": 39337423, "municipality_code": 6600, "source_ministry": "HEALTH", "indicator": "dialysis"}\n',
                    encoding="utf-8")
    read = read_file(ods, path)
    assert read.table.column("_row").to_pylist() == [1, 3]
    assert read.malformed == [(2, "malformed JSON line")]
    assert read.table.column("national_id").to_pylist() == ["039337423", "39337423"]   # numbers arrive as text


def test_csv_row_numbers_are_lines_even_with_blank_lines_and_quoted_line_breaks(tmp_path):
    ya = load_source("yachad")
    header = ",".join(c.headers[0] for c in ya.columns)
    # 1 header; 2-3 a record whose address holds a line break; 4 blank; 5 record; 6 malformed; 7 record; 8 only commas
    text = header + '\nY1,,a b,,"line one\nline two",,,,,\n\nY2,,c d,,,,,,,\nbad,1\n"Y3",,e f,,,,,,,\n,,,,,,,,,\n'
    path = tmp_path / "y.csv"
    path.write_text(text, encoding="utf-8")
    read = read_file(ya, path)
    assert read.table.column("_row").to_pylist() == [2, 5, 7]
    assert read.table.column("source_record_id").to_pylist() == ["Y1", "Y2", "Y3"]
    assert [r for r, _ in read.malformed] == [6]
    assert read.blank_rows == 2


def test_jsonl_keeps_unicode_line_separators_inside_values(tmp_path):
    path = tmp_path / "ods.jsonl"
    path.write_text('{"id_number": "039337423", "municipality_code": "6600", "source_ministry": "NII", '
                    '"indicator": "blind", "indicator_value": "a\u2028b"}\n', encoding="utf-8")
    read = read_file(load_source("ods"), path)
    assert read.malformed == [] and read.table.column("indicator_value").to_pylist() == ["a\u2028b"]


def test_xlsx_reader_agrees_with_openpyxl_cell_by_cell(tmp_path):
    """calamine reads the generated registry (Excel date cells, text dates, numbers, typos) exactly as openpyxl
    does: the same rows, row numbers and text per cell."""
    from pipelines.sample_data import generate

    generate(6600, 3000, tmp_path, seed=5)
    path = next((tmp_path / "inbox" / "6600" / "disability_registry").glob("*.xlsx"))
    src = load_source("disability_registry")
    read = read_file(src, path)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    grid = list(wb[src.sheet].iter_rows(values_only=True))
    wb.close()
    headers = [str(h).strip() for h in grid[0]]
    expected_rows = [i for i, r in enumerate(grid[1:], start=2) if any(v not in (None, "") for v in r)]
    assert read.table.column("_row").to_pylist() == expected_rows and len(expected_rows) > 50

    def text(v):
        if v is None:
            return None
        if isinstance(v, dt.datetime):
            return v.isoformat()
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)

    for column in src.columns:
        i = headers.index(column.headers[0])
        assert read.table.column(column.field).to_pylist() == [text(grid[r - 1][i]) for r in expected_rows], column.field


def test_a_truncated_xlsx_is_a_file_error(tmp_path):
    src = load_source("disability_registry")
    whole = _workbook(tmp_path / "whole.xlsx", rows=[["39337423", "משה", "כהן"]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(SourceFileError, match="cut.xlsx.*not a readable XLSX"):
        read_file(src, cut)
