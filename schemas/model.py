"""The unified resident model (`resident_model.yaml`): fields, types, sensitivity, and the DDL derived from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from schemas.loader import load_yaml

SENSITIVITY = ("public", "personal", "sensitive")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    sensitivity: str
    required: bool = False
    unique: bool = False
    values: tuple[str, ...] | None = None
    format: str | None = None
    description: str = ""
    indexed: bool = False

    @property
    def is_private(self) -> bool:
        """Personal or sensitive: never in logs, run metadata or exception messages."""
        return self.sensitivity != "public"


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: str
    fields: tuple[Field, ...] = field(default_factory=tuple)
    membership_sensitivity: str | None = None   # being in this table at all says this much (a health profile)

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


@lru_cache(maxsize=None)
def load_model() -> dict[str, Table]:
    raw = load_yaml("resident_model.yaml")
    tables = {}
    for name, spec in raw["tables"].items():
        fields = []
        for fname, f in spec["fields"].items():
            if f["sensitivity"] not in SENSITIVITY:
                raise ValueError(f"resident_model.yaml: {name}.{fname} has unknown sensitivity {f['sensitivity']!r}")
            fields.append(
                Field(
                    name=fname,
                    type=f["type"],
                    sensitivity=f["sensitivity"],
                    required=bool(f.get("required", False)),
                    unique=bool(f.get("unique", False)),
                    values=tuple(f["values"]) if f.get("values") else None,
                    format=f.get("format"),
                    description=f.get("description", ""),
                    indexed=bool(f.get("indexed", False)),
                )
            )
        membership = spec.get("membership_sensitivity")
        if membership is not None and membership not in SENSITIVITY:
            raise ValueError(f"resident_model.yaml: {name}.membership_sensitivity {membership!r} is not a sensitivity")
        tables[name] = Table(name=name, description=spec.get("description", ""), key=spec["key"], fields=tuple(fields),
                             membership_sensitivity=membership)
    return tables


def table(name: str) -> Table:
    return load_model()[name]


def survivorship() -> dict[str, dict]:
    """Survivorship groups: {group: {fields: [...], prefer: [source, ...]}}."""
    return load_yaml("resident_model.yaml")["survivorship"]


def ddl(name: str, table_name: str | None = None) -> str:
    """CREATE TABLE statement for a model table (NOT NULL for required fields, PRIMARY KEY on the key)."""
    t = table(name)
    cols = []
    for f in t.fields:
        col = f'"{f.name}" {f.type}'
        if f.name == t.key:
            col += " PRIMARY KEY"
        elif f.required:
            col += " NOT NULL"
        cols.append(col)
    return f"CREATE TABLE IF NOT EXISTS {table_name or name} (\n  " + ",\n  ".join(cols) + "\n)"


def index_statements(name: str, database: str | None = None) -> list[str]:
    """CREATE INDEX statements for the model table's `indexed` fields (run after the table is filled: faster);
    `database` names an attached database holding the table (publishing)."""
    target = f"{database}.{name}" if database else name
    return [f'CREATE INDEX IF NOT EXISTS {name}_{f.name} ON {target} ("{f.name}")'
            for f in table(name).fields if f.indexed]


def personal_fields(name: str) -> set[str]:
    """Fields of a model table whose values must never leave the database in logs or metadata."""
    return {f.name for f in table(name).fields if f.is_private}
