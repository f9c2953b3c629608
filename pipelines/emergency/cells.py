"""How a value is shown to a field team: Hebrew labels for codes, phone numbers as dialled in Israel, כן / לא.

The same shown values go to the terminal table, the web page, CSV and XLSX, so a list reads the same wherever
it is opened. Numbers stay numbers (a floor of -1 is a basement, not a formula).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable

import phonenumbers

from pipelines.emergency.catalogue import Column

YES, NO = "כן", "לא"


def phone_for_dialling(value: str) -> str:
    """`+972501234567` -> `050-123-4567`; anything that does not parse is shown as stored."""
    try:
        number = phonenumbers.parse(value, "IL")
    except phonenumbers.NumberParseException:
        return value
    if number.country_code != 972:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)


def formatter(column: Column, labels: dict[str, dict[str, str]]) -> Callable[[Any], Any]:
    """A function from a stored value to the shown value ('' for NULL) for one output column."""
    kind, _, label_map = column.format.partition(":")

    def shown(value: Any) -> Any:
        if value is None:
            return ""
        if kind == "number":
            return value if isinstance(value, int) else _text(value)
        if kind == "yes_no":
            return YES if value else NO
        if kind == "phone":
            return phone_for_dialling(str(value))
        if kind == "labels":
            return labels[label_map].get(str(value), str(value))
        if kind == "list_labels":
            return ", ".join(labels[label_map].get(str(v), str(v)) for v in value if v is not None)
        return _text(value)

    return shown


def shown_rows(rows: list[tuple], columns: list[Column], labels: dict[str, dict[str, str]]) -> list[list[Any]]:
    fmts = [formatter(c, labels) for c in columns]
    return [[f(v) for f, v in zip(fmts, row)] for row in rows]
