"""What a person should look at: pairs Toshav did not merge (or merged only on an ID) but that look doubtful.

`identity_review` is rebuilt every run with the current findings. It names records by source, file and row and
by resident key, never by a personal value:

  similar_ids       two different valid IDs a typing slip apart (<= 2 digits differ, e.g. swapped), same name and birth date: most
                    likely one person with a mistyped ID that still passes the check digit. Not merged.
  id_conflict       records that share a valid ID but disagree on birth date and both names: maybe someone
                    else's ID typed in. Merged (the ID decides), flagged.
  ambiguous_link    a record without a valid ID that matches two persons about equally well. Not merged.
  possible_link     a record without a valid ID whose best match is likely but below the link threshold. Not merged.
  conflicting_links records without a valid ID linked to each other but to different persons. Not merged further.
  unmatched_registrant  a row of a source that may name people without an ID (`record_key_fallback` in its
                    mapping: the hand-kept disability registry) that matched no population-register record. It is
                    a resident of its own, on every list it qualifies for and marked there; someone should find
                    them in the register.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from schemas.sources import REGISTER_SOURCE, SOURCES, load_source

REVIEW_DDL = """
CREATE OR REPLACE TABLE identity_review (
    kind VARCHAR NOT NULL,
    source_a VARCHAR, record_a VARCHAR, resident_key_a VARCHAR,
    source_b VARCHAR, record_b VARCHAR, resident_key_b VARCHAR,
    match_probability DOUBLE,
    flagged_at TIMESTAMP NOT NULL
)"""


def deterministic_findings(con: duckdb.DuckDBPyConnection) -> None:
    """TEMP `_id_review(kind, rec_a, rec_b, match_probability)`: similar valid IDs and ID conflicts."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _id_review AS
        SELECT 'similar_ids' AS kind, min(a.rec_id) AS rec_a, min(b.rec_id) AS rec_b, CAST(NULL AS DOUBLE) AS match_probability
        FROM _records a JOIN _records b
          ON a.birth_date = b.birth_date AND a.last_m = b.last_m AND a.first_m = b.first_m
         AND a.id_valid AND b.id_valid AND a.national_id < b.national_id
        WHERE hamming(a.national_id, b.national_id) <= 2     -- valid IDs are 9 digits
        GROUP BY a.national_id, b.national_id""")
    con.execute("""
        INSERT INTO _id_review
        WITH ranked AS (
            SELECT *, row_number() OVER (PARTITION BY national_id
                                         ORDER BY source <> 'population_register', as_of DESC, rec_id) AS rn
            FROM _records WHERE id_valid)
        SELECT 'id_conflict', h.rec_id, o.rec_id, NULL
        FROM ranked h JOIN ranked o ON o.national_id = h.national_id AND h.rn = 1 AND o.rn > 1
        WHERE h.birth_date <> o.birth_date
          AND jaro_winkler_similarity(h.first_m, o.first_m) < 0.8 AND jaro_winkler_similarity(h.last_m, o.last_m) < 0.8""")


def write_review(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> int:
    """Materialize `identity_review` from `_id_review` and `_link_review` (after `identity_records` is written:
    it names the records' keys)."""
    con.execute(REVIEW_DDL)
    con.execute("""
        INSERT INTO identity_review
        SELECT f.kind, a.source, a.file || '#' || a.row, a.resident_key,
               b.source, b.file || '#' || b.row, b.resident_key, f.match_probability, $now
        FROM (SELECT * FROM _id_review UNION ALL SELECT * FROM _link_review) f
        JOIN identity_records a ON a.rec_id = f.rec_a
        LEFT JOIN identity_records b ON b.rec_id = f.rec_b""", {"now": now})
    fallback_sources = [s for s in SOURCES if load_source(s).record_key_fallback]
    if fallback_sources:
        con.execute("""
            INSERT INTO identity_review
            SELECT 'unmatched_registrant', a.source, a.file || '#' || a.row, a.resident_key, NULL, NULL, NULL, NULL, $now
            FROM identity_records a
            WHERE list_contains($sources, a.source) AND NOT a.id_valid
              AND a.resident_key NOT IN (SELECT resident_key FROM identity_records WHERE source = $register)""",
                    {"now": now, "sources": fallback_sources, "register": REGISTER_SOURCE})
    return con.execute("SELECT count(*) FROM identity_review").fetchall()[0][0]
