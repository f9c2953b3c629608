"""The named emergency queries (`schemas/emergency_queries.yaml`), loaded, checked and given their sensitivity.

Sensitivity is derived: a base column is as sensitive as the most sensitive resident-model field it reads
(`lineage.base_columns`), a query needs clearance for every base column it filters or sorts on. The catalogue
is checked when it is loaded, so a broken query fails at startup, not in an emergency.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from serving import lineage
from schemas.loader import load_yaml
from schemas.model import SENSITIVITY, load_model

PARAMETER_TYPES = ("street_names", "street_name", "int", "int_list", "text", "bool", "choice", "choice_list")
FORMATS = ("text", "number", "number_text", "yes_no", "phone", "timestamp")
LABELLED_FORMATS = ("labels", "list_labels")
RUNTIME_PARAMETERS = ("municipality",)   # bound by the runner, not typed by a person


class CatalogueError(ValueError):
    """The query catalogue is inconsistent (names the query and the part, never data)."""


def most_sensitive(classes) -> str:
    """The most sensitive of some sensitivity classes (public for none)."""
    return max(classes, key=SENSITIVITY.index, default="public")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    title_he: str
    help_he: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    labels: str | None = None


@dataclass(frozen=True)
class Column:
    name: str
    title_he: str
    format: str
    sensitivity: str


@dataclass(frozen=True)
class Category:
    """One reason a resident is on a list, as a condition on base columns (counted, never used to select)."""

    key: str
    title_he: str
    sql: str
    binds: tuple[tuple[str, Any], ...] = ()     # ($name, value) pairs the condition binds


@dataclass(frozen=True)
class Breakdown:
    name: str
    title_he: str
    partition: bool                 # every resident on the list is in exactly one category
    categories: tuple[Category, ...]


@dataclass(frozen=True)
class CallSheet:
    group_by: tuple[str, ...]       # street, then building
    blank_columns: tuple[str, ...]  # titles of the columns a team fills in by hand
    card_title: tuple[str, ...] = ()    # a phone card's heading (the name)
    card_address: tuple[str, ...] = ()  # its address line


@dataclass(frozen=True)
class Query:
    name: str
    title_he: str
    description: str
    description_he: str
    order: int
    base: str
    parameters: tuple[Parameter, ...]
    require_one_of: tuple[tuple[str, ...], ...]
    sort: tuple[str, ...]
    columns: tuple[Column, ...]
    sql: str
    clearance: str                  # the sensitivity a role must be cleared for to run it
    bound: frozenset[str]           # the $names its SQL (with its base) binds
    # how many the source reports, beside how many the list shows: (count SQL, Hebrew note with {reported}, {shown})
    reported: tuple[str, str] | None = None
    counts: tuple[Breakdown, ...] = ()          # how its counts are split (none: no counts view)
    call_sheet: tuple[Column, ...] = ()         # the columns a field team needs, in order

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class Catalogue:
    queries: dict[str, Query]
    bases: dict[str, str]
    macros: dict[str, tuple[tuple[str, ...], str]]
    constants: dict[str, list[str]]
    labels: dict[str, dict[str, str]]
    base_sensitivity: dict[str, dict[str, str]]     # base -> column -> sensitivity, derived from the model
    call_sheet: CallSheet = CallSheet(group_by=(), blank_columns=())

    def clearance_of(self, sql: str, sort: tuple[str, ...] = ()) -> str:
        """The clearance a query needs: the most sensitive base column it reads (filters) or sorts on."""
        shape = lineage.query_shape(sql, set(self.bases))
        columns = self.base_sensitivity[shape.base]
        unknown = (shape.columns | set(sort)) - set(columns)
        if unknown:
            raise CatalogueError(f"reads columns its base does not have: {sorted(unknown)}")
        return most_sensitive(columns[c] for c in shape.columns | set(sort))

    def ordered(self) -> list[Query]:
        return sorted(self.queries.values(), key=lambda q: (q.order, q.name))

    def macro_statements(self) -> list[str]:
        """TEMP macros: they work on a read-only connection and vanish with it."""
        return [f"CREATE OR REPLACE TEMP MACRO {name}({', '.join(args)}) AS {body}"
                for name, (args, body) in self.macros.items()]

    def statement_for(self, query: Query, columns: list[Column]) -> tuple[str, dict[str, Any]]:
        """The statement that answers `query` with only `columns`, shown for people and sorted for field teams,
        and the display values it binds (labels). Columns a role may not see are not even selected."""
        from serving.cells import display_parameters, display_sql

        select, label_maps = [], set()
        for c in columns:
            expr, maps = display_sql(c, f'q."{c.name}"')
            select.append(f'{expr} AS "{c.name}"')
            label_maps |= maps
        order = ", ".join(f'q."{s}"' for s in query.sort)
        sql = (f"WITH {query.base} AS (\n{self.bases[query.base]}\n),\nq AS (\n{query.sql}\n)\n"
               f"SELECT {', '.join(select)} FROM q ORDER BY {order}")
        return sql, display_parameters(label_maps, self.labels)


def needs_labels() -> dict[str, dict[str, str]]:
    """Hebrew labels of coded values that schemas/needs_codes.yaml already holds."""
    codes = load_yaml("needs_codes.yaml")
    return {
        "needs": {code: spec["label_he"] for code, spec in codes["needs"].items()},
        "disability_types": {code: spec["label_he"] for code, spec in codes["disability_types"].items()},
        "yachad_status": {canonical: hebrew for hebrew, canonical in codes["yachad_status"].items()},
    }


def _constants(spec: dict) -> dict[str, list[str]]:
    needs = load_yaml("needs_codes.yaml")["needs"]
    out = {}
    for name, how in spec.items():
        if "needs_with" in how:
            out[name] = sorted(code for code, n in needs.items() if n.get(how["needs_with"]))
        elif "needs" in how:
            missing = set(how["needs"]) - set(needs)
            if missing:
                raise CatalogueError(f"constant {name}: unknown needs codes {sorted(missing)}")
            out[name] = list(how["needs"])
        else:
            raise CatalogueError(f"constant {name}: say needs_with or needs")
        if not out[name]:
            raise CatalogueError(f"constant {name} is empty")
    return out


def _parameter(name: str, spec: dict, labels: dict) -> Parameter:
    if spec.get("type") not in PARAMETER_TYPES:
        raise CatalogueError(f"parameter {name}: unknown type {spec.get('type')!r}")
    p = Parameter(
        name=name, type=spec["type"], title_he=spec["title_he"], help_he=spec.get("help_he", ""),
        default=spec.get("default"), required=bool(spec.get("required", False)),
        choices=tuple(spec.get("choices", ())), labels=spec.get("labels"),
    )
    if p.type in ("choice", "choice_list"):
        if not p.choices:
            raise CatalogueError(f"parameter {name}: a choice needs choices")
        defaults = p.default if isinstance(p.default, list) else [p.default] if p.default is not None else []
        if not set(defaults) <= set(p.choices):
            raise CatalogueError(f"parameter {name}: default is not one of the choices")
    if p.labels and p.labels not in labels:
        raise CatalogueError(f"parameter {name}: unknown labels {p.labels!r}")
    return p


def _column_format(name: str, fmt: str, labels: dict) -> str:
    kind, _, label_map = fmt.partition(":")
    if kind in LABELLED_FORMATS:
        if label_map not in labels:
            raise CatalogueError(f"column {name}: unknown labels {label_map!r}")
    elif kind not in FORMATS or label_map:
        raise CatalogueError(f"column {name}: unknown format {fmt!r}")
    return fmt


def _categories(name: str, spec: dict, labels: dict) -> tuple[Category, ...]:
    """A breakdown's categories: written out, or one per needs code / label (see `breakdowns` in the yaml)."""
    needs = load_yaml("needs_codes.yaml")["needs"]
    raw = spec.get("categories")
    items = list(raw.items()) if isinstance(raw, dict) else [(None, c) for c in raw or []]
    out: list[Category] = []
    for key, c in items:
        if key is not None:
            if not c.get("sql") or not c.get("title_he"):
                raise CatalogueError(f"breakdown {name}: category {key} needs title_he and sql")
            out.append(Category(key=key, title_he=c["title_he"], sql=c["sql"]))
        elif "each_need_with" in c:
            codes = [code for code, n in needs.items() if n.get(c["each_need_with"])]
            if not codes:
                raise CatalogueError(f"breakdown {name}: no needs code carries {c['each_need_with']!r}")
            for code in codes:
                k = f"need_{code.lower()}"
                out.append(Category(key=k, title_he=needs[code]["label_he"],
                                    sql=f"coalesce(list_contains(needs_codes, $count_{k}), false)",
                                    binds=((f"count_{k}", code),)))
        elif "each_label_of" in c:
            column = c["each_label_of"]
            if column not in labels:
                raise CatalogueError(f"breakdown {name}: no labels for {column!r}")
            wanted = [code for code in labels[column]
                      if code not in c.get("except", []) and ("only" not in c or code in c["only"])]
            for code in wanted:
                k = f"{column}_{code}"
                out.append(Category(key=k, title_he=labels[column][code], sql=f"{column} = $count_{k}",
                                    binds=((f"count_{k}", code),)))
        else:
            raise CatalogueError(f"breakdown {name}: a category is written out (key: title_he, sql) "
                                 "or generated (each_need_with, each_label_of)")
    if not out:
        raise CatalogueError(f"breakdown {name} has no categories")
    keys = [cat.key for cat in out]
    if len(set(keys)) != len(keys):
        raise CatalogueError(f"breakdown {name}: a category key appears twice")
    return tuple(out)


