"""Residents for systems: by key, by national ID or passport, by name and birth date, at an address.

Each function selects only the fields the caller is cleared for (`fields`, from `Consumer.resident_fields()`), on a
connection from `serving.queries.resident_file()`. Values leave as JSON-ready Python values (ISO dates). A caller
who may not see a field may not search by it either: lookups by ID and searches by name need those fields'
clearance, checked here from the model, as the named queries check what they filter on.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb

from pipelines.normalize.hebrew import match_form
from pipelines.normalize.israeli_id import parse_id
from schemas.model import table
from serving.catalogue import most_sensitive
from serving.feed import timestamp

MAX_SEARCH_RESULTS = 50


class InvalidInput(ValueError):
    """A request value is not of its kind; `field` names it (the value is never repeated)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def needed_clearance(*fields: str) -> str:
    """The clearance needed to filter on these resident-file fields."""
    model = table("resident_file")
    return most_sensitive(model[f].sensitivity for f in fields)


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return timestamp(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, str) and v[:1] in "{[":
        try:
            return json.loads(v)          # JSON columns (provenance) come back as text
        except ValueError:
            return v
    return v


def _select(fields: list[str]) -> str:
    return ", ".join(f'"{f}"' for f in fields)


def _rows(cur: duckdb.DuckDBPyConnection, fields: list[str]) -> list[dict[str, Any]]:
    return [{f: _value(v) for f, v in zip(fields, row)} for row in cur.fetchall()]


def by_key(con: duckdb.DuckDBPyConnection, key: str, fields: list[str]) -> dict[str, Any] | None:
    rows = _rows(con.execute(f"SELECT {_select(fields)} FROM resident_file WHERE resident_key = ?", [key]), fields)
    return rows[0] if rows else None


def surviving_key(con: duckdb.DuckDBPyConnection, retired_key: str) -> str | None:
    """The key a retired key was merged into (following later merges), or None."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'identity_merges'").fetchall()[0][0]
    key, seen = retired_key, set()
    while exists and key not in seen:
        seen.add(key)
        found = con.execute("SELECT any_value(surviving_key) FROM identity_merges WHERE retired_key = ?",
                            [key]).fetchall()[0][0]
        if found is None:
            break
        key = found
    return key if key != retired_key else None


def by_document(con: duckdb.DuckDBPyConnection, national_id: str | None, passport: str | None,
                fields: list[str]) -> list[dict[str, Any]]:
    """Residents holding this Israeli ID number (check digit validated) or this passport number."""
    if national_id is not None:
        value, kind, valid = parse_id(national_id)
        if kind != "IsraeliID" or not valid:
            raise InvalidInput("national_id", "national_id is not a valid Israeli ID number (9 digits, check digit)")
    else:
        value, kind, valid = parse_id(passport)
        if kind != "Passport" or not valid:
            raise InvalidInput("passport", "passport is not a passport number (letters and digits)")
    return _rows(con.execute(f"SELECT {_select(fields)} FROM resident_file WHERE national_id = ? AND id_type = ? "
                             "ORDER BY resident_key", [value, kind]), fields)


def by_name_and_birth_date(con: duckdb.DuckDBPyConnection, last_name: str, first_name: str | None,
                           birth_date: dt.date, fields: list[str]) -> list[dict[str, Any]]:
    """Residents born on `birth_date` whose names match as names are matched everywhere in Toshav (`match_form`:
    final letters, geresh, niqqud, spacing). The birth date narrows a city to a few dozen people in SQL; their names
    are then compared with the pipeline's own Python function rather than a second SQL rendering of it."""
    want_last, want_first = match_form(last_name), match_form(first_name)
    if want_last is None:
        raise InvalidInput("last_name", "last_name is empty")
    candidates = con.execute("SELECT resident_key, last_name, first_name FROM resident_file WHERE birth_date = ?",
                             [birth_date]).fetchall()
    keys = [k for k, last, first in candidates
            if match_form(last) == want_last and (want_first is None or match_form(first) == want_first)]
    keys = sorted(keys)[:MAX_SEARCH_RESULTS]
    if not keys:
        return []
    return _rows(con.execute(f"SELECT {_select(fields)} FROM resident_file WHERE list_contains(?, resident_key) "
                             "ORDER BY resident_key", [keys]), fields)


def by_keys(con: duckdb.DuckDBPyConnection, keys: list[str], fields: list[str]) -> list[dict[str, Any]]:
    if not keys:
        return []
    return _rows(con.execute(f"SELECT {_select(fields)} FROM resident_file WHERE list_contains(?, resident_key)",
                             [keys]), fields)
