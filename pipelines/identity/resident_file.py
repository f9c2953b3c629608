"""`resident_file`: one row per resident (columns exactly as schemas/resident_model.yaml), rebuilt every run from
the identity records. `updated_at` is when the resident's values last changed: a row whose values equal the
previous run's keeps its previous `updated_at` (so the sync and the history see real changes only)."""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.identity.history import value_columns
from pipelines.identity.households import assign_households
from pipelines.identity.survivorship import golden_records_sql
from pipelines.normalize import install_macros
from schemas.model import ddl, index_statements, table


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0] > 0


def build_resident_file(con: duckdb.DuckDBPyConnection, municipality: int, now: dt.datetime | None = None) -> dict[str, int]:
    """Requires `identity_records` with resident keys (resolve.py). Returns counts (by status, households,
    rows changed this run)."""
    now = now or dt.datetime.now()
    install_macros(con)
    if not _table_exists(con, "ref_streets"):   # no reference loaded: street names stay as the sources wrote them
        con.execute("CREATE OR REPLACE TEMP TABLE ref_streets (street_code INTEGER, street_name VARCHAR)")
    register_delivered = _table_exists(con, "stg_population_register") and con.execute(
        "SELECT count(*) > 0 FROM stg_population_register").fetchall()[0][0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE _golden AS {golden_records_sql(municipality)}",
                {"register_delivered": register_delivered})
    columns = table("resident_file").columns
    had_file = _table_exists(con, "resident_file")
    previous = "resident_file" if had_file else f"(SELECT {', '.join(f'NULL::{f.type} AS {f.name}' for f in table('resident_file').fields)} WHERE false)"
    same = " AND ".join(f"n.{c} IS NOT DISTINCT FROM o.{c}" for c in value_columns())
    con.execute("BEGIN")
    try:
        households = assign_households(con, "_golden", now)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _resident_file_new AS
            SELECT n.*, CASE WHEN o.resident_key IS NOT NULL AND {same} THEN o.updated_at ELSE $now END AS updated_at
            FROM (SELECT g.* REPLACE (h.household_key AS household_key)
                  FROM _golden g JOIN {households} h USING (resident_key)) n
            LEFT JOIN {previous} o USING (resident_key)""", {"now": now})
        con.execute("DROP TABLE IF EXISTS resident_file")
        con.execute(ddl("resident_file"))
        con.execute(f"INSERT INTO resident_file ({', '.join(columns)}) SELECT {', '.join(columns)} FROM _resident_file_new")
        for statement in index_statements("resident_file"):
            con.execute(statement)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    counts = dict(con.execute("SELECT status, count(*) FROM resident_file GROUP BY status").fetchall())
    report = {"residents": sum(counts.values()), **{s: counts.get(s, 0) for s in ("active", "moved_out", "deceased")},
              "households": con.execute("SELECT count(DISTINCT household_key) FROM resident_file").fetchall()[0][0],
              "changed": con.execute("SELECT count(*) FROM resident_file WHERE updated_at = ?", [now]).fetchall()[0][0]}
    for t in ("_golden", "_resident_file_new", households):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return report
