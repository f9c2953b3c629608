"""`emergency_system_reports`: what a government emergency system (Yachad) reports about each resident it tracks.

Its legal basis is the system's own (schemas/sources/<source>.yaml: `emergency_basis: government_emergency_system`):
the state shares the data with the authority for emergency management. So it is kept for **every** resident the
system tracks, apart from the consent-based emergency profile (which it does not widen), linked to the resident key,
with the basis on each row. Which staged column is the status, location, needs, phone ... is the mapping's
`emergency_report`. One row per resident: the freshest report of any such system (`source` names it).
"""

from __future__ import annotations

import duckdb

from pipelines.identity.records import staged_sources
from schemas.model import ddl, table
from schemas.sources import emergency_sources, load_source

BASIS = "government_emergency_system"


def _reports_of(source: str, municipality: int) -> str:
    spec = load_source(source).emergency_report or {}
    types = {f.name: f.type for f in table("emergency_system_reports").fields}
    values = {name: f"TRY_CAST(s.\"{spec[name]}\" AS {types[name]})" if name in spec else f"NULL::{types[name]}"
              for name in ("status", "location", "needs_codes", "phone", "household_size", "reported_at")}
    return f"""
        SELECT x.resident_key, CAST({int(municipality)} AS INTEGER) AS municipality_code, '{source}' AS source,
               '{BASIS}' AS legal_basis, s.delivery_id || ':' || s._row AS record,
               {', '.join(f'{expr} AS {name}' for name, expr in values.items())}, s._row
        FROM stg_{source} s
        JOIN identity_record_rows x ON x.source = '{source}' AND x.file = s._file AND x.row = s._row"""


def build_emergency_system_reports(con: duckdb.DuckDBPyConnection, municipality: int) -> dict[str, int]:
    """Rebuild the table from the staged emergency systems (requires `identity_record_rows`). Returns counts."""
    sources = [s for s in emergency_sources(BASIS) if s in staged_sources(con)]
    columns = table("emergency_system_reports").columns
    con.execute("BEGIN")
    try:
        con.execute("DROP TABLE IF EXISTS emergency_system_reports")
        con.execute(ddl("emergency_system_reports"))
        if sources:
            union = " UNION ALL ".join(_reports_of(s, municipality) for s in sources)
            con.execute(f"""
                INSERT INTO emergency_system_reports ({', '.join(columns)})
                SELECT {', '.join(columns)} FROM (
                    SELECT *, row_number() OVER (PARTITION BY resident_key
                                                 ORDER BY reported_at DESC NULLS LAST, _row DESC) AS rn
                    FROM ({union})) WHERE rn = 1""")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    reports, without_profile = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE resident_key NOT IN (SELECT resident_key FROM emergency_profile))
        FROM emergency_system_reports""").fetchall()[0]
    return {"emergency_system_reports": reports, "reports_without_profile_basis": without_profile}
