"""Measuring a suite in DuckDB: what a 1M-row table allows in seconds.

Every row-level expectation of a suite (not null, value set, format, unique, condition) becomes a pair of
aggregates - rows judged, rows violating - in ONE query over the table, so a table is scanned once however many
expectations it has. Cross-table rules are their own small queries. Samples are fetched only for violated
expectations, with LIMIT, and only from public columns: the values of personal or sensitive columns never leave
the database, failing rows are then named by the suite's public locator (row number, resident key) instead.

The measurements are judged by Great Expectations (quality/gx_validation.py), not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from connectors.delivery import latest_delivery
from pipelines.normalize import install_macros
from quality import results
from quality.payload import build_payload
from quality.suites import Expectation, Suite

SAMPLE_SIZE = 5
SAMPLE_CHARS = 60
ROW_LEVEL = ("not_null", "in_set", "format", "unique", "condition")


@dataclass
class Measurement:
    name: str
    elements: int | None = None        # rows (or values) judged
    unexpected: int | None = None      # of which violating
    observed: float | None = None      # the number Great Expectations judges (share, count, ratio)
    samples: list[str] = field(default_factory=list)
    samples_of: str | None = None      # what the samples are: "values of <col>", "rows (<locator>)", "columns"
    note: str | None = None
    error: str | None = None           # not measurable; never carries a value from the data

    @property
    def share(self) -> float:
        return (self.unexpected or 0) / self.elements if self.elements else 0.0


def render(sql: str, suite: Suite, municipality: int, delivery: int | None) -> str:
    """Fill the placeholders of expectations.yaml SQL. Only integers and names from the suite go in."""
    out = sql.replace("{table}", suite.table).replace("{source}", suite.source or "")
    out = out.replace("$municipality", str(int(municipality))).replace("$delivery", str(int(delivery if delivery is not None else -1)))
    return out


def _q(col: str) -> str:
    return '"' + col.replace('"', '""') + '"'


def _lit(v: str) -> str:
    return "'" + str(v).replace("'", "''") + "'"


def _violation(e: Expectation) -> str:
    """SQL true for a row that violates a row-level expectation (NULL counts as not violating)."""
    c = _q(e.column) if e.column else None
    if e.kind == "not_null":
        return f"{c} IS NULL"
    if e.kind == "in_set":
        return f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({', '.join(_lit(v) for v in e.values)})"
    if e.kind == "format":
        return f"{c} IS NOT NULL AND NOT coalesce(({e.predicate}), false)"
    if e.kind == "unique":
        return f"{c} IN (SELECT {c} FROM __t GROUP BY {c} HAVING count(*) > 1)"
    if e.kind == "condition":
        scope = f"coalesce(({e.where}), false) AND " if e.where else ""
        return f"{scope}coalesce(({e.violation}), false)"
    raise ValueError(e.kind)


def _aggregates(e: Expectation) -> tuple[str, str]:
    """(rows judged, rows violating) as aggregate SQL over the table."""
    c = _q(e.column) if e.column else None
    if e.kind == "not_null":
        return "count(*)", f"count(*) FILTER (WHERE {c} IS NULL)"
    if e.kind in ("in_set", "format"):
        return f"count({c})", f"count(*) FILTER (WHERE {_violation(e)})"
    if e.kind == "unique":
        return f"count({c})", f"count({c}) - count(DISTINCT {c})"
    if e.kind == "condition":
        judged = f"count(*) FILTER (WHERE coalesce(({e.where}), false))" if e.where else "count(*)"
        return judged, f"count(*) FILTER (WHERE {_violation(e)})"
    raise ValueError(e.kind)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """{column: type} of a table of the database (or a temp table of this connection); {} if there is none."""
    rows = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
                       "ORDER BY database_name = 'temp' DESC, column_index", [table]).fetchall()
    return {name: dtype.upper() for name, dtype in rows}


def _with_rows(suite: Suite, municipality: int, delivery: int | None) -> str:
    """`WITH __t AS (...)`: the rows the suite judges (the whole table unless the suite has a scope)."""
    where = f" WHERE {render(suite.scope, suite, municipality, delivery)}" if suite.scope else ""
    return f"WITH __t AS (SELECT * FROM {suite.table}{where}) "


def _row_level(con, suite: Suite, exps: list[Expectation], municipality: int, delivery: int | None,
               out: dict[str, Measurement]) -> int:
    """One scan for every row-level expectation (and the row count); a failing rule is then isolated."""
    selects = ["count(*)"]
    for e in exps:
        selects += list(_aggregates(e))
    rows_cte = _with_rows(suite, municipality, delivery)

    def run(items: list[str]) -> tuple:
        return con.execute(rows_cte + render(f"SELECT {', '.join(items)} FROM __t", suite, municipality, delivery)).fetchone()

    try:
        row = run(selects)
    except duckdb.Error:
        # isolate the rule(s) that cannot be evaluated; DuckDB's message may quote data, so it is not kept
        row = [run(["count(*)"])[0]]
        for e in exps:
            try:
                row += list(run(list(_aggregates(e))))
            except duckdb.Error as exc:
                out[e.name] = Measurement(e.name, error=f"could not evaluate ({type(exc).__name__})")
                row += [None, None]
    rows = int(row[0])
    for i, e in enumerate(exps):
        if e.name in out:
            continue
        judged, bad = row[1 + 2 * i], row[2 + 2 * i]
        out[e.name] = Measurement(e.name, elements=int(judged), unexpected=int(bad))
    return rows


def _samples(con, suite: Suite, e: Expectation, municipality: int, delivery: int | None) -> tuple[list, str | None]:
    """A few public values (or public row locators) of the rows violating `e`."""
    if e.kind == "query":
        if not e.samples_sql:
            return [], None
        sql = render(e.samples_sql, suite, municipality, delivery)
        cur = con.execute(f"SELECT * FROM ({sql}) LIMIT {SAMPLE_SIZE}")
        column = e.samples_from.split(".", 1)[1]
        if [d[0] for d in cur.description] != [column]:
            raise ValueError(f"{suite.asset}.{e.name}: samples must select exactly the public column {column!r}")
        return [r[0] for r in cur.fetchall()], f"values of {e.samples_from}"
    base = _with_rows(suite, municipality, delivery)
    violation = render(_violation(e), suite, municipality, delivery)
    if e.column and e.column in suite.public and e.kind in ("in_set", "format", "unique"):
        c = _q(e.column)
        sql = f"{base}SELECT DISTINCT {c} FROM __t WHERE {violation} LIMIT {SAMPLE_SIZE}"
        return [r[0] for r in con.execute(sql).fetchall()], f"values of {e.column}"
    loc = _q(suite.locator)
    sql = f"{base}SELECT {loc} FROM __t WHERE {violation} ORDER BY {loc} LIMIT {SAMPLE_SIZE}"
    return [r[0] for r in con.execute(sql).fetchall()], f"rows ({suite.locator})"


def _clip(v) -> str:
    s = str(v)
    return s if len(s) <= SAMPLE_CHARS else s[:SAMPLE_CHARS - 1] + "…"


def measure_suite(con: duckdb.DuckDBPyConnection, suite: Suite, municipality: int, run_id: str) -> dict[str, Measurement]:
    """Measure every expectation of `suite` on the municipality's database. Row counts for drift are recorded
    by the caller once the checks are judged (quality/runner.py)."""
    install_macros(con)
    delivery = latest_delivery(con, suite.source) if suite.source and _has_table(con, "deliveries") else None
    out: dict[str, Measurement] = {}
    if suite.payload_object:
        try:
            build_payload(con, suite, municipality)
        except duckdb.Error as exc:
            return {e.name: Measurement(e.name, error=f"the {suite.payload_object} payload could not be built "
                                                      f"({type(exc).__name__})") for e in suite.expectations}
    columns = table_columns(con, suite.table)
    if not columns:
        return {e.name: Measurement(e.name, error=f"table {suite.table} does not exist") for e in suite.expectations}

    row_level = []
    for e in suite.expectations:
        if e.kind in ROW_LEVEL and e.column and e.column not in columns:
            out[e.name] = Measurement(e.name, error=f"column {e.column} is missing from {suite.table}")
        elif e.kind in ROW_LEVEL:
            row_level.append(e)
    rows = _row_level(con, suite, row_level, municipality, delivery, out)

    for e in suite.expectations:
        if e.kind in ("columns", "schema"):
            problems = []
            for col, dtype in e.columns:
                if col not in columns:
                    problems.append(f"{col}: missing")
                elif dtype and columns[col] != dtype.upper():
                    problems.append(f"{col}: {columns[col]}, expected {dtype.upper()}")
            out[e.name] = Measurement(e.name, elements=len(e.columns), unexpected=len(problems),
                                      observed=float(len(problems)), samples=problems[:SAMPLE_SIZE * 2],
                                      samples_of="columns" if problems else None)
        elif e.kind == "query":
            try:
                total, bad = con.execute(render(e.sql, suite, municipality, delivery)).fetchone()
                out[e.name] = Measurement(e.name, elements=int(total or 0), unexpected=int(bad or 0))
            except duckdb.Error as exc:
                out[e.name] = Measurement(e.name, error=f"could not evaluate ({type(exc).__name__})")
        elif e.kind == "min_rows":
            try:
                n = con.execute(render(e.sql, suite, municipality, delivery)).fetchone()[0] if e.sql else rows
                out[e.name] = Measurement(e.name, elements=int(n), observed=float(n))
            except duckdb.Error as exc:
                out[e.name] = Measurement(e.name, error=f"could not evaluate ({type(exc).__name__})")
        elif e.kind == "row_count_drift":
            baseline = results.baseline_count(con, suite.name, run_id)
            m = Measurement(e.name, elements=rows, observed=1.0)
            if baseline is None:
                m.note = "no accepted earlier run: this run's count becomes the baseline"
            else:
                m.observed = rows / baseline if baseline else 1.0
                m.unexpected = max(baseline - rows, 0)
                m.note = f"{rows} rows now, {baseline} in the last accepted run"
            out[e.name] = m

    for e in suite.expectations:
        m = out[e.name]
        if e.kind in ROW_LEVEL or e.kind == "query":
            if m.error is None:
                m.observed = m.share
                if m.unexpected:
                    try:
                        values, of = _samples(con, suite, e, municipality, delivery)
                        m.samples, m.samples_of = [_clip(v) for v in values], of
                    except duckdb.Error as exc:
                        m.note = f"no samples ({type(exc).__name__})"
    return out


def _has_table(con, name: str) -> bool:
    return bool(table_columns(con, name))
