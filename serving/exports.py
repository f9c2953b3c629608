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
import datetime as dt
import io
import re
import unicodedata
from typing import Any, Sequence

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


def xlsx_bytes(titles: list[str], rows: list[list[Any]], sheet_title: str, *, preamble: Sequence[str] = (),
               number_text: Sequence[bool] = ()) -> bytes:
    """A right-to-left sheet with a bold frozen header and a filter, printing landscape one page wide.

    `preamble` lines (the list, its notes, how old each source's data is) go above the table, then an empty row;
    `number_text` marks columns (house number, apartment) whose all-digit values are written as numbers."""
    numeric = list(number_text) + [False] * (len(titles) - len(number_text))
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(sheet_title)
    ws.sheet_view.rightToLeft = True
    for line in preamble:
        ws.append([xlsx_text(line)])
    if preamble:
        ws.append([])
    header_row = len(preamble) + 2 if preamble else 1
    ws.append([xlsx_text(t) for t in titles])
    for cell in ws[header_row]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="right")
    for row in rows:
        ws.append([number_text_value(v) if is_num else (xlsx_text(v) if isinstance(v, str) else v)
                   for v, is_num in zip(row, numeric)])
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
    print_setup(ws, title=sheet_title, printed_at=dt.datetime.now().strftime("%d/%m/%Y %H:%M"),
                title_rows=f"{header_row}:{header_row}")
    if preamble:       # how old the data is belongs on every printed page too
        ws.oddHeader.right.text = xlsx_text(" · ".join(preamble)).replace("&", "&&")[:250]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_text(value: str) -> str:
    """Text for a cell: characters XML cannot hold removed, formulas neutralised."""
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


def number_text_value(value: Any) -> Any:
    """A house number or apartment: a number where it is all digits (12), text otherwise (12א)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return xlsx_text(value) if isinstance(value, str) else value


def sheet_name(title: str) -> str:
    """A title Excel accepts as a sheet name (no []:*?/\\, at most 31 characters)."""
    return (_SHEET_NAME_FORBIDDEN.sub(" ", title).strip() or "list")[:31]


def print_setup(ws, *, title: str, printed_at: str, title_rows: str) -> None:
    """Landscape A4, one page wide, the heading row on every page, title and page X of Y in header and footer."""
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddHeader.right.text = title.replace("&", "&&")
    ws.oddFooter.right.text = "עמוד &P מתוך &N"
    ws.oddFooter.left.text = f"הודפס {printed_at}"
