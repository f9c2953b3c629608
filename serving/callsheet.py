"""The call sheet a field team takes along: a list grouped by street and building, ready to print.

Built from a `call_sheet` run of a query (only the columns the team needs, `call_sheet` in
`schemas/emergency_queries.yaml`) and its counts (the street and building subtotals come from the counting
statement, not from counting rows here). What a sheet says about itself: the list's title and city, the parameters
it was run with, "data as of" per source, when it was printed, and page X of Y on every page.

`sheet_rows` lays the sheet out once (street lines, building subtotals, residents); the XLSX here and the printable
page (`templates/call_sheet.html`) both draw it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from serving.catalogue import Column, load_catalogue
from serving.exports import number_text_value, print_setup, sheet_name, xlsx_text
from serving.queries import QueryResult

TIME_FORMAT = "%d/%m/%Y %H:%M"
ISRAEL = ZoneInfo("Asia/Jerusalem")     # a sheet is read in Israel whatever the server's clock zone


@dataclass(frozen=True)
class SheetLine:
    kind: str                       # "street" | "resident"
    text: str = ""                  # the street line's heading
    cells: tuple[Any, ...] = ()     # a resident's values, in `columns` order
    building_total: int | None = None   # on a building's first resident: how many live there


@dataclass(frozen=True)
class CallSheetLayout:
    title: str
    city: str
    parameters: list[tuple[str, str]]   # (parameter title, value as shown)
    data_as_of: list[str]               # per source: how old its data is, and whether it is stale
    printed_at: str
    total: int
    columns: list[Column]               # the team's columns, house number first (street is the group line)
    blank_columns: tuple[str, ...]
    lines: list[SheetLine]

    @property
    def headings(self) -> list[str]:
        return [c.title_he for c in self.columns] + ["בבניין"] + list(self.blank_columns)

    @property
    def subtitle(self) -> str:
        return f"{self.city} · {self.total} תושבים · הודפס {self.printed_at}"


def israel_time(t: dt.datetime) -> dt.datetime:
    """Israel's wall-clock time of `t` (a naive time is the server's local time, as `deliveries` stores it)."""
    return t.astimezone(ISRAEL)


def shown_parameters(result: QueryResult) -> list[tuple[str, str]]:
    """The parameters the list was run with, as a person reads them (defaults included: they decide the list)."""
    labels = load_catalogue().labels
    out = []
    for p in result.query.parameters:
        value = result.parameters.get(p.name)
        if value is None or value == []:
            continue
        if p.type in ("street_names", "street_name"):
            typed = value if isinstance(value, list) else [value]
            value = ", ".join(result.streets[t][1] if t in result.streets else t for t in typed)
        elif p.type == "bool":
            value = "כן" if value else "לא"
        elif p.type in ("choice", "choice_list"):
            names = labels.get(p.labels or "", {})
            value = ", ".join(names.get(v, v) for v in (value if isinstance(value, list) else [value]))
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        out.append((p.title_he, str(value)))
    return out


def layout(result: QueryResult, city: str, printed_at: dt.datetime | None = None) -> CallSheetLayout:
    """Street lines with their subtotal, residents with their building's count on the first of them."""
    street_col, house_col = load_catalogue().call_sheet.group_by
    names = [c.name for c in result.columns]
    si, hi = names.index(street_col), names.index(house_col)
    team = [c for c in result.columns if c.name != street_col]
    keep = [i for i, c in enumerate(result.columns) if c.name != street_col]
    counts = result.counts
    street_totals = {s.street_name: s.total for s in counts.streets} if counts else {}
    building_totals = {(b.street_name, b.house_number): b.total for b in counts.buildings} if counts else {}
    lines: list[SheetLine] = []
    street = building = None
    for row in result.rows:
        if row[si] != street:
            street, building = row[si], None
            n = street_totals.get(street)
            lines.append(SheetLine("street", text=f"{street or 'רחוב לא ידוע'}" + (f" · {n} תושבים" if n else "")))
        first = (row[si], row[hi]) != building
        building = (row[si], row[hi])
        lines.append(SheetLine("resident", cells=tuple(row[i] for i in keep),
                               building_total=building_totals.get(building) if first else None))
    printed = israel_time(printed_at or dt.datetime.now(dt.timezone.utc))
    return CallSheetLayout(
        title=f"דף קריאה: {result.query.title_he}", city=city, parameters=shown_parameters(result),
        data_as_of=list(result.data_as_of),
        printed_at=printed.strftime(TIME_FORMAT), total=len(result.rows), columns=team,
        blank_columns=load_catalogue().call_sheet.blank_columns, lines=lines)


def xlsx_bytes(sheet: CallSheetLayout) -> bytes:
    """The call sheet as a right-to-left workbook that prints landscape, one page wide, headings on every page."""
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_name(sheet.title)
    ws.sheet_view.rightToLeft = True
    width = len(sheet.headings)
    ws.append([xlsx_text(sheet.title)])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([xlsx_text(sheet.subtitle)])
    ws.append([xlsx_text("פרמטרים: " + "; ".join(f"{k}: {v}" for k, v in sheet.parameters))])
    ws.append([xlsx_text("; ".join(sheet.data_as_of) or "נתונים נכונים ל: לא ידוע")])
    for r in range(1, 5):
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
        ws.cell(row=r, column=1).alignment = Alignment(horizontal="right")
    ws.append([xlsx_text(h) for h in sheet.headings])
    heading_row = ws.max_row
    thin = Side(style="thin", color="808080")
    for cell in ws[heading_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E6E8EC")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(horizontal="right", wrap_text=True)
    numeric = [c.format == "number_text" for c in sheet.columns]
    street_fill = PatternFill("solid", fgColor="F2F2F2")
    r = heading_row             # the row just written (ws.max_row scans every cell: too slow per row)
    for line in sheet.lines:
        r += 1
        if line.kind == "street":
            ws.append([xlsx_text(line.text)])
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=width)
            ws.cell(row=r, column=1).font = Font(bold=True)
            ws.cell(row=r, column=1).fill = street_fill
            continue
        values = [number_text_value(v) if is_num else (xlsx_text(v) if isinstance(v, str) else v)
                  for v, is_num in zip(line.cells, numeric)]
        ws.append(values + [line.building_total] + [None] * len(sheet.blank_columns))
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                ws.cell(row=r, column=column).data_type = "s"     # never a formula, whatever the text
    for i, heading in enumerate(sheet.headings, start=1):
        longest = max([len(heading)] + [len(str(ln.cells[i - 1])) for ln in sheet.lines[:500]
                                         if ln.kind == "resident" and i <= len(ln.cells)])
        ws.column_dimensions[get_column_letter(i)].width = min(max(6, longest + 2), 28)
    for i in range(len(sheet.columns) + 2, width + 1):       # the hand-filled columns: room to write
        ws.column_dimensions[get_column_letter(i)].width = 10 if i < width else 30
    ws.freeze_panes = ws.cell(row=heading_row + 1, column=1)
    print_setup(ws, title=sheet.title, printed_at=sheet.printed_at, title_rows=f"{heading_row}:{heading_row}")
    ws.print_options.gridLines = True      # lines to write along, without styling 20,000 cells one by one
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

