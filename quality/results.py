"""Check results and row counts, kept in the municipality's own database.

`quality_results`     every check evaluation of every run (what `toshav quality` reports): counts, the threshold,
                      public samples only - the same things the Dagster check metadata shows.
`quality_row_counts`  the row count of each asset per run, and whether it was accepted (its drift check passed,
                      or it was accepted by hand with `toshav quality --accept-row-counts`). The drift check compares
                      with the last ACCEPTED count, so a delivery that lost half its rows keeps failing in later runs
                      until someone looks, instead of becoming the new normal after one run.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS quality_results (
    run_id       VARCHAR NOT NULL,
    municipality INTEGER NOT NULL,
    asset        VARCHAR NOT NULL,
    suite        VARCHAR NOT NULL,
    check_name   VARCHAR NOT NULL,
    severity     VARCHAR NOT NULL,      -- ERROR | WARN
    blocking     BOOLEAN NOT NULL,
    passed       BOOLEAN NOT NULL,
    elements     BIGINT,
    unexpected   BIGINT,
    observed     DOUBLE,
    threshold    VARCHAR,
    description  VARCHAR,
    samples      JSON,                  -- public values or public row locators only
    samples_of   VARCHAR,
    note         VARCHAR,
    evaluated_at TIMESTAMP NOT NULL
)"""

ROW_COUNTS_DDL = """
CREATE TABLE IF NOT EXISTS quality_row_counts (
    suite       VARCHAR NOT NULL,       -- the suite (named after its asset)
    run_id      VARCHAR NOT NULL,
    rows        BIGINT NOT NULL,
    accepted    BOOLEAN NOT NULL,
    recorded_at TIMESTAMP NOT NULL
)"""


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(RESULTS_DDL)
    con.execute(ROW_COUNTS_DDL)


def baseline_count(con: duckdb.DuckDBPyConnection, suite: str, run_id: str) -> int | None:
    """The suite's row count in the last accepted earlier run, or None for a first run."""
    ensure_tables(con)
    row = con.execute("""SELECT rows FROM quality_row_counts WHERE suite = ? AND accepted AND run_id <> ?
                         ORDER BY recorded_at DESC LIMIT 1""", [suite, run_id]).fetchone()
    return None if row is None else int(row[0])


def record_count(con: duckdb.DuckDBPyConnection, suite: str, run_id: str, rows: int, accepted: bool) -> None:
    ensure_tables(con)
    con.execute("DELETE FROM quality_row_counts WHERE suite = ? AND run_id = ?", [suite, run_id])
    con.execute("INSERT INTO quality_row_counts VALUES (?, ?, ?, ?, ?)", [suite, run_id, rows, accepted, dt.datetime.now()])


def accept_latest_counts(con: duckdb.DuckDBPyConnection, only: list[str] | None = None) -> list[tuple[str, int, bool]]:
    """Accept the latest recorded count of each suite (a drop a person has checked is real).
    Returns (suite, rows, was already accepted)."""
    ensure_tables(con)
    latest = con.execute("""SELECT suite, run_id, rows, accepted FROM quality_row_counts
                            QUALIFY row_number() OVER (PARTITION BY suite ORDER BY recorded_at DESC) = 1
                            ORDER BY suite""").fetchall()
    accepted = []
    for suite, run_id, rows, was in latest:
        if only and suite not in only:
            continue
        con.execute("UPDATE quality_row_counts SET accepted = true WHERE suite = ? AND run_id = ?", [suite, run_id])
        accepted.append((suite, int(rows), bool(was)))
    return accepted


def write_results(con: duckdb.DuckDBPyConnection, municipality: int, run_id: str, suite, outcomes) -> None:
    """Replace the suite's results of this run (a retried step writes once) with `outcomes` (quality.runner.Outcome)."""
    ensure_tables(con)
    now = dt.datetime.now()
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM quality_results WHERE run_id = ? AND suite = ?", [run_id, suite.name])
        con.executemany(
            "INSERT INTO quality_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, int(municipality), suite.asset, suite.name, o.expectation.name, o.expectation.severity, o.expectation.blocking,
              o.passed, o.measurement.elements, o.measurement.unexpected, o.measurement.observed,
              o.expectation.threshold, o.expectation.description, json.dumps(o.measurement.samples, ensure_ascii=False,
                                                                              default=str),
              o.measurement.samples_of, o.measurement.error or o.measurement.note, now)
             for o in outcomes])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def latest_results(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """For every suite, the results of its most recent evaluation (one run), failures first. Read-only."""
    cur = con.execute("""
        WITH last AS (SELECT suite, arg_max(run_id, evaluated_at) AS run_id FROM quality_results GROUP BY suite)
        SELECT r.* FROM quality_results r JOIN last USING (suite, run_id)
        ORDER BY r.asset, r.suite, r.passed, r.severity, r.check_name""")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for r in rows:
        r["samples"] = json.loads(r["samples"]) if r["samples"] else []
    return rows