def _breakdowns(raw: dict, labels: dict) -> dict[str, Breakdown]:
    return {name: Breakdown(name=name, title_he=spec["title_he"], partition=bool(spec.get("partition", False)),
                            categories=_categories(name, spec, labels))
            for name, spec in raw.items()}


def _check_category(where: str, category: Category, base: str, bases: set[str], base_cols: dict) -> None:
    try:
        shape = lineage.query_shape(f"SELECT * FROM {base} WHERE {category.sql}", bases)
    except lineage.SqlShapeError as e:
        raise CatalogueError(f"{where}: category {category.key}: {e}") from None
    unknown = shape.columns - set(base_cols)
    if unknown:
        raise CatalogueError(f"{where}: category {category.key} reads columns its base does not have: {sorted(unknown)}")
    if shape.parameters != {name for name, _ in category.binds}:
        raise CatalogueError(f"{where}: category {category.key} binds parameters it does not declare")


def _sensitivity_of_fields(fields, model) -> str:
    """The most sensitive of the fields a column comes from; a column that only a table with a membership
    sensitivity can fill (every field from such tables) reveals membership, so it is at least that sensitive."""
    own = most_sensitive(model[table][field].sensitivity for table, field in fields)
    memberships = [model[table].membership_sensitivity for table, _ in fields]
    if memberships and all(memberships):
        return most_sensitive([own, *memberships])
    return own


