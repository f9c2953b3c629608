"""Source mappings (`sources/<source>.yaml`): everything one source contributes, as data.

Per source: how it is delivered (format, encodings, sheet), source header (with aliases) -> canonical field,
parser, required or not, sensitivity; which field names a record (and what names it when that field is empty);
the legal basis on which its data may be used for emergencies; and its delivery policy (how old its data may be,
and whether a rejected or stale delivery stops the MuniForce sync). An authority whose export differs changes the
YAML, not the code.

The files are loaded into a typed model (pydantic): a mistake fails when the file loads, with a message naming the
file and the key (`sources/yachad.yaml: policy.stale_after_hours: Input should be a valid number`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.loader import SCHEMAS_DIR, load_yaml

SOURCES = ("population_register", "ods", "yachad", "disability_registry")
REGISTER_SOURCE = "population_register"   # the identity backbone: who is a resident, and who moved out

SENSITIVITY = ("public", "personal", "sensitive")
# Why Toshav may use a source's data for emergency assistance (docs/identity.md, "legal bases"):
#   consent: the resident's own consent, recorded in the source (the 2024 disability registry);
#   statutory: a government body reports it under law (ODS);
#   government_emergency_system: a state emergency system shares it with the authority for emergency management
#   (Yachad): usable on the emergency lists by entitled roles, for everyone the system tracks;
#   none: identity and address only.
EMERGENCY_BASES = ("consent", "statutory", "government_emergency_system", "none")

# Geresh/gershayim as they occur in exports: Hebrew punctuation, ASCII quotes, typographic quotes.
_GERESH = str.maketrans({"׳": "'", "’": "'", "‘": "'", "`": "'", "״": '"', "”": '"', "“": '"'})
_SPACES = re.compile(r"\s+")


class SourceMappingError(ValueError):
    """A source mapping is not valid: names the file and the key, never a data value."""


def header_key(header: str) -> str:
    """The form headers are matched in: trimmed, spaces collapsed, geresh/gershayim unified, Latin lower-cased."""
    h = (header or "").replace("\ufeff", "").translate(_GERESH)
    h = h.replace("''", '"')
    return _SPACES.sub(" ", h).strip().lower()


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ColumnMapping(_Strict):
    field: str
    headers: tuple[str, ...] = Field(min_length=1)
    parser: str
    required: bool = False
    sensitivity: Literal["public", "personal", "sensitive"]
    values: tuple[str, ...] | None = None      # a closed list of accepted values
    codes: str | None = None                   # the code list (needs_codes.yaml) its labels map to
    max_length: int | None = Field(default=None, gt=0)   # a longer value is not a value of this field


class DeliveryPolicy(_Strict):
    """How old a source's data may get, and what a rejected or stale delivery stops."""

    stale_after_hours: float = Field(gt=0)   # data older than this (by its own date) is stale: its check fails
    blocks_sync: bool = False                # a rejected or stale delivery stops the MuniForce sync (else: warns)


class SourceMapping(_Strict):
    source: str
    description: str = ""
    format: Literal["csv", "jsonl", "xlsx"]
    columns: tuple[ColumnMapping, ...] = Field(min_length=1)
    record_key: str
    # fields that together name a record whose record_key is empty (a hand-kept row without an ID number)
    record_key_fallback: tuple[str, ...] = ()
    # a row is kept when at least one of these has a value (else it names nobody and is quarantined)
    require_any: tuple[str, ...] = ()
    # sources staged before this one because its enrichment reads them (Yachad's name order: the register's names)
    staged_after: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ("utf-8-sig",)
    delimiter: str = ","
    sheet: str | None = None
    resource_id_env: str | None = None
    emergency_basis: Literal["consent", "statutory", "government_emergency_system", "none"] = "none"
    as_of_field: str | None = None           # the field whose latest value dates a delivery's data
    policy: DeliveryPolicy
    label_he: str                            # the source's name as the page and exports show it
    # a government emergency system's report about a resident: report field -> staged column
    emergency_report: dict[Literal["status", "location", "needs_codes", "phone", "household_size", "reported_at"],
                           str] | None = None

    @field_validator("columns")
    @classmethod
    def _unique_fields(cls, columns):
        seen = set()
        for c in columns:
            if c.field in seen:
                raise ValueError(f"field {c.field!r} is mapped twice")
            seen.add(c.field)
        return columns

    @model_validator(mode="after")
    def _fields_exist(self):
        fields = set(self.fields)
        for key, names in (("record_key", [self.record_key]), ("record_key_fallback", self.record_key_fallback),
                           ("require_any", self.require_any),
                           ("as_of_field", [self.as_of_field] if self.as_of_field else [])):
            unknown = [n for n in names if n not in fields]
            if unknown:
                raise ValueError(f"{key}: {', '.join(map(repr, unknown))} is not one of its fields")
        unknown = [s for s in self.staged_after if s not in SOURCES]
        if unknown:
            raise ValueError(f"staged_after: {', '.join(map(repr, unknown))} is not a source")
        if (self.emergency_report is not None) != (self.emergency_basis == "government_emergency_system"):
            raise ValueError("emergency_report: declared exactly by the sources whose emergency_basis is "
                             "government_emergency_system")
        return self

    @property
    def fields(self) -> list[str]:
        return [c.field for c in self.columns]

    def column(self, field: str) -> ColumnMapping:
        for c in self.columns:
            if c.field == field:
                return c
        raise KeyError(f"{self.source} mapping has no field {field!r}")

    def match_headers(self, headers: list[str]) -> tuple[dict[int, str], list[str], list[str]]:
        """Map file headers to fields.

        Returns ({column index: field}, [missing required fields], [unknown extra headers]).
        """
        by_key = {}
        for c in self.columns:
            for h in c.headers:
                by_key[header_key(h)] = c.field
        found: dict[int, str] = {}
        extra: list[str] = []
        for i, h in enumerate(headers):
            f = by_key.get(header_key(h))
            if f is not None and f not in found.values():
                found[i] = f
            elif (h or "").strip():
                extra.append(h.strip())
        missing = [c.field for c in self.columns if c.required and c.field not in found.values()]
        return found, missing, extra


def _explain(error: ValidationError) -> str:
    """pydantic's errors as `key.path: message`, one per line, without the input values."""
    parts = []
    for e in error.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in e["loc"])
        parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
    return "; ".join(parts)


def parse_mapping(raw: object, where: str) -> SourceMapping:
    """A mapping from its YAML content; `where` names the file in errors."""
    if not isinstance(raw, dict):
        raise SourceMappingError(f"{where}: expected a mapping of keys, found {type(raw).__name__}")
    try:
        mapping = SourceMapping.model_validate(raw)
    except ValidationError as e:
        raise SourceMappingError(f"{where}: {_explain(e)}") from None
    if f"sources/{mapping.source}.yaml" != where and not where.endswith(f"/{mapping.source}.yaml"):
        raise SourceMappingError(f"{where}: source: {mapping.source!r} differs from the file's name")
    return mapping


@lru_cache(maxsize=None)
def load_source(source: str) -> SourceMapping:
    path = SCHEMAS_DIR / "sources" / f"{source}.yaml"
    if not path.exists():
        raise KeyError(f"no mapping for source {source!r} (expected {path})")
    return parse_mapping(load_yaml(f"sources/{source}.yaml"), f"sources/{source}.yaml")


def emergency_sources(basis: str) -> list[str]:
    """The sources whose data reaches the emergency lists on `basis`."""
    if basis not in EMERGENCY_BASES:
        raise KeyError(f"unknown emergency basis {basis!r}")
    return [s for s in SOURCES if load_source(s).emergency_basis == basis]
