"""The generated files look like the real exports: encodings, headers, layout, the XLSX's sheet and cells."""

from __future__ import annotations

import datetime as dt
import json
import re

import openpyxl
import pytest

from pipelines.sample_data import Dirt, generate
from schemas.sources import load_source
from tests.sample_data.conftest import MUNI, SEED


def _header(source: str) -> list[str]:
    return [c.headers[0] for c in load_source(source).columns]


def test_file_layout(default_data):
    s = default_data.summary
    as_of = s.as_of.isoformat()
    for source, ext in (("population_register", "csv"), ("ods", "jsonl"), ("yachad", "csv"),
                        ("disability_registry", "xlsx")):
        path = s.files[source]
        assert path == s.inbox / source / f"{source}_{as_of}.{ext}"
        assert path.parent.parent.name == str(MUNI) and path.exists()
    assert s.truth_persons.parent.name == str(MUNI) and s.truth_persons.exists() and s.truth_records.exists()


@pytest.mark.parametrize("source", ["population_register", "yachad"])
def test_csv_is_windows_1255_with_the_sources_header(default_data, source):
    data = default_data.summary.files[source].read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")                           # Hebrew in cp1255 is not valid UTF-8
    text = data.decode("cp1255")
    lines = text.split("\r\n")
    assert lines[0].split(",") == _header(source)
    assert lines[-1] == "" and "\n" not in "".join(lines)   # CRLF line ends, no embedded line breaks
    assert re.search("[א-ת]", lines[1])


def test_yachad_can_be_utf8_with_bom(tmp_path):
    s = generate(MUNI, 300, tmp_path, seed=SEED, dirt=Dirt(yachad_encoding="utf-8-sig"))
    data = s.files["yachad"].read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data[3:].decode("utf-8").split("\r\n")[0].split(",") == _header("yachad")
    assert s.files["population_register"].read_bytes().decode("cp1255")   # the register stays cp1255


def test_ods_jsonl_has_the_sources_fields(default_data):
    fields = [c.headers[0] for c in load_source("ods").columns]
    lines = default_data.summary.files["ods"].read_text(encoding="utf-8").splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)
        assert list(record) == fields
        assert record["municipality_code"] == str(MUNI)
        assert record["source_ministry"] in ("NII", "WELFARE", "HEALTH", "MOD_REHAB")
        assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["birth_date"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", record["updated_at"])
    assert "\\u05" not in lines[0]   # Hebrew written as is


def test_xlsx_sheet_header_date_cells_text_dates_and_blank_rows(default_data):
    wb = openpyxl.load_workbook(default_data.summary.files["disability_registry"])
    assert wb.sheetnames == ["מאגר"]
    ws = wb["מאגר"]
    assert [c.value for c in ws[1]] == _header("disability_registry")
    birth_col = _header("disability_registry").index("תאריך לידה")
    kinds = {"date": 0, "text": 0, "blank_rows": 0}
    for row in ws.iter_rows(min_row=2):
        values = [c.value for c in row]
        if all(v in (None, "") for v in values):
            kinds["blank_rows"] += 1
            continue
        cell = row[birth_col]
        if cell.is_date:
            kinds["date"] += 1
            assert isinstance(cell.value, dt.datetime) and cell.number_format == "dd/mm/yyyy"
        else:
            assert isinstance(cell.value, str) and re.fullmatch(r"\d\d/\d\d/\d{4}", cell.value)
            kinds["text"] += 1
    assert kinds["date"] > 0 and kinds["text"] > 0
    # 60 records at 1% blank rows may have none: count them on the dirtier set instead (test_dirt).
    assert ws.sheet_view.rightToLeft


def test_register_values_use_the_documented_formats(default_data):
    rows = default_data.rows("population_register")
    for values in rows.values():
        assert values["מין"] in ("ז", "נ")
        assert re.fullmatch(r"\d\d/\d\d/\d{4}", values["תאריך לידה"])
        assert values["מצב משפחתי"] in ("רווק", "רווקה", "נשוי", "נשואה", "גרוש", "גרושה", "אלמן", "אלמנה")
        assert values["סמל ישוב"] == str(MUNI)
        assert re.fullmatch(r"\d{7}", values["מיקוד"])
        assert re.fullmatch(r"\d+[א-ה]?", values["מספר בית"])
        assert values["תאריך פטירה"] == "" or re.fullmatch(r"\d\d/\d\d/\d{4}", values["תאריך פטירה"])


def test_a_character_cp1255_lacks_fails_naming_the_line_not_the_value(tmp_path):
    import pyarrow as pa

    from pipelines.sample_data.text_files import write_csv

    with pytest.raises(ValueError) as e:
        write_csv(tmp_path / "x.csv", ["שם"], [pa.array(["משה", "Zoë"])], "cp1255")
    assert "line 3" in str(e.value) and "Zo" not in str(e.value)
    assert not (tmp_path / "x.csv").exists()