@lru_cache(maxsize=None)
def load_catalogue() -> Catalogue:
    raw = load_yaml("emergency_queries.yaml")
    model = load_model()
    model_fields = {name: set(t.columns) for name, t in model.items()}
    labels = {**needs_labels(), **raw.get("labels", {})}
    constants = _constants(raw.get("constants", {}))
    macros = {name: (tuple(m["args"]), m["sql"]) for name, m in raw.get("macros", {}).items()}

    base_sensitivity: dict[str, dict[str, str]] = {}
    base_params: dict[str, frozenset[str]] = {}
    for base, sql in raw["bases"].items():
        try:
            cols = lineage.base_columns(sql, model_fields)
        except lineage.SqlShapeError as e:
            raise CatalogueError(f"base {base}: {e}") from None
        base_sensitivity[base] = {c: _sensitivity_of_fields(f, model) for c, f in cols.lineage.items()}
        base_params[base] = cols.parameters
        stray = cols.parameters - set(RUNTIME_PARAMETERS)
        if stray:
            raise CatalogueError(f"base {base}: binds unknown parameters {sorted(stray)}")

    all_parameters = {n: _parameter(n, spec, labels) for n, spec in raw["parameters"].items()}
    sort_orders = {n: tuple(cols) for n, cols in raw["sort_orders"].items()}
    column_specs = raw["columns"]

    breakdowns = _breakdowns(raw.get("breakdowns", {}), labels)
    sheet, card = raw.get("call_sheet", {}), raw.get("card", {})
    unknown_card = (set(card.get("title", [])) | set(card.get("address", []))) - set(column_specs)
    if unknown_card:
        raise CatalogueError(f"card names columns that are not in the column list: {sorted(unknown_card)}")
    catalogue = Catalogue(queries={}, bases=dict(raw["bases"]), macros=macros, constants=constants, labels=labels,
                          base_sensitivity=base_sensitivity,
                          call_sheet=CallSheet(group_by=tuple(sheet.get("group_by", ())),
                                               blank_columns=tuple(sheet.get("blank_columns", ())),
                                               card_title=tuple(card.get("title", ())),
                                               card_address=tuple(card.get("address", ()))))
    for name, spec in raw["queries"].items():
        where = f"query {name}"
        base = spec["base"]
        if base not in raw["bases"]:
            raise CatalogueError(f"{where}: unknown base {base!r}")
        base_cols = base_sensitivity[base]
        try:
            shape = lineage.query_shape(spec["sql"], set(raw["bases"]))
        except lineage.SqlShapeError as e:
            raise CatalogueError(f"{where}: {e}") from None
        if shape.base != base:
            raise CatalogueError(f"{where}: reads {shape.base}, declared base {base}")

        params = []
        for pname in spec.get("parameters", []):
            if pname not in all_parameters:
                raise CatalogueError(f"{where}: unknown parameter {pname!r}")
            params.append(all_parameters[pname])
        declared = {p.name for p in params}
        bound = shape.parameters | base_params[base]
        unknown_params = bound - declared - set(constants) - set(RUNTIME_PARAMETERS)
        if unknown_params:
            raise CatalogueError(f"{where}: SQL binds undeclared parameters {sorted(unknown_params)}")
        unused = declared - bound
        if unused:
            raise CatalogueError(f"{where}: parameters never used by its SQL: {sorted(unused)}")
        groups = tuple(tuple(g) for g in spec.get("require_one_of", []))
        for group in groups:
            if not set(group) <= declared:
                raise CatalogueError(f"{where}: require_one_of names undeclared parameters")

        sort = sort_orders.get(spec["sort"])
        if sort is None:
            raise CatalogueError(f"{where}: unknown sort order {spec['sort']!r}")
        if not set(sort) <= set(base_cols):
            raise CatalogueError(f"{where}: sort order {spec['sort']} names columns its base does not have")

        columns = []
        for cname in spec["columns"]:
            if cname not in column_specs:
                raise CatalogueError(f"{where}: column {cname!r} is not in the column list")
            if cname not in base_cols:
                raise CatalogueError(f"{where}: column {cname!r} is not a column of base {base}")
            cspec = column_specs[cname]
            columns.append(Column(name=cname, title_he=cspec["title_he"],
                                  format=_column_format(cname, cspec.get("format", "text"), labels),
                                  sensitivity=base_cols[cname]))

        counts = []
        for bname in spec.get("counts", []):
            if bname not in breakdowns:
                raise CatalogueError(f"{where}: unknown breakdown {bname!r}")
            for category in breakdowns[bname].categories:
                _check_category(where, category, base, set(raw["bases"]), base_cols)
            counts.append(breakdowns[bname])
        if counts and not set(catalogue.call_sheet.group_by) <= set(base_cols):
            raise CatalogueError(f"{where}: its base lacks the call sheet's grouping columns")
        by_name = {c.name: c for c in columns}
        unknown_sheet = [c for c in spec.get("call_sheet", []) if c not in by_name]
        if unknown_sheet:
            raise CatalogueError(f"{where}: call_sheet names columns the query does not show: {unknown_sheet}")
        if spec.get("call_sheet") and not set(catalogue.call_sheet.group_by) <= set(by_name):
            raise CatalogueError(f"{where}: a call sheet needs the columns it groups by: "
                                 f"{list(catalogue.call_sheet.group_by)}")

        try:
            clearance = catalogue.clearance_of(spec["sql"], sort)
        except CatalogueError as e:
            raise CatalogueError(f"{where}: {e}") from None
        catalogue.queries[name] = Query(
            name=name, title_he=spec["title_he"], description=" ".join(spec["description"].split()),
            description_he=spec.get("description_he", ""), order=int(spec.get("order", 100)), base=base,
            parameters=tuple(params), require_one_of=groups, sort=sort, columns=tuple(columns), sql=spec["sql"],
            clearance=clearance,
            bound=frozenset(bound),
            reported=_reported(where, spec.get("reported"), declared | set(constants) | set(RUNTIME_PARAMETERS)),
            counts=tuple(counts),
            call_sheet=tuple(by_name[c] for c in spec.get("call_sheet", [])),
        )
    return catalogue


def _reported(where: str, spec: dict | None, bindable: set[str]) -> tuple[str, str] | None:
    """A count the list is shown beside (e.g. how many Yachad reports not located): one aggregate over the model's
    tables, binding only the query's own parameters; its note names {reported} and {shown}."""
    if spec is None:
        return None
    try:
        tree = lineage.parse_tree(spec["sql"])
    except lineage.SqlShapeError as e:
        raise CatalogueError(f"{where}: reported: {e}") from None
    stray = lineage.parameters(tree) - bindable
    if stray:
        raise CatalogueError(f"{where}: reported binds undeclared parameters {sorted(stray)}")
    if "{reported}" not in spec["note_he"] or "{shown}" not in spec["note_he"]:
        raise CatalogueError(f"{where}: reported.note_he must name {{reported}} and {{shown}}")
    return spec["sql"], spec["note_he"]
