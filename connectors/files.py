"""Reading delivered files as they are: encoding detection, CSV, JSON lines and XLSX into Arrow tables of text.

Every reader returns all values as text (the staging step types them) with `_row`, the row number a person
sees in the file: the CSV/JSONL line number (the header is line 1 of a CSV) or the Excel row number.
Nothing is dropped: malformed CSV lines come back separately with their line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from connectors.errors import SourceFileError
from schemas.sources import SourceMapping

HASH_CHUNK = 1 << 20


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def decode(data: bytes, encodings: tuple[str, ...]) -> tuple[str, str]:
    """-> (text, encoding). A BOM wins (UTF-8, or UTF-16 as Excel's "Unicode text" saves); otherwise strict UTF-8
    if it decodes, then the mapping's others.

    cp1255 decodes almost any byte string, so it is tried last: a UTF-8 file is never misread as cp1255."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    order = ["utf-8"] + [e for e in encodings if e not in ("utf-8", "utf-8-sig")]
    for enc in order:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("unknown", data[:1], 0, 1, f"none of {order} decodes the file")


@dataclass
class FileRead:
    """What a reader got from one file."""

    table: pa.Table                      # canonical fields + `_row` (+ `_extra` JSON of unknown columns)
    encoding: str | None
    headers: list[str]
    extra_headers: list[str]
    malformed: list[tuple[int, str]] = field(default_factory=list)   # (row, reason) of lines that are not records
    blank_rows: int = 0


def _map_columns(source: SourceMapping, path: Path, headers: list[str], columns: list[list], rows: list[int],
                 encoding: str | None, malformed=None, blank_rows: int = 0) -> FileRead:
    found, missing, extra = source.match_headers(headers)
    if missing:
        raise SourceFileError(source.source, path, f"missing required column(s): {', '.join(missing)} "
                              f"(expected header {' / '.join(source.column(missing[0]).headers)})")
    arrays = {"_row": pa.array(rows, pa.int32())}
    rows = arrays["_row"]
    by_field = {f: i for i, f in found.items()}
    for f in source.fields:
        i = by_field.get(f)
        arrays[f] = _string_array(columns[i]) if i is not None else pa.nulls(len(rows), pa.string())
    extra_idx = [i for i, h in enumerate(headers) if i not in found and (h or "").strip()]
    if extra_idx:
        names = [headers[i].strip() for i in extra_idx]
        arrays["_extra"] = pa.array(
            [json.dumps(dict(zip(names, vals)), ensure_ascii=False)
             for vals in zip(*[_string_array(columns[i]).to_pylist() for i in extra_idx])], pa.string())
    else:
        arrays["_extra"] = pa.nulls(len(rows), pa.string())
    return FileRead(pa.table(arrays), encoding, headers, extra, malformed or [], blank_rows)


def _string_array(values) -> pa.Array | pa.ChunkedArray:
    return values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, pa.string())


def read_csv(source: SourceMapping, path: Path) -> FileRead:
    data = path.read_bytes()
    if not data.strip():
        raise SourceFileError(source.source, path, "the file is empty (no header row)")
    try:
        text, encoding = decode(data, source.encodings)
    except UnicodeDecodeError:
        raise SourceFileError(source.source, path, f"cannot decode the file as any of {', '.join(source.encodings)}") from None
    bad: dict[int, tuple[str, int]] = {}   # pyarrow record number -> (reason, line breaks inside the record)

    def on_invalid(row) -> str:
        bad[row.number] = (f"malformed CSV line: expected {row.expected_columns} fields, found {row.actual_columns}",
                           (row.text or "").count("\n"))
        return "skip"

    # the header is read separately so header names keep their exact text (duplicates and blanks included)
    first_line = text.split("\n", 1)[0].rstrip("\r")
    headers = next(csv.reader([first_line], delimiter=source.delimiter))
    names = [f"c{i}" for i in range(len(headers))]
    table = pacsv.read_csv(
        io.BytesIO(text.encode("utf-8")),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=source.delimiter, invalid_row_handler=on_invalid,
                                         newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in names}, strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )
    lines, malformed = _line_numbers(table, names, bad)
    blank = _all_empty(table, names)
    return _map_columns(source, path, headers, [table.column(c).filter(pc.invert(blank)) for c in names],
                        lines[~blank.to_numpy(zero_copy_only=False)], encoding, malformed,
                        blank_rows=int(pc.sum(blank).as_py() or 0))


