"""Expectation suites, one per asset: derived from schemas/ plus the hand-written ones in expectations.yaml.

A suite is plain data (no Great Expectations, no Dagster): the table it reads, which of its columns may be shown
as sample values (public sensitivity only), and its expectations. quality/measure.py turns an expectation into
SQL, quality/gx_validation.py judges the measurement, quality/checks.py makes one Dagster check of each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from quality.formats import predicate as format_predicate
from schemas.model import load_model
from schemas.sources import SOURCES, load_source

EXPECTATIONS_FILE = Path(__file__).with_name("expectations.yaml")
SEVERITIES = ("ERROR", "WARN")
KINDS = ("not_null", "in_set", "format", "unique", "condition", "query", "min_rows", "columns", "schema",
         "row_count_drift")
# Columns the connectors add to raw_/stg_ tables: file bookkeeping, never personal.
TECHNICAL_PUBLIC = ("delivery_id", "_file", "_file_hash", "_row")
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Expectation:
    """One expectation = one Dagster asset check. `kind` says how it is measured (quality/measure.py)."""

    asset: str
    name: str
    kind: str
    severity: str
    description: str
    origin: str                                  # the file it comes from
    column: str | None = None
    values: tuple[str, ...] | None = None        # in_set
    predicate: str | None = None                 # format: SQL true when well formed
    violation: str | None = None                 # condition
    where: str | None = None                     # condition: rows it applies to
    sql: str | None = None                       # query (total, unexpected) / min_rows (count)
    samples_sql: str | None = None               # query: public values to show
    samples_from: str | None = None              # query: table.column the samples come from
    columns: tuple[tuple[str, str | None], ...] = ()   # columns/schema: (column, type or None)
    max_share: float = 0.0
    max_drop: float | None = None                # row_count_drift
    min_rows: int | None = None                  # min_rows
    blocking: bool = False

    @property
    def threshold(self) -> str:
        """The threshold in words, for metadata and the report."""
        if self.kind == "row_count_drift":
            return f"drop <= {self.max_drop:.0%} vs last accepted run"
        if self.kind == "min_rows":
            return f">= {self.min_rows} rows"
        if self.kind in ("columns", "schema"):
            return "no missing or mistyped column"
        return "none" if self.max_share == 0 else f"<= {self.max_share:.2%} of rows"


@dataclass(frozen=True)
class Suite:
    """Expectations over one table, reported as checks of one asset. An asset usually has one suite (named after
    it); resident_file and emergency_profile also carry the suite of the sync payload built from them."""

    asset: str
    table: str
    locator: str                                 # public column naming a row, for samples of failing rows
    public: frozenset[str]                       # columns whose values may be shown
    expectations: tuple[Expectation, ...] = field(default_factory=tuple)
    scope: str | None = None                     # SQL filter: the rows the suite judges (raw: latest delivery)
    source: str | None = None                    # raw_/stg_ suites: the source system
    name: str = ""                               # defaults to the asset
    payload_object: str | None = None            # payload suites: the MuniForce object (table built before measuring)

    def __post_init__(self):
        if not self.name:
            object.__setattr__(self, "name", self.asset)

    def __getitem__(self, name: str) -> Expectation:
        for e in self.expectations:
            if e.name == name:
                return e
        raise KeyError(f"suite {self.asset} has no expectation {name!r}")


@lru_cache(maxsize=None)
def config() -> dict:
    with open(EXPECTATIONS_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _rule(layer: str, rule: str) -> dict:
    """A derivation rule of expectations.yaml `derived`: {severity, max_share, max_drop}."""
    spec = config()["derived"][layer][rule]
    return {"severity": spec} if isinstance(spec, str) else dict(spec)


def _per_asset(value, asset: str, default=None):
    """`value` or, for a {default: .., <asset>: ..} mapping, the asset's entry."""
    if isinstance(value, dict):
        return value.get(asset, value.get("default", default))
    return default if value is None else value




