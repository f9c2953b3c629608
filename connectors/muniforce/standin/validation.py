"""Field values as Salesforce checks them, from the describe: types, lengths in characters (a Hebrew letter
is one character, as in Salesforce, though two bytes in UTF-8), restricted picklists, e-mail addresses.

Each validator takes a value as it arrives (JSON from REST, text from Bulk CSV) and returns the value to
store, or raises `FieldError` with Salesforce's statusCode and message shape. Like Salesforce, the messages
echo the offending value: the sync redacts them.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Callable

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TEXT_TYPES = {"string", "textarea", "phone", "email", "picklist", "multipicklist", "url"}


class FieldError(Exception):
    def __init__(self, code: str, message: str, fields: list[str]):
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields


Validator = Callable[[Any], Any]


def validator(field: dict) -> Validator:
    """A function checking and converting one field's value (None clears the field)."""
    name, label, type_ = field["name"], field["label"], field["type"]

    def bad_type(v):
        return FieldError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{label}: value not of required type: {v}", [name])

    if type_ in _TEXT_TYPES or type_ in ("id", "reference"):
        max_len = field.get("length") or 0
        restricted = field.get("restrictedPicklist")
        allowed = {p["value"] for p in field.get("picklistValues", []) if p.get("active", True)}

        def check_text(v):
            if v is None:
                return None
            if isinstance(v, (dict, list)):
                raise bad_type(v)
            v = str(v) if not isinstance(v, bool) else ("true" if v else "false")
            if v == "":
                return None
            if max_len and len(v) > max_len:
                raise FieldError("STRING_TOO_LONG", f"{label}: data value too large: {v} (max length={max_len})",
                                 [name])
            if type_ == "email" and not _EMAIL.match(v):
                raise FieldError("INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {v}", [name])
            if restricted and type_ == "picklist" and v not in allowed:
                raise FieldError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                 f"{label}: bad value for restricted picklist field: {v}", [name])
            if restricted and type_ == "multipicklist":
                for part in v.split(";"):
                    if part not in allowed:
                        raise FieldError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                                         f"{label}: bad value for restricted picklist field: {part}", [name])
            return v

        return check_text

    if type_ in ("double", "int", "currency", "percent"):
        precision, scale = field.get("precision") or 18, field.get("scale") or 0

        def check_number(v):
            if v is None or v == "":
                return None
            if isinstance(v, bool):
                raise bad_type(v)
            try:
                num = float(v)
            except (TypeError, ValueError):
                raise bad_type(v) from None
            if abs(num) >= 10 ** (precision - scale):
                raise FieldError("NUMBER_OUTSIDE_VALID_RANGE",
                                 f"{label}: value outside of valid range on numeric field: {v}", [name])
            return round(num, scale) if scale else float(round(num))

        return check_number

    if type_ == "boolean":
        def check_bool(v):
            if v is None:
                return 0  # a checkbox is never null
            if isinstance(v, bool):
                return int(v)
            s = str(v).strip().lower()
            if s in ("true", "1"):
                return 1
            if s in ("false", "0", ""):
                return 0
            raise bad_type(v)

        return check_bool

    if type_ == "date":
        def check_date(v):
            if v is None or v == "":
                return None
            s = str(v)
            if s.endswith("Z"):
                s = s[:-1]
            try:
                if not _DATE.match(s):
                    raise ValueError
                return date.fromisoformat(s).isoformat()
            except ValueError:
                raise bad_type(v) from None

        return check_date

    if type_ == "datetime":
        def check_datetime(v):
            if v is None or v == "":
                return None
            s = str(v).replace("Z", "+00:00")
            try:
                dt = datetime.fromisoformat(s)
            except ValueError:
                raise bad_type(v) from None
            if dt.tzinfo is None:
                dt = dt.replace(tzinfo=timezone.utc)
            return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")

        return check_datetime

    raise ValueError(f"the stand-in has no validator for type {type_!r}")


def output_value(field: dict, stored: Any) -> Any:
    """A stored value as REST returns it."""
    if stored is None:
        return None if field["type"] != "boolean" else False
    if field["type"] == "boolean":
        return bool(stored)
    return stored
