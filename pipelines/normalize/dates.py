"""Dates as sources write them: dd/mm/yyyy (also with . or -), ISO, Excel serial numbers and Excel date cells."""

from __future__ import annotations

import datetime as dt
import re

EXCEL_EPOCH = dt.date(1899, 12, 30)   # Excel's day 0 (with its 1900 leap-year bug folded in)
_DMY = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*$")
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_SERIAL = re.compile(r"^\s*(\d{4,5})(?:\.0+)?\s*$")


def parse_date(raw) -> dt.date | None:
    """Any of the accepted shapes -> date; impossible dates (31/02) and junk -> None."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, (int, float)):
        return EXCEL_EPOCH + dt.timedelta(days=int(raw)) if 1 <= raw < 100000 else None
    s = str(raw)
    try:
        if m := _DMY.match(s):
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if m := _ISO.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    if m := _SERIAL.match(s):
        return EXCEL_EPOCH + dt.timedelta(days=int(m[1]))
    return None