def _drift(asset: str, layer: str, origin: str, description: str) -> Expectation:
    """The row-count drift expectation of a layer; `{max_drop}` in the description becomes the threshold."""
    drift = _rule(layer, "row_count_drift")
    return Expectation(asset, "row_count_drift", "row_count_drift", drift["severity"], origin=origin,
                       max_drop=float(drift["max_drop"]),
                       description=description.format(max_drop=f"{float(drift['max_drop']):.0%}"))


# --- derived from schemas/resident_model.yaml ---------------------------------------------------------------------

def model_expectations(asset: str, model_table: str) -> list[Expectation]:
    t = load_model()[model_table]
    origin = "schemas/resident_model.yaml"
    out: list[Expectation] = []
    rule = lambda r: _rule("model", r)  # noqa: E731
    out.append(Expectation(asset, "schema", "schema", rule("types")["severity"], origin=origin,
                           columns=tuple((f.name, f.type) for f in t.fields),
                           description=f"{model_table} has every column of the model with its declared type."))
    for f in t.fields:
        if f.required:
            out.append(Expectation(asset, f"{f.name}_not_null", "not_null", rule("required")["severity"], origin=origin,
                                   column=f.name, description=f"{f.name} is required."))
        if f.unique or f.name == t.key:
            out.append(Expectation(asset, f"{f.name}_unique", "unique", rule("unique")["severity"], origin=origin,
                                   column=f.name, description=f"{f.name} is unique in {model_table}."))
        if f.values:
            out.append(Expectation(asset, f"{f.name}_in_set", "in_set", rule("values")["severity"], origin=origin,
                                   column=f.name, values=f.values,
                                   description=f"{f.name} is one of: {', '.join(f.values)}."))
        if f.format:
            out.append(Expectation(asset, f"{f.name}_{f.format}", "format", rule("format")["severity"], origin=origin,
                                   column=f.name, predicate=format_predicate(f.format, f.name),
                                   description=f"{f.name} is a well-formed {f.format} value."))
    out.append(_drift(asset, "model", origin, f"{model_table} did not shrink by more than {{max_drop}} "
                                              "since the last accepted run of this municipality."))
    return out


def model_public(model_table: str) -> frozenset[str]:
    return frozenset(f.name for f in load_model()[model_table].fields if not f.is_private)


# --- derived from schemas/sources/<source>.yaml ---------------------------------------------------------------------

def raw_expectations(source: str) -> list[Expectation]:
    m = load_source(source)
    asset, origin = f"raw_{source}", f"schemas/sources/{source}.yaml"
    out = [Expectation(asset, "columns", "columns", _rule("raw", "columns")["severity"], origin=origin,
                       columns=tuple((c, None) for c in (*TECHNICAL_PUBLIC, *m.fields)),
                       description=f"raw_{source} has a column for every field of the {source} mapping.")]
    present = _rule("raw", "required_present")
    for c in m.columns:
        if c.required:
            out.append(Expectation(asset, f"{c.field}_present", "not_null", present["severity"], origin=origin,
                                   column=c.field, max_share=float(present.get("max_share", 0)),
                                   description=f"{c.field} is required by the mapping; rows without it are quarantined."))
    out.append(_drift(asset, "raw", origin, f"The latest {source} delivery is not more than {{max_drop}} "
                                            "smaller than the last accepted one."))
    return out


def staged_columns(source: str) -> dict[str, tuple[str, str | None]]:
    """{staged column: (sensitivity, expected type or None)} for the columns the mapping's parsers produce.
    Derived outputs (`<field>_raw`, `_match`, `_valid`, `_kind`) carry their field's sensitivity; `id_type` is public
    as in the model."""
    types = config()["staging_types"]
    cols: dict[str, tuple[str, str | None]] = {c: ("public", None) for c in TECHNICAL_PUBLIC if c != "_file_hash"}
    for c in load_source(source).columns:
        cols[c.field] = (c.sensitivity, types.get(c.parser))
        if c.parser == "israeli_id":
            cols[f"{c.field}_valid"] = (c.sensitivity, "BOOLEAN")
            cols["id_type"] = ("public", "VARCHAR")
    return cols


