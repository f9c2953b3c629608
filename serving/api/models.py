"""Request and response shapes of the open API, for validation and for the OpenAPI 3.1 document.

The resident shape is derived from `schemas/resident_model.yaml` (types and descriptions), every field optional:
a consumer receives only the fields it is cleared for, so a field may be absent from a response; it is never sent
as a placeholder.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

from schemas.model import table
from serving.feed import EVENT_TYPES, MAX_PAGE

_TYPES: dict[str, Any] = {"VARCHAR": str, "INTEGER": int, "BIGINT": int, "DATE": dt.date, "TIMESTAMP": dt.datetime,
                          "BOOLEAN": bool, "VARCHAR[]": list[str], "JSON": dict[str, Any]}
SHORT = 100


def _resident_model() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for f in table("resident_file").fields:
        py = _TYPES[f.type]
        if f.values:
            py = Literal[tuple(f.values)]  # type: ignore[valid-type]
        description = f"{f.description or f.name} (sensitivity: {f.sensitivity})"
        fields[f.name] = (Optional[py], Field(None, description=description))
    return create_model("Resident", __config__=ConfigDict(extra="forbid"), **fields)


Resident = _resident_model()
Resident.__doc__ = ("A resident of the resident file with the fields the consumer is cleared for. — "
                    "תושב מתיק התושב, עם השדות שהמערכת הצורכת מורשית לקבל.")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LookupRequest(_Body):
    """One of national_id or passport. — אחד מהשניים: מספר זהות או דרכון."""
    national_id: Optional[str] = Field(None, min_length=1, max_length=20,
                                       description="Israeli ID number, 9 digits with check digit. — מספר זהות")
    passport: Optional[str] = Field(None, min_length=1, max_length=20,
                                    description="Passport number. — מספר דרכון")


class SearchRequest(_Body):
    """A name and a birth date. — שם ותאריך לידה."""
    last_name: str = Field(min_length=1, max_length=SHORT, description="Family name. — שם משפחה")
    first_name: Optional[str] = Field(None, min_length=1, max_length=SHORT, description="Given name. — שם פרטי")
    birth_date: dt.date = Field(description="Birth date (YYYY-MM-DD). — תאריך לידה")


class HouseholdRequest(_Body):
    """An address as a person types it; the street is matched like the emergency lists match it. — כתובת."""
    street: Optional[str] = Field(None, min_length=1, max_length=SHORT,
                                  description="Street name as typed (רח' הרצל). — שם רחוב כפי שמקלידים")
    street_code: Optional[int] = Field(None, ge=1, le=99999,
                                       description="Street code of the national registry. — סמל רחוב")
    house_number: str = Field(min_length=1, max_length=10, description="House number with its letter (12א). — מספר בית")
    entrance: Optional[str] = Field(None, min_length=1, max_length=10, description="Entrance. — כניסה")
    apartment: Optional[str] = Field(None, min_length=1, max_length=10, description="Apartment. — דירה")


class Residents(BaseModel):
    residents: list[Resident]  # type: ignore[valid-type]


class Street(BaseModel):
    code: int
    name: str


class Household(BaseModel):
    street: Optional[Street] = None
    residents: list[Resident]  # type: ignore[valid-type]


ParameterValue = str | int | bool | list[str | int]


class ListRequest(_Body):
    """The named query's parameters by name (see GET /v1/emergency-lists). — פרמטרים של הרשימה."""
    parameters: dict[str, ParameterValue] = Field(default_factory=dict, max_length=20)


class ListColumn(BaseModel):
    name: str
    title_he: str
    sensitivity: Literal["public", "personal", "sensitive"]


class ListParameter(BaseModel):
    name: str
    type: str
    title_he: str
    required: bool
    choices: list[str] = []


class ListInfo(BaseModel):
    name: str
    title_he: str
    description: str
    description_he: str
    parameters: list[ListParameter]
    columns: list[ListColumn]


class ListCatalogue(BaseModel):
    lists: list[ListInfo]


class ListResult(BaseModel):
    name: str
    columns: list[ListColumn]
    rows: list[dict[str, Optional[str | int | float]]]
    warnings: list[str]


class Event(BaseModel):
    id: str = Field(description="Idempotent event id: the same event always has the same id. — מזהה אירוע")
    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    at: dt.datetime
    resident_key: str
    data: Optional[dict[str, Any]] = Field(None, description="The version's cleared fields (created, changed, "
                                                              "moved_out, deceased). — ערכי הגרסה")
    changed_fields: Optional[list[str]] = None
    surviving_key: Optional[str] = Field(None, description="merged: the key that now holds the resident.")


class Changes(BaseModel):
    events: list[Event]
    next_cursor: str = Field(description="Give it back as `cursor` to read on. — סמן להמשך")
    has_more: bool


class ProblemDetail(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    errors: Optional[list[dict[str, str]]] = None


PAGE_LIMIT = MAX_PAGE
