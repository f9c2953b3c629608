"""The slice of SOQL the sync, the tests and an admin's quick look need, translated to SQLite.

  SELECT f1, f2, Parent__r.Field | COUNT() FROM Object
  [WHERE cond]   cond: f op literal | f [NOT] IN (...) | f LIKE '...' | AND / OR / NOT / ( )
  [ORDER BY f [ASC|DESC], ...] [LIMIT n] [OFFSET n]

String comparisons are case-insensitive, as in SOQL. Deleted records are left out (`query`, not
`queryAll`). Errors raise `SoqlError` with Salesforce's codes (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))|(?P<date>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2}))?)"
    r"|(?P<op><=|>=|!=|<>|=|<|>)|(?P<punct>[(),])|(?P<word>[A-Za-z_][\w.]*))"
)
_KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "LIMIT",
             "OFFSET", "NULL", "TRUE", "FALSE", "COUNT", "NULLS", "FIRST", "LAST"}


class SoqlError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Query:
    obj: str
    count: bool
    columns: list[tuple[str | None, str]]          # (relationship or None, field)
    sql: str
    params: list = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


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


class _Parser:
    def __init__(self, text: str, catalog: dict[str, dict]):
        self.toks = _tokens(text)
        self.i = 0
        self.catalog = catalog
        self.params: list = []
        self.joins: dict[str, tuple[str, str, str]] = {}   # relationship -> (alias, parent object, fk field)

    def peek(self, *values) -> bool:
        return self.i < len(self.toks) and (not values or self.toks[self.i][1] in values)

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query")
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SoqlError("MALFORMED_QUERY", f"expecting '{value}', found '{tok[1]}'")
        self.i += 1
        return tok

    # -- names ---------------------------------------------------------------------------------
    def _field(self, obj: str, name: str) -> dict:
        for f in self.catalog[obj]["fields"]:
            if f["name"].lower() == name.lower():
                return f
        raise SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{obj}'. If you are attempting to "
                                         "use a custom field, be sure to append the '__c' after the custom field "
                                         "name. Please reference your WSDL or the describe call for the appropriate "
                                         "names.")

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

    # -- where ---------------------------------------------------------------------------------
    def literal(self, f: dict):
        kind, value = self.take()
        if kind == "str":
            text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value[1:-1])
            return text
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "date":
            return value
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
        return " OR ".join(parts) if len(parts) > 1 else parts[0]

    def conjunct(self, obj: str) -> str:
        parts = [self.atom(obj)]
        while self.peek("AND"):
            self.take()
            parts.append(self.atom(obj))
        return "(" + " AND ".join(parts) + ")" if len(parts) > 1 else parts[0]

    def atom(self, obj: str) -> str:
        if self.peek("NOT"):
            self.take()
            return f"NOT ({self.atom(obj)})"
        if self.peek("("):
            self.take("(")
            inner = self.condition(obj)
            self.take(")")
            return f"({inner})"
        kind, name = self.take()
        if kind != "word":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token '{name}'")
        ref, f, _, _ = self.column(obj, name)
        text = f["type"] not in ("boolean", "double", "int", "date", "datetime")
        collate = " COLLATE NOCASE" if text else ""
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
        if value is None:
            if op not in ("=", "!=", "<>"):
                raise SoqlError("MALFORMED_QUERY", "null can only be compared with = or !=")
            return f"{ref} IS {'NOT ' if op != '=' else ''}NULL"
        self.params.append(value)
        op = "!=" if op == "<>" else op
        if op == "!=":
            return f"({ref} IS NULL OR {ref}{collate} != ?)"
        return f"{ref}{collate} {op} ?"


def parse(text: str, catalog: dict[str, dict]) -> Query:
    p = _Parser(text, catalog)
    p.take("SELECT")
    count = False
    names: list[str] = []
    if p.peek("COUNT"):
        p.take()
        p.take("(")
        p.take(")")
        count = True
    else:
        while True:
            kind, name = p.take()
            if kind != "word":
                raise SoqlError("MALFORMED_QUERY", f"unexpected token '{name}' in the field list")
            names.append(name)
            if not p.peek(","):
                break
            p.take()
    p.take("FROM")
    kind, obj_name = p.take()
    obj = next((o for o in catalog if o.lower() == obj_name.lower()), None)
    if obj is None:
        raise SoqlError("INVALID_TYPE", f"sObject type '{obj_name}' is not supported. If you are attempting to use a "
                                        "custom object, be sure to append the '__c' after the entity name.")
    columns, selects = [], []
    for n in names:
        ref, _, rel, fname = p.column(obj, n)
        columns.append((rel, fname))
        selects.append(ref)
    where = "t.\"IsDeleted\" = 0"
    if p.peek("WHERE"):
        p.take()
        where += f" AND ({p.condition(obj)})"
    order = ""
    if p.peek("ORDER"):
        p.take()
        p.take("BY")
        terms = []
        while True:
            _, name = p.take()
            ref, _, _, _ = p.column(obj, name)
            direction = ""
            if p.peek("ASC", "DESC"):
                direction = " " + p.take()[1]
            if p.peek("NULLS"):
                p.take()
                direction += " NULLS " + p.take()[1]
            terms.append(ref + direction)
            if not p.peek(","):
                break
            p.take()
        order = " ORDER BY " + ", ".join(terms)
    limit, offset = None, 0
    if p.peek("LIMIT"):
        p.take()
        limit = int(p.take()[1])
    if p.peek("OFFSET"):
        p.take()
        offset = int(p.take()[1])
    if p.i != len(p.toks):
        raise SoqlError("MALFORMED_QUERY", f"unexpected token '{p.toks[p.i][1]}'")
    joins = "".join(f' LEFT JOIN "{parent}" {alias} ON {alias}."Id" = t."{fk}"'
                    for alias, parent, fk in p.joins.values())
    if count:
        sql = f'SELECT count(*) FROM "{obj}" t{joins} WHERE {where}'
    else:
        sql = f'SELECT {", ".join(selects)} FROM "{obj}" t{joins} WHERE {where}{order}'
    return Query(obj=obj, count=count, columns=columns, sql=sql, params=p.params, limit=limit, offset=offset)
