"""The SOQL the sync, the tests, admins and integrators use, translated to SQLite.

  SELECT f1, Parent__r.Field, (SELECT f FROM Children__r [WHERE ..] [ORDER BY ..] [LIMIT n]) | COUNT() FROM Object
  SELECT g1, COUNT(f) [alias], COUNT_DISTINCT(f), SUM(f), AVG(f), MIN(f), MAX(f) FROM Object
         [WHERE cond] GROUP BY g1 [HAVING cond]
  [WHERE cond]   cond: f op value | f [NOT] IN (...) | f LIKE '...' | AND / OR / NOT / ( )
                 value: 'text', number, TRUE/FALSE/NULL, 2026-12-01, 2026-12-01T08:00:00Z, or a date literal
                 (TODAY, YESTERDAY, TOMORROW, THIS|LAST|NEXT_WEEK|MONTH|YEAR, LAST_90_DAYS, NEXT_90_DAYS,
                 LAST|NEXT_N_DAYS|WEEKS|MONTHS|YEARS:n, N_DAYS_AGO:n), a range of days compared as Salesforce does
  [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]

String comparisons are case-insensitive, as in SOQL. Deleted records are left out unless the query came
through `queryAll`. Date literals are days in UTC (the stand-in's users all have the UTC time zone).
Aggregate rows come back as `AggregateResult` with the grouped fields by name and unaliased aggregates as
expr0, expr1, ... Errors raise `SoqlError` with Salesforce's codes (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE).

`scope` ({field: value}) restricts every object that has that field to rows holding the value: how the
stand-in keeps one authority's records out of another's queries (see store.py, "tenants").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<date>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))?)(?![\w-])"
    r"|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))"
    r"|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])|(?P<dlit>[A-Za-z_]+:\d+)|(?P<word>[A-Za-z_][\w.]*))"
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "LIMIT",
             "OFFSET", "NULL", "TRUE", "FALSE", "COUNT", "NULLS", "FIRST", "LAST", "GROUP", "HAVING"}
AGGREGATES = {"COUNT": "count({})", "COUNT_DISTINCT": "count(DISTINCT {})", "SUM": "sum({})", "AVG": "avg({})",
              "MIN": "min({})", "MAX": "max({})"}
_NUMERIC = {"double", "int", "currency", "percent"}
_NOT_TEXT = _NUMERIC | {"boolean", "date", "datetime"}


class SoqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Column:
    """One value of an output record: `key` in the record (inside `rel` for a parent field)."""
    key: str
    field: dict | None            # the field's describe (None: a COUNT)
    rel: str | None = None        # parent relationship (Account__r) or None
    agg: str | None = None        # aggregate function or None


@dataclass
class Child:
    """A child subquery: `query.sql` selects the child columns then the lookup to the parent, for parent
    Ids bound where `{ids}` stands."""
    rel: str
    query: "Query"


@dataclass
class Query:
    obj: str
    count: bool
    columns: list[Column]
    sql: str
    params: list = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    aggregate: bool = False
    children: list[Child] = field(default_factory=list)
    rel: str | None = None        # a subquery: the child relationship it reads


@dataclass(frozen=True)
class DayRange:
    """A date literal: the days [start, end)."""
    start: date
    end: date


def _month(d: date, delta: int) -> date:
    m = d.year * 12 + d.month - 1 + delta
    return date(m // 12, m % 12 + 1, 1)


def date_literal(name: str, today: date) -> DayRange:
    """The days a SOQL date literal stands for (weeks start on Sunday, as in Israel and the US)."""
    name = name.upper()
    n = None
    if ":" in name:
        name, _, arg = name.partition(":")
        n = int(arg)
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month, year = today.replace(day=1), date(today.year, 1, 1)
    day = timedelta(days=1)
    fixed = {
        "TODAY": (today, today + day), "YESTERDAY": (today - day, today), "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week, week + 7 * day), "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "THIS_MONTH": (month, _month(month, 1)), "LAST_MONTH": (_month(month, -1), month),
        "NEXT_MONTH": (_month(month, 1), _month(month, 2)),
        "THIS_YEAR": (year, date(today.year + 1, 1, 1)), "LAST_YEAR": (date(today.year - 1, 1, 1), year),
        "NEXT_YEAR": (date(today.year + 1, 1, 1), date(today.year + 2, 1, 1)),
        "LAST_90_DAYS": (today - 90 * day, today + day), "NEXT_90_DAYS": (today + day, today + 91 * day),
    }
    if n is None and name in fixed:
        return DayRange(*fixed[name])
    if n is not None and 0 <= n <= 100_000:
        ranged = {
            "LAST_N_DAYS": (today - n * day, today + day), "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
            "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
            "LAST_N_WEEKS": (week - 7 * n * day, week), "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (n + 1) * day),
            "LAST_N_MONTHS": (_month(month, -n), month), "NEXT_N_MONTHS": (_month(month, 1), _month(month, n + 1)),
            "LAST_N_YEARS": (date(today.year - n, 1, 1), year),
            "NEXT_N_YEARS": (date(today.year + 1, 1, 1), date(today.year + n + 1, 1, 1)),
        }
        if name in ranged:
            return DayRange(*ranged[name])
    raise SoqlError("MALFORMED_QUERY", f"unexpected token: {name}" + (f":{n}" if n is not None else ""))


def _is_date_literal(name: str) -> bool:
    try:
        date_literal(name, date(2000, 1, 1))
        return True
    except (SoqlError, ValueError):
        return False


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token at position {pos}")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            out.append(("kw", value.upper()))
        else:
            out.append((kind, value))
    return out


def _stored_datetime(text: str) -> str:
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class _Parser:
    def __init__(self, toks: list, catalog: dict[str, dict], today: date, scope: dict[str, str]):
        self.toks, self.i = toks, 0
        self.catalog, self.today, self.scope = catalog, today, scope
        self.params: list = []
        self.joins: dict[str, tuple[str, str, str]] = {}   # relationship -> (alias, parent object, fk field)
        self.aggregating = False                           # aggregate functions allowed (HAVING, ORDER BY)

    def peek(self, *values) -> bool:
        return self.i < len(self.toks) and (not values or self.toks[self.i][1] in values)

    def peek_kind(self, kind: str, offset: int = 0) -> bool:
        return self.i + offset < len(self.toks) and self.toks[self.i + offset][0] == kind

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SoqlError("MALFORMED_QUERY", f"expecting '{value}', found '{tok[1]}'")
        self.i += 1
        return tok

    def at_function(self) -> bool:
        """An aggregate function call starts here: COUNT( / SUM( / ..."""
        return self.i + 1 < len(self.toks) and self.toks[self.i][1].upper() in AGGREGATES \
            and self.toks[self.i + 1][1] == "("

    # -- names ---------------------------------------------------------------------------------
    def _field(self, obj: str, name: str) -> dict:
        for f in self.catalog[obj]["fields"]:
            if f["name"].lower() == name.lower():
                return f
        raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{obj}'. If you are attempting to "
                                         "use a custom field, be sure to append the '__c' after the custom field "
                                         "name. Please reference your WSDL or the describe call for the appropriate "
                                         "names.")

    def scope_sql(self, obj: str, alias: str) -> str:
        names = {f["name"] for f in self.catalog[obj]["fields"]}
        return "".join(f' AND {alias}."{k}" = {_sql_text(v)}' for k, v in self.scope.items() if k in names)

    def column(self, obj: str, dotted: str) -> tuple[str, dict, str | None, str]:
        """(sql reference, field describe, relationship, field name) for `Field` or `Rel__r.Field`."""
        if "." not in dotted:
            f = self._field(obj, dotted)
            return f't."{f["name"]}"', f, None, f["name"]
        rel, name = dotted.split(".", 1)
        for fk in self.catalog[obj]["fields"]:
            if (fk.get("relationshipName") or "").lower() == rel.lower() and fk.get("referenceTo"):
                parent = fk["referenceTo"][0]
                alias = f"r{len(self.joins)}" if fk["relationshipName"] not in self.joins else \
                    self.joins[fk["relationshipName"]][0]
                self.joins[fk["relationshipName"]] = (alias, parent, fk["name"])
                f = self._field(parent, name)
                return f'{alias}."{f["name"]}"', f, fk["relationshipName"], f["name"]
        raise SoqlError("INVALID_FIELD", f"Didn't understand relationship '{rel}' in field path.")

    def function(self, obj: str) -> tuple[str, str, dict | None]:
        """(sql, function name, field describe) of `COUNT(f)`, `SUM(f)`, ..."""
        fn = self.take()[1].upper()
        self.take("(")
        _, name = self.take()
        ref, f, _, _ = self.column(obj, name)
        self.take(")")
        if fn in ("SUM", "AVG") and f["type"] not in _NUMERIC:
            raise SoqlError("MALFORMED_QUERY", f"field {f['name']} does not support aggregate operator {fn}")
        return AGGREGATES[fn].format(ref), fn, f

    def joins_sql(self) -> str:
        return "".join(f' LEFT JOIN "{parent}" {alias} ON {alias}."Id" = t."{fk}"{self.scope_sql(parent, alias)}'
                       for alias, parent, fk in self.joins.values())

    # -- where ---------------------------------------------------------------------------------
    def literal(self, f: dict):
        kind, value = self.take()
        if kind == "str":
            return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value[1:-1])
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "date":
            if f["type"] not in ("date", "datetime"):
                raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f['name']}' must be of "
                                                 f"type {f['type']} and should not be a date")
            if "T" in value:
                if f["type"] == "date":
                    raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f['name']}' must be "
                                                     "of type date and should not be enclosed in quotes")
                return _stored_datetime(value)
            return value if f["type"] == "date" else value + "T00:00:00.000+0000"
        if kind in ("dlit", "word") and _is_date_literal(value):
            if f["type"] not in ("date", "datetime"):
                raise SoqlError("INVALID_FIELD", f"value of filter criterion for field '{f['name']}' must be of "
                                                 f"type {f['type']} and should not be a date literal")
            return date_literal(value, self.today)
        if kind == "kw" and value in ("TRUE", "FALSE"):
            if f["type"] != "boolean":
                raise SoqlError("INVALID_TYPE", f"value of type boolean cannot be compared with {f['name']}")
            return 1 if value == "TRUE" else 0
        if kind == "kw" and value == "NULL":
            return None
        raise SoqlError("MALFORMED_QUERY", f"unexpected token '{value}'")

    def condition(self, obj: str) -> str:
        parts = [self.conjunct(obj)]
        while self.peek("OR"):
            self.take()
            parts.append(self.conjunct(obj))
        return "(" + " OR ".join(parts) + ")" if len(parts) > 1 else parts[0]

    def conjunct(self, obj: str) -> str:
        parts = [self.atom(obj)]
        while self.peek("AND"):
            self.take()
            parts.append(self.atom(obj))
        return "(" + " AND ".join(parts) + ")" if len(parts) > 1 else parts[0]

    def _bound(self, f: dict, day: date) -> str:
        return day.isoformat() if f["type"] == "date" else day.isoformat() + "T00:00:00.000+0000"

    def atom(self, obj: str) -> str:
        if self.peek("NOT"):
            self.take()
            return f"NOT ({self.atom(obj)})"
        if self.peek("("):
            self.take("(")
            inner = self.condition(obj)
            self.take(")")
            return f"({inner})"
        if self.aggregating and self.at_function():
            ref, _, _ = self.function(obj)
            f = {"name": ref, "type": "double"}
        else:
            kind, name = self.take()
            if kind != "word":
                raise SoqlError("MALFORMED_QUERY", f"unexpected token '{name}'")
            ref, f, _, _ = self.column(obj, name)
        collate = " COLLATE NOCASE" if f["type"] not in _NOT_TEXT else ""
        negate = False
        if self.peek("NOT"):
            self.take()
            negate = True
        if self.peek("IN"):
            self.take()
            self.take("(")
            values = [self.literal(f)]
            while self.peek(","):
                self.take()
                values.append(self.literal(f))
            self.take(")")
            if any(isinstance(v, DayRange) for v in values):
                raise SoqlError("MALFORMED_QUERY", "date literals cannot be used with IN")
            self.params += values
            return f"{ref}{collate} {'NOT ' if negate else ''}IN ({', '.join('?' * len(values))})"
        if self.peek("LIKE"):
            self.take()
            self.params.append(self.literal(f))
            return f"{'NOT ' if negate else ''}{ref} LIKE ?"
        kind, op = self.take()
        if kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token '{op}'")
        value = self.literal(f)
        op = "!=" if op == "<>" else op
        if value is None:
            if op not in ("=", "!="):
                raise SoqlError("MALFORMED_QUERY", "null can only be compared with = or !=")
            return f"{ref} IS {'NOT ' if op != '=' else ''}NULL"
        if isinstance(value, DayRange):
            start, end = self._bound(f, value.start), self._bound(f, value.end)
            sql, params = {"=": (f"({ref} >= ? AND {ref} < ?)", [start, end]),
                           "!=": (f"({ref} IS NULL OR {ref} < ? OR {ref} >= ?)", [start, end]),
                           "<": (f"{ref} < ?", [start]), "<=": (f"{ref} < ?", [end]),
                           ">": (f"{ref} >= ?", [end]), ">=": (f"{ref} >= ?", [start])}[op]
            self.params += params
            return sql
        self.params.append(value)
        if op == "!=":
            return f"({ref} IS NULL OR {ref}{collate} != ?)"
        return f"{ref}{collate} {op} ?"

    # -- clauses -------------------------------------------------------------------------------
    def order_by(self, obj: str) -> str:
        if not self.peek("ORDER"):
            return ""
        self.take()
        self.take("BY")
        terms = []
        while True:
            if self.aggregating and self.at_function():
                ref, _, _ = self.function(obj)
            else:
                _, name = self.take()
                ref, _, _, _ = self.column(obj, name)
            direction = ""
            if self.peek("ASC", "DESC"):
                direction = " " + self.take()[1]
            if self.peek("NULLS"):
                self.take()
                direction += " NULLS " + self.take()[1]
            terms.append(ref + direction)
            if not self.peek(","):
                break
            self.take()
        return " ORDER BY " + ", ".join(terms)

    def limit_offset(self) -> tuple[int | None, int]:
        limit, offset = None, 0
        if self.peek("LIMIT"):
            self.take()
            limit = int(self.take()[1])
        if self.peek("OFFSET"):
            self.take()
            offset = int(self.take()[1])
        return limit, offset


def _object(catalog: dict, name: str) -> str:
    obj = next((o for o in catalog if o.lower() == name.lower()), None)
    if obj is None:
        raise SoqlError("INVALID_TYPE", f"sObject type '{name}' is not supported. If you are attempting to use a "
                                        "custom object, be sure to append the '__c' after the entity name.")
    return obj


def _child_object(catalog: dict, parent: str, rel: str) -> tuple[str, str, str]:
    """(child object, lookup field, relationship name) of the child relationship `rel` of `parent`."""
    for r in catalog[parent].get("childRelationships", []):
        if (r.get("relationshipName") or "").lower() == rel.lower() and r["childSObject"] in catalog:
            return r["childSObject"], r["field"], r["relationshipName"]
    raise SoqlError("INVALID_TYPE", f"Didn't understand relationship '{rel}' in FROM part of query call. If you are "
                                    "attempting to use a custom relationship, be sure to append the '__r' after the "
                                    "custom relationship name.")


def _select_list(p: _Parser) -> list[tuple]:
    """Items of the SELECT list: ("field", name, alias) | ("agg", fn-start index, alias) | ("child", start) |
    ("count",). Parsed in a first pass, resolved once FROM is known."""
    items = []
    if p.peek("COUNT") and p.i + 2 < len(p.toks) and p.toks[p.i + 2][1] == ")":
        p.take()
        p.take("(")
        p.take(")")
        return [("count",)]
    while True:
        if p.peek("("):
            start = p.i
            depth = 0
            while True:
                _, v = p.take()
                depth += v == "("
                depth -= v == ")"
                if depth == 0:
                    break
            items.append(("child", start, p.i))
        elif p.at_function():
            start = p.i
            p.i += 2
            p.take()
            p.take(")")
            alias = p.take()[1] if p.peek_kind("word") else None
            items.append(("agg", start, alias))
        else:
            kind, name = p.take()
            if kind != "word":
                raise SoqlError("MALFORMED_QUERY", f"unexpected token '{name}' in the field list")
            alias = p.take()[1] if p.peek_kind("word") else None
            items.append(("field", name, alias))
        if not p.peek(","):
            return items
        p.take()


def parse(text: str, catalog: dict[str, dict], all_rows: bool = False, scope: dict[str, str] | None = None,
          today: date | None = None) -> Query:
    """Parses one SOQL statement. `all_rows`: deleted records too (queryAll)."""
    today = today or datetime.now(timezone.utc).date()
    p = _Parser(_tokens(text), catalog, today, scope or {})
    q = _statement(p, all_rows)
    if p.i != len(p.toks):
        raise SoqlError("MALFORMED_QUERY", f"unexpected token '{p.toks[p.i][1]}'")
    return q


def _statement(p: _Parser, all_rows: bool, parent: str | None = None) -> Query:
    p.take("SELECT")
    items = _select_list(p)
    p.take("FROM")
    _, obj_name = p.take()
    fk = rel = None
    if parent is None:
        obj = _object(p.catalog, obj_name)
    else:
        obj, fk, rel = _child_object(p.catalog, parent, obj_name)

    where = "1 = 1" if all_rows else 't."IsDeleted" = 0'
    where += p.scope_sql(obj, "t")
    if p.peek("WHERE"):
        p.take()
        where += f" AND ({p.condition(obj)})"
    group_refs, group_names = [], []
    if p.peek("GROUP"):
        if parent is not None:
            raise SoqlError("MALFORMED_QUERY", "GROUP BY is not supported in a subquery")
        p.take()
        p.take("BY")
        while True:
            _, name = p.take()
            ref, f, _, fname = p.column(obj, name)
            group_refs.append(ref)
            group_names.append(name.lower())
            if not p.peek(","):
                break
            p.take()
    aggregate = bool(group_refs) or any(item[0] == "agg" for item in items)
    p.aggregating = aggregate
    having = ""
    if p.peek("HAVING"):
        if not group_refs:
            raise SoqlError("MALFORMED_QUERY", "HAVING needs GROUP BY")
        p.take()
        having = f" HAVING {p.condition(obj)}"
    order = p.order_by(obj)
    limit, offset = p.limit_offset()

    # the SELECT list, now that the object is known (parameters of WHERE are already taken: the SELECT
    # list binds none)
    columns, selects, children = [], [], []
    count = items == [("count",)]
    expr = 0
    for item in items:
        if item[0] == "count":
            continue
        if item[0] == "child":
            if parent is not None:
                raise SoqlError("MALFORMED_QUERY", "a subquery cannot hold another subquery")
            if aggregate:
                raise SoqlError("MALFORMED_QUERY", "subqueries cannot be used in aggregate queries")
            sub = _Parser(p.toks[item[1] + 1:item[2] - 1], p.catalog, p.today, p.scope)
            child = _statement(sub, all_rows, parent=obj)
            if sub.i != len(sub.toks):
                raise SoqlError("MALFORMED_QUERY", f"unexpected token '{sub.toks[sub.i][1]}'")
            children.append(Child(rel=child.rel, query=child))
            continue
        if item[0] == "agg":
            save = p.i
            p.i = item[1]
            ref, fn, f = p.function(obj)
            p.i = save
            key = item[2] or f"expr{expr}"
            expr += item[2] is None
            columns.append(Column(key=key, field=f, agg=fn))
            selects.append(ref)
            continue
        _, name, alias = item
        ref, f, parent_rel, fname = p.column(obj, name)
        if aggregate and name.lower() not in group_names:
            raise SoqlError("MALFORMED_QUERY", f"Field must be grouped or aggregated: {fname}")
        if alias and not aggregate:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{alias}'")
        columns.append(Column(key=alias or fname, field=f, rel=None if aggregate else parent_rel))
        selects.append(ref)
    if not columns and not count and not children:
        raise SoqlError("MALFORMED_QUERY", "no fields selected")

    from_sql = f'"{obj}" t{p.joins_sql()}'
    if parent is not None:
        where += f' AND t."{fk}" IN ({{ids}})'
        selects.append(f't."{fk}"')
        sql = f"SELECT {', '.join(selects)} FROM {from_sql} WHERE {where}{order}"
    elif count:
        sql = f"SELECT count(*) FROM {from_sql} WHERE {where}"
    elif aggregate:
        group = f" GROUP BY {', '.join(group_refs)}" if group_refs else ""
        sql = f"SELECT {', '.join(selects)} FROM {from_sql} WHERE {where}{group}{having}{order}"
    else:
        if children:
            selects.append('t."Id"')   # the key the children are matched on (not output unless selected)
        sql = f"SELECT {', '.join(selects)} FROM {from_sql} WHERE {where}{order}"
    return Query(obj=obj, count=count, columns=columns, sql=sql, params=p.params, limit=limit, offset=offset,
                 aggregate=aggregate, children=children, rel=rel)