def stg_expectations(source: str) -> list[Expectation]:
    m = load_source(source)
    asset, origin = f"stg_{source}", f"schemas/sources/{source}.yaml"
    typed = tuple((c, t) for c, (_, t) in staged_columns(source).items() if t is not None)
    out = [Expectation(asset, "schema", "schema", _rule("staging", "types")["severity"], origin=origin, columns=typed,
                       description=f"stg_{source} has the columns its parsers produce, with their types.")]
    for c in m.columns:
        if c.required:
            out.append(Expectation(asset, f"{c.field}_not_null", "not_null", _rule("staging", "required")["severity"],
                                   origin=origin, column=c.field,
                                   description=f"{c.field} is required: staging quarantines rows without it."))
        if c.values:
            out.append(Expectation(asset, f"{c.field}_in_set", "in_set", _rule("staging", "values")["severity"],
                                   origin=origin, column=c.field, values=c.values,
                                   description=f"{c.field} is one of: {', '.join(c.values)}."))
        if c.parser == "phone":
            out.append(Expectation(asset, f"{c.field}_e164", "format", _rule("staging", "phone_e164")["severity"],
                                   origin=origin, column=c.field, predicate=format_predicate("e164", c.field),
                                   description=f"{c.field} is stored in E.164 (+972...)."))
    out.append(_drift(asset, "staging", origin, f"stg_{source} did not shrink by more than {{max_drop}} "
                                                "since the last accepted run."))
    return out


# --- hand-written (expectations.yaml) -----------------------------------------------------------------------------------

def handwritten_expectations(asset: str) -> list[Expectation]:
    out = []
    for spec in config().get("expectations", []):
        if asset not in spec["assets"]:
            continue
        kind = spec.get("kind", "condition")
        min_rows = _per_asset(spec.get("min_rows"), asset)
        max_drop = _per_asset(spec.get("max_drop"), asset)
        out.append(Expectation(
            asset, spec["name"], kind, _per_asset(spec["severity"], asset), description=" ".join(spec["description"].split()),
            origin="quality/expectations.yaml", violation=spec.get("violation"), where=spec.get("where"),
            sql=spec.get("sql"), samples_sql=spec.get("samples"), samples_from=spec.get("samples_from"),
            column=spec.get("column"), max_share=float(_per_asset(spec.get("max_share"), asset, 0.0)),
            min_rows=None if min_rows is None else int(min_rows),
            max_drop=None if max_drop is None else float(max_drop)))
    return out


# --- the suites ---------------------------------------------------------------------------------------------------------

def _gate(e: Expectation) -> Expectation:
    blocking = e.severity == "ERROR" and e.asset in config().get("gate", [])
    return Expectation(**{**e.__dict__, "blocking": blocking})


def _validate(suite: Suite) -> Suite:
    """Fail at load time, not in a run: names Dagster accepts, known kinds and severities, public locators."""
    seen = set()
    for e in suite.expectations:
        if not _NAME.match(e.name) or e.name in seen:
            raise ValueError(f"suite {suite.name}: check name {e.name!r} is not a unique identifier")
        seen.add(e.name)
        if e.kind not in KINDS:
            raise ValueError(f"suite {suite.name}: {e.name} has unknown kind {e.kind!r}")
        if e.severity not in SEVERITIES:
            raise ValueError(f"suite {suite.name}: {e.name} has severity {e.severity!r}, not one of {SEVERITIES}")
        if e.kind == "condition" and not e.violation:
            raise ValueError(f"suite {suite.name}: condition {e.name} needs `violation`")
        if e.kind == "query" and not e.sql:
            raise ValueError(f"suite {suite.name}: query {e.name} needs `sql`")
        if e.samples_sql and not e.samples_from:
            raise ValueError(f"suite {suite.name}: {e.name} shows samples but does not say where they come from")
        if e.samples_from and e.samples_from not in public_columns():
            raise ValueError(f"suite {suite.name}: {e.name} samples {e.samples_from}, which is not a public column")
    if suite.locator not in suite.public:
        raise ValueError(f"suite {suite.name}: locator {suite.locator!r} is not a public column")
    return suite