def _line_numbers(table: pa.Table, names: list[str], bad: dict[int, tuple[str, int]]):
    """The line each record starts on, as a person sees it. pyarrow numbers records (the header is record 1, a blank
    line is a record); a quoted value with line breaks makes its record span lines, which shifts every later line."""
    n_records = table.num_rows + len(bad)
    record_numbers = np.arange(2, n_records + 2, dtype=np.int64)
    is_bad = np.isin(record_numbers, list(bad))
    breaks = np.zeros(n_records, dtype=np.int64)
    if table.num_rows:
        breaks[~is_bad] = sum(pc.count_substring(table.column(c), "\n").to_numpy() for c in names)
    for number, (_, inside) in bad.items():
        breaks[number - 2] = inside
    starts = record_numbers + np.concatenate([[0], np.cumsum(breaks)[:-1]])
    malformed = [(int(starts[number - 2]), reason) for number, (reason, _) in sorted(bad.items())]
    return starts[~is_bad].astype(np.int32), malformed


def _all_empty(table: pa.Table, names: list[str]) -> pa.ChunkedArray | pa.Array:
    """Rows whose every field is empty: blank lines (and rows of bare commas) are not records."""
    if not names or table.num_rows == 0:
        return pa.array([False] * table.num_rows, pa.bool_())
    mask = None
    for c in names:
        empty = pc.equal(pc.utf8_trim_whitespace(table.column(c)), "")
        mask = empty if mask is None else pc.and_(mask, empty)
    return mask


def read_jsonl(source: SourceMapping, path: Path) -> FileRead:
    data = path.read_bytes()
    try:
        text, encoding = decode(data, source.encodings)
    except UnicodeDecodeError:
        raise SourceFileError(source.source, path, "the file is not UTF-8") from None
    records, rows, malformed = [], [], []
    # split on line feeds only: str.splitlines() also breaks on U+2028 and friends, legal inside a JSON string
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            if not isinstance(rec, dict):
                raise ValueError
        except ValueError:
            malformed.append((lineno, "malformed JSON line"))
            continue
        records.append(rec)
        rows.append(lineno)
    return records_to_read(source, path, records, rows, encoding, malformed)


def records_to_read(source: SourceMapping, path: Path | str, records: list[dict], rows: list[int],
                    encoding: str | None = None, malformed=None) -> FileRead:
    """Dict records (JSON lines, an API page) -> FileRead with all values as text."""
    headers: list[str] = []
    seen = set()
    for rec in records:
        for k in rec:
            if k not in seen:
                seen.add(k)
                headers.append(k)
    if not headers:
        headers = [c.headers[0] for c in source.columns]  # an empty delivery still has the expected shape
    cols = [[_text(rec.get(h)) for rec in records] for h in headers]
    return _map_columns(source, Path(str(path)), headers, cols, rows, encoding, malformed)


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_xlsx(source: SourceMapping, path: Path) -> FileRead:
    """The mapping's sheet, header on the first row, read by calamine (Rust; ~10x openpyxl's reader on the
    30,000-row registry). Row numbers are the ones Excel shows; blank rows are counted, not staged."""
    from python_calamine import CalamineError, CalamineWorkbook  # only the XLSX source needs it

    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as e:
        raise SourceFileError(source.source, path, f"not a readable XLSX workbook ({type(e).__name__})") from None
    try:
        if source.sheet and source.sheet not in wb.sheet_names:
            raise SourceFileError(source.source, path,
                                  f"no sheet named {source.sheet!r} (sheets: {', '.join(wb.sheet_names)})")
        try:
            ws = wb.get_sheet_by_name(source.sheet or wb.sheet_names[0])
            # from A1, so that list positions are Excel's row numbers less one
            grid = ws.to_python(skip_empty_area=False)
        except (CalamineError, ValueError) as e:
            raise SourceFileError(source.source, path, f"not a readable XLSX workbook ({type(e).__name__})") from None
    finally:
        wb.close()
    if not grid or all(_blank(v) for v in grid[0]):
        raise SourceFileError(source.source, path, "the sheet is empty (no header row)")
    headers = [str(h).strip() if not _blank(h) else "" for h in grid[0]]
    n = len(headers)
    cols: list[list] = [[] for _ in range(n)]
    rows, blank = [], 0
    for excel_row, values in enumerate(grid[1:], start=2):
        if all(_blank(v) for v in values):
            blank += 1
            continue
        rows.append(excel_row)
        for i in range(n):
            cols[i].append(_cell_text(values[i]) if i < len(values) else None)
    return _map_columns(source, path, headers, cols, rows, None, blank_rows=blank)


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _cell_text(v) -> str | None:
    """A cell as text; calamine gives "" for an empty cell and a date for a date cell (written as Excel's
    midnight datetime, as the file's own value is)."""
    if isinstance(v, str) and v == "":
        return None
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        v = dt.datetime(v.year, v.month, v.day)
    return _text(v)


READERS = {"csv": read_csv, "jsonl": read_jsonl, "xlsx": read_xlsx}


def read_file(source: SourceMapping, path: Path) -> FileRead:
    return READERS[source.format](source, path)
