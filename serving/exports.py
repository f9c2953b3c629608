"""Exports of a query result: CSV (UTF-8 with BOM, so Excel opens Hebrew correctly) and XLSX (right-to-left sheet).

Formula injection: a text cell that begins with `= + - @`, a tab or a carriage return would be run as a formula
by Excel or LibreOffice (OWASP "CSV injection"); such cells get a leading apostrophe, which the spreadsheet shows
as text. The test is made on the cell as a spreadsheet may read it: NFKC-normalised (full-width `＝＋－＠` become
`=+-@`), with leading whitespace and invisible direction marks (U+200E/F, U+202A-E, U+2066-9, U+061C, zero-width
characters) stripped, since spreadsheets skip them. Only text is touched: numbers (a floor of -1) stay numbers.
In XLSX every text cell is also written as a string cell, never as a formula.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
INVISIBLE_LEADERS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\ufeff"
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def as_read(value: str) -> str:
    """The text as a spreadsheet decides whether it is a formula: NFKC, leading blanks and direction marks gone."""
    text = unicodedata.normalize("NFKC", value)
    while text and (text[0].isspace() or text[0] in INVISIBLE_LEADERS):
        if text[0] in "\t\r":
            break                     # a leading tab or carriage return is itself a trigger
        text = text[1:]
    return text


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert; other values unchanged."""
    if isinstance(value, str) and (value.startswith(FORMULA_TRIGGERS) or as_read(value).startswith(FORMULA_TRIGGERS)):
        return "'" + value
    return value


def csv_bytes(titles: list[str], rows: list[list[Any]], preamble: list[str] = ()) -> bytes:
    """`preamble` (the list's name, notes and "data as of" per source) goes above the table, one line each, then an
    empty line: a list handed to a field team says how old it is."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for line in preamble:
        writer.writerow([neutralise(line)])
    if preamble:
        writer.writerow([])
    writer.writerow([neutralise(t) for t in titles])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def xlsx_bytes(titles: list[str], rows: list[list[Any]], sheet_title: str, preamble: list[str] = ()) -> bytes:
    """`preamble` lines go above the table (and into the printed page header), then an empty row."""
    wb = Workbook()
    ws = wb.active
    ws.title = (_SHEET_NAME_FORBIDDEN.sub(" ", sheet_title).strip() or "list")[:31]
    ws.sheet_view.rightToLeft = True
    for line in preamble:
        ws.append([_xlsx_text(line)])
    if preamble:
        ws.append([])
        ws.oddHeader.right.text = _xlsx_text(" · ".join(preamble))[:250]
    header_row = len(preamble) + 2 if preamble else 1
    ws.append([_xlsx_text(t) for t in titles])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="right")
    for row in rows:
        ws.append([_xlsx_text(v) if isinstance(v, str) else v for v in row])
    for r in ws.iter_rows(min_row=1):
        for cell in r:
            if isinstance(cell.value, str):
                cell.data_type = "s"     # never a formula, whatever the text
    ws.freeze_panes = f"A{header_row + 1}"
    if rows:
        last = get_column_letter(max(len(titles), 1))
        ws.auto_filter.ref = f"A{header_row}:{last}{ws.max_row}"
    for i, title in enumerate(titles, start=1):
        longest = max([len(str(title))] + [len(str(r[i - 1])) for r in rows[:500]])
        ws.column_dimensions[get_column_letter(i)].width = min(max(8, longest + 2), 50)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_text(value: str) -> str:
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