@lru_cache(maxsize=None)
def public_columns() -> frozenset[str]:
    """`table.column` of every column known to be public, across suites and the connectors' bookkeeping tables."""
    cols = {f"quarantine.{c}" for c in ("source", "delivery_id", "file", "row", "fields", "reasons", "quarantined_at")}
    cols |= {f"deliveries.{c}" for c in ("delivery_id", "source", "file", "status", "problem", "rows", "malformed")}
    for name in load_model():
        cols |= {f"{name}.{c}" for c in model_public(name)}
    for spec in config()["assets"].values():
        if "table" in spec:
            cols |= {f"{spec['table']}.{c}" for c in spec.get("public", [])}
            if "public_model" in spec:
                cols |= {f"{spec['table']}.{c}" for c in model_public(spec["public_model"])}
    return frozenset(cols)


def _configured_suite(asset: str, spec: dict) -> Suite:
    if "model" in spec:
        model_table = spec["model"]
        expectations = model_expectations(asset, model_table)
        table, public = model_table, model_public(model_table)
        locator = spec.get("locator", load_model()[model_table].key)
    else:
        public = set(spec.get("public", []))
        if "public_model" in spec:          # a table holding a model table's columns (the history)
            public |= model_public(spec["public_model"])
        expectations, table, public, locator = [], spec["table"], frozenset(public), spec["locator"]
    expectations += handwritten_expectations(asset)
    return Suite(asset, table, locator, public, tuple(_gate(e) for e in expectations))


@lru_cache(maxsize=None)
def suites() -> dict[str, Suite]:
    """Every suite, by suite name (an asset's own suite is named after the asset)."""
    from quality.payload import payload_suites

    out: dict[str, Suite] = {}
    for source in SOURCES:
        staged = staged_columns(source)
        public = frozenset(c for c, (s, _) in staged.items() if s == "public")
        raw_public = frozenset(c for c in public if c in (*TECHNICAL_PUBLIC, *load_source(source).fields))
        out[f"raw_{source}"] = Suite(f"raw_{source}", f"raw_{source}", "_row", raw_public,
                                     tuple(_gate(e) for e in raw_expectations(source) + handwritten_expectations(f"raw_{source}")),
                                     scope="delivery_id = $delivery", source=source)
        out[f"stg_{source}"] = Suite(f"stg_{source}", f"stg_{source}", "_row", public,
                                     tuple(_gate(e) for e in stg_expectations(source) + handwritten_expectations(f"stg_{source}")),
                                     source=source)
    for asset, spec in config()["assets"].items():
        out[asset] = _configured_suite(asset, spec)
    for s in payload_suites():
        out[s.name] = Suite(**{**s.__dict__, "expectations": tuple(_gate(e) for e in s.expectations)})
    validated = {name: _validate(s) for name, s in out.items()}
    for asset, group in suites_of(validated).items():
        names = [e.name for s in group for e in s.expectations]
        if len(names) != len(set(names)):
            raise ValueError(f"asset {asset}: two suites define a check of the same name")
    return validated


def suites_of(all_suites: dict[str, Suite]) -> dict[str, list[Suite]]:
    """{asset: [its suites]}: one Dagster multi-asset check per asset runs them all."""
    out: dict[str, list[Suite]] = {}
    for s in all_suites.values():
        out.setdefault(s.asset, []).append(s)
    return out


def suite(name: str) -> Suite:
    return suites()[name]
