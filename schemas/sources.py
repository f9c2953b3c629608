"""Source mappings (`sources/<source>.yaml`): source header (with aliases) -> canonical field, parser,
required or not, sensitivity. An authority whose export differs changes the YAML, not the code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from schemas.loader import SCHEMAS_DIR, load_yaml

SOURCES = ("population_register", "ods", "yachad", "disability_registry")

# Geresh/gershayim as they occur in exports: Hebrew punctuation, ASCII quotes, typographic quotes.
_GERESH = str.maketrans({"׳": "'", "’": "'", "‘": "'", "`": "'", "״": '"', "”": '"', "“": '"'})
_SPACES = re.compile(r"\s+")


def header_key(header: str) -> str:
    """The form headers are matched in: trimmed, spaces collapsed, geresh/gershayim unified, Latin lower-cased."""
    h = (header or "").replace("\ufeff", "").translate(_GERESH)
    h = h.replace("''", '"')
    return _SPACES.sub(" ", h).strip().lower()


@dataclass(frozen=True)
class ColumnMapping:
    field: str
    headers: tuple[str, ...]
    parser: str
    required: bool
    sensitivity: str
    values: tuple[str, ...] | None = None
    codes: str | None = None


@dataclass(frozen=True)
class SourceMapping:
    source: str
    description: str
    format: str
    columns: tuple[ColumnMapping, ...]
    record_key: str
    encodings: tuple[str, ...] = ("utf-8-sig",)
    delimiter: str = ","
    sheet: str | None = None

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


@lru_cache(maxsize=None)
def load_source(source: str) -> SourceMapping:
    path = SCHEMAS_DIR / "sources" / f"{source}.yaml"
    if not path.exists():
        raise KeyError(f"no mapping for source {source!r} (expected {path})")
    raw = load_yaml(f"sources/{source}.yaml")
    cols = tuple(
        ColumnMapping(
            field=c["field"],
            headers=tuple(c["headers"]),
            parser=c["parser"],
            required=bool(c.get("required", False)),
            sensitivity=c["sensitivity"],
            values=tuple(c["values"]) if c.get("values") else None,
            codes=c.get("codes"),
        )
        for c in raw["columns"]
    )
    if raw["record_key"] not in {c.field for c in cols}:
        raise ValueError(f"sources/{source}.yaml: record_key {raw['record_key']!r} is not one of its fields")
    return SourceMapping(
        source=raw["source"],
        description=raw.get("description", ""),
        format=raw["format"],
        columns=cols,
        record_key=raw["record_key"],
        encodings=tuple(raw.get("encodings", ["utf-8-sig"])),
        delimiter=raw.get("delimiter", ","),
        sheet=raw.get("sheet"),
    )
