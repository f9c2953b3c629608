"""`resident_file_history`: every version of every resident's values, with the time Toshav held it.

One row per resident and version: the resident file's columns plus `valid_from` and `valid_to` (NULL = current).
`valid_from` is the resident file's `updated_at`: the run that first saw these values.
A new version starts when any value changes; `sources` is kept with each version but a change in it alone is not
a new version, and provenance is not copied (the current provenance is in resident_file; the history is about
values, and leaving it out halves what a first run writes at a million residents). A resident who leaves the resident file
(no source knows them any more, or their key was merged into another: see `identity_merges`) has their last
version closed.

"Where did this person live last month":
    SELECT street_name, house_number, apartment FROM resident_file_history
    WHERE resident_key = ? AND valid_from <= DATE '2026-10-01'
      AND (valid_to IS NULL OR valid_to > DATE '2026-10-01')
"""

from __future__ import annotations

import datetime as dt

import duckdb

from schemas.model import table

NOT_VALUES = ("resident_key", "sources", "provenance", "updated_at")


def history_columns() -> list[str]:
    return [c for c in table("resident_file").columns if c not in ("updated_at", "provenance")]


def value_columns() -> list[str]:
    return [c for c in table("resident_file").columns if c not in NOT_VALUES]


def history_ddl() -> str:
    """The resident file's columns (types from the model) + valid_from/valid_to; no key: many versions a resident."""
    t = table("resident_file")
    cols = [f'"{f.name}" {f.type}' + (" NOT NULL" if f.required else "") for f in t.fields if f.name in history_columns()]
    cols += ["valid_from TIMESTAMP NOT NULL", "valid_to TIMESTAMP"]
    return "CREATE TABLE IF NOT EXISTS resident_file_history (\n  " + ",\n  ".join(cols) + "\n)"


def update_history(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring the history in step with `resident_file`: a resident whose values differ from their open version
    gets a new version from the row's `updated_at` (the previous one is closed then); a resident no longer in
    the file has their open version closed at `now`. Returns counts {"new_versions", "closed", "open"}."""
    now = now or dt.datetime.now()
    con.execute(history_ddl())
    values = ", ".join(f"{c} := {{t}}.{c}" for c in value_columns())
    con.execute("BEGIN")
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _history_changed AS
            SELECT n.resident_key, n.updated_at AS since
            FROM resident_file n
            LEFT JOIN (SELECT * FROM resident_file_history WHERE valid_to IS NULL) h USING (resident_key)
            WHERE h.resident_key IS NULL
               OR struct_pack({values.format(t='n')}) IS DISTINCT FROM struct_pack({values.format(t='h')})""")
        closed = con.execute("""
            UPDATE resident_file_history SET valid_to = greatest(c.since, resident_file_history.valid_from)
            FROM _history_changed c
            WHERE c.resident_key = resident_file_history.resident_key AND resident_file_history.valid_to IS NULL
            """).fetchall()[0][0]
        closed += con.execute("""
            UPDATE resident_file_history SET valid_to = $now
            WHERE valid_to IS NULL AND resident_key NOT IN (SELECT resident_key FROM resident_file)""",
                              {"now": now}).fetchall()[0][0]
        cols = history_columns()
        con.execute(f"""
            INSERT INTO resident_file_history ({', '.join(cols)}, valid_from, valid_to)
            SELECT {', '.join('n.' + c for c in cols)}, n.updated_at, NULL
            FROM resident_file n JOIN _history_changed USING (resident_key)""")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    new_versions = con.execute("SELECT count(*) FROM _history_changed").fetchall()[0][0]
    open_versions = con.execute("SELECT count(*) FROM resident_file_history WHERE valid_to IS NULL").fetchall()[0][0]
    con.execute("DROP TABLE _history_changed")
    return {"new_versions": new_versions, "closed": closed, "open": open_versions}
