"""Which columns, tables and parameters a SQL statement reads, from DuckDB's own parser (`json_serialize_sql`).

The access rules are derived, not declared: a base column is as sensitive as the model fields its expression
reads, and a query is as sensitive as the columns it filters on. Reading this from the parse tree rather than
from hand-written declarations means a new query cannot forget to say that it filters on health data.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

import duckdb

_PARSER_LOCK = threading.Lock()


class SqlShapeError(ValueError):
    """A catalogue statement does not have the shape the access rules rely on."""


@lru_cache(maxsize=1)
def _parser() -> duckdb.DuckDBPyConnection:
    """One in-memory connection for parsing (opening one per statement made loading the catalogue slow)."""
    return duckdb.connect()


def parse_tree(sql: str) -> dict:
    """The parse tree of one SELECT statement."""
    with _PARSER_LOCK:
        raw = _parser().execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = json.loads(raw)
    if tree.get("error"):
        raise SqlShapeError(f"SQL does not parse: {tree.get('error_message')}")
    statements = tree["statements"]
    if len(statements) != 1:
        raise SqlShapeError("exactly one SELECT statement expected")
    node = statements[0]["node"]
    if node.get("type") != "SELECT_NODE":
        raise SqlShapeError("a plain SELECT expected (no UNION, no set operations)")
    return node


def _nodes(tree: Any) -> Iterator[dict]:
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def _lambda_names(tree: Any) -> set[str]:
    return {
        ref["column_names"][-1]
        for node in _nodes(tree) if node.get("class") == "LAMBDA"
        for ref in _nodes(node.get("lhs")) if ref.get("class") == "COLUMN_REF"
    }


def column_refs(tree: Any) -> list[tuple[str, ...]]:
    """Every column reference (qualified or not), lambda parameters left out."""
    local = _lambda_names(tree)
    refs = []
    for node in _nodes(tree):
        if node.get("class") == "COLUMN_REF":
            names = tuple(node["column_names"])
            if not (len(names) == 1 and names[0] in local):
                refs.append(names)
    return refs


def parameters(tree: Any) -> set[str]:
    """Named parameters (`$name`)."""
    return {node["identifier"] for node in _nodes(tree) if node.get("class") == "PARAMETER"}


def tables(tree: Any) -> set[str]:
    return {node["table_name"] for node in _nodes(tree) if node.get("type") == "BASE_TABLE"}


def _table_aliases(from_table: dict) -> dict[str, str]:
    """alias -> table name, for a FROM of base tables and joins."""
    if from_table.get("type") == "BASE_TABLE":
        return {from_table.get("alias") or from_table["table_name"]: from_table["table_name"]}
    if from_table.get("type") == "JOIN":
        return {**_table_aliases(from_table["left"]), **_table_aliases(from_table["right"])}
    raise SqlShapeError("a base may only select from tables and joins of tables")


@dataclass(frozen=True)
class BaseColumns:
    """The output columns of a base and, per column, the (table, field) pairs its expression reads."""

    lineage: dict[str, frozenset[tuple[str, str]]]
    parameters: frozenset[str]


def base_columns(sql: str, model_fields: dict[str, set[str]]) -> BaseColumns:
    """Lineage of a base: `SELECT expr AS name, ... FROM model tables` (no `*`, every computed column named).

    `model_fields` maps each model table to its fields; a reference that is not a model field is an error, as is
    an unqualified reference that two joined tables both have."""
    node = parse_tree(sql)
    aliases = _table_aliases(node["from_table"])
    unknown = set(aliases.values()) - set(model_fields)
    if unknown:
        raise SqlShapeError(f"base reads tables outside the resident model: {sorted(unknown)}")
    lineage: dict[str, frozenset[tuple[str, str]]] = {}
    for item in node["select_list"]:
        if item.get("class") == "STAR":
            raise SqlShapeError("a base lists its columns: no SELECT *")
        name = item.get("alias") or (item["column_names"][-1] if item.get("class") == "COLUMN_REF" else None)
        if not name:
            raise SqlShapeError("every computed column of a base needs a name (AS ...)")
        if name in lineage:
            raise SqlShapeError(f"base column {name!r} appears twice")
        lineage[name] = frozenset(_resolve(ref, aliases, model_fields) for ref in column_refs(item))
    return BaseColumns(lineage=lineage, parameters=frozenset(parameters(node)))


def _resolve(ref: tuple[str, ...], aliases: dict[str, str], model_fields: dict[str, set[str]]) -> tuple[str, str]:
    if len(ref) == 2:
        if ref[0] not in aliases:
            raise SqlShapeError(f"unknown table alias {ref[0]!r}")
        table = aliases[ref[0]]
        if ref[1] not in model_fields[table]:
            raise SqlShapeError(f"{table} has no field {ref[1]!r} in the resident model")
        return table, ref[1]
    if len(ref) == 1:
        owners = [t for t in set(aliases.values()) if ref[0] in model_fields[t]]
        if len(owners) != 1:
            raise SqlShapeError(f"column {ref[0]!r} must be qualified with its table")
        return owners[0], ref[0]
    raise SqlShapeError(f"unexpected column reference {'.'.join(ref)!r}")


@dataclass(frozen=True)
class QueryShape:
    base: str
    columns: frozenset[str]       # base columns the query reads (filters)
    parameters: frozenset[str]


def query_shape(sql: str, bases: set[str]) -> QueryShape:
    """Check that a named query is `SELECT * FROM <base> WHERE ...` reading only bases; what it reads."""
    node = parse_tree(sql)
    select = node["select_list"]
    if len(select) != 1 or select[0].get("class") != "STAR" or select[0].get("relation_name"):
        raise SqlShapeError("a named query selects `*` from its base; the catalogue chooses the output columns")
    if node["from_table"].get("type") != "BASE_TABLE":
        raise SqlShapeError("a named query reads one base")
    read = tables(node)
    if not read <= bases:
        raise SqlShapeError(f"a named query may read only the bases, not {sorted(read - bases)}")
    if node.get("group_expressions") or node.get("having") or node.get("modifiers"):
        raise SqlShapeError("a named query only filters: no GROUP BY, HAVING, ORDER BY or LIMIT")
    return QueryShape(
        base=node["from_table"]["table_name"],
        columns=frozenset(ref[-1] for ref in column_refs(node)),
        parameters=frozenset(parameters(node)),
    )
