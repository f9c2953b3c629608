"""The identity registry: where `resident_key`s are issued and kept, so a person keeps one key run after run.

Tables in the municipality's database (all kept across runs):
  identity_keys          resident_key, issued_at, retired_at, surviving_key      every key ever issued
  identity_registry      source, record_key -> resident_key, first_seen        one row per source record seen
  identity_national_ids  national_id -> resident_key, first_seen               one row per valid ID seen
  identity_merges        retired_key, surviving_key, merged_at                 read by the MuniForce sync

A run's clusters (records that are one person this run) claim the keys their records and IDs had before. A key
claimed by two clusters (a split) goes to the cluster holding its national ID, else to the one with more of its
records; a cluster holding several keys (a merge) keeps the oldest and retires the others. A key is never
derived from personal data: it is random, issued once, and only ever retired into another key.
"""

from __future__ import annotations

import datetime as dt

import duckdb

DDL = """
CREATE TABLE IF NOT EXISTS identity_keys (
    resident_key VARCHAR PRIMARY KEY, issued_at TIMESTAMP NOT NULL, retired_at TIMESTAMP, surviving_key VARCHAR);
CREATE TABLE IF NOT EXISTS identity_registry (
    source VARCHAR NOT NULL, record_key VARCHAR NOT NULL, resident_key VARCHAR NOT NULL, first_seen TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS identity_national_ids (
    national_id VARCHAR NOT NULL, resident_key VARCHAR NOT NULL, first_seen TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS identity_merges (retired_key VARCHAR, surviving_key VARCHAR, merged_at TIMESTAMP);
"""

# 'R' + 20 hex digits of a random UUID: opaque, upper case (MuniForce matches keys case-insensitively).
NEW_KEY_SQL = "'R' || upper(replace(CAST(gen_random_uuid() AS VARCHAR), '-', '')[1:20])"


def ensure_registry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def issue_keys(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> dict[str, int]:
    """Give every cluster of `_record_clusters` its resident key and update the registry, in one transaction.

    Reads TEMP `_record_clusters(rec_id, cluster_id)` and `_records`; writes TEMP
    `_cluster_keys(cluster_id, resident_key)`. Returns counts (new keys, kept keys, merges, splits)."""
    ensure_registry(con)
    con.execute("BEGIN")
    try:
        counts = _issue_keys(con, now)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return counts


def _issue_keys(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> dict[str, int]:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _run_records AS
        SELECT r.rec_id, r.source, r.record_key, r.national_id, r.id_valid, c.cluster_id
        FROM _records r JOIN _record_clusters c USING (rec_id)""")
    # Which known keys each cluster claims, and how strongly.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _claims AS
        WITH by_record AS (
            SELECT r.cluster_id, g.resident_key AS key, count(*) AS records, false AS by_id
            FROM _run_records r JOIN identity_registry g USING (source, record_key) GROUP BY ALL),
        by_id AS (
            SELECT DISTINCT r.cluster_id, n.resident_key AS key, 0 AS records, true AS by_id
            FROM _run_records r JOIN identity_national_ids n ON r.id_valid AND n.national_id = r.national_id)
        SELECT cluster_id, key, sum(records) AS records, bool_or(by_id) AS by_id
        FROM (SELECT * FROM by_record UNION ALL SELECT * FROM by_id) GROUP BY ALL""")
    # Each claimed key goes to one cluster; each cluster keeps the oldest key it won.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _won AS
        SELECT w.cluster_id, w.key, k.issued_at,
               row_number() OVER (PARTITION BY w.cluster_id ORDER BY k.issued_at, w.key) AS age_rank
        FROM (SELECT *, row_number() OVER (PARTITION BY key ORDER BY by_id DESC, records DESC, cluster_id) AS rn
              FROM _claims) w
        JOIN identity_keys k ON k.resident_key = w.key
        WHERE w.rn = 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _cluster_keys AS
        WITH clusters AS (SELECT DISTINCT cluster_id FROM _run_records)
        SELECT c.cluster_id, coalesce(w.key, {NEW_KEY_SQL}) AS resident_key, w.key IS NULL AS is_new
        FROM clusters c LEFT JOIN (SELECT * FROM _won WHERE age_rank = 1) w USING (cluster_id)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _retired AS
        SELECT w.key AS retired_key, c.resident_key AS surviving_key
        FROM _won w JOIN _cluster_keys c USING (cluster_id) WHERE w.age_rank > 1""")
    counts = dict(zip(("new_keys", "kept_keys", "merges", "splits"), con.execute("""
        SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new),
               (SELECT count(*) FROM _retired),
               (SELECT count(*) FROM _claims c WHERE NOT EXISTS (
                    SELECT 1 FROM _won w WHERE w.cluster_id = c.cluster_id AND w.key = c.key))
        FROM _cluster_keys""").fetchall()[0]))
    if con.execute("SELECT count(*) FROM _cluster_keys k JOIN identity_keys USING (resident_key) WHERE k.is_new").fetchall()[0][0]:
        raise RuntimeError("identity registry: a newly drawn resident key collides with an issued one; re-run")

    con.execute("INSERT INTO identity_keys SELECT resident_key, $now, NULL, NULL FROM _cluster_keys WHERE is_new",
                {"now": now})
    con.execute("""UPDATE identity_keys SET retired_at = $now, surviving_key = r.surviving_key
                   FROM _retired r WHERE identity_keys.resident_key = r.retired_key""", {"now": now})
    con.execute("INSERT INTO identity_merges SELECT retired_key, surviving_key, $now FROM _retired", {"now": now})
    # Source records and national IDs seen this run point at their cluster's key; those not seen this run keep
    # theirs, moved to the survivor if their key was retired now. Only changed rows are written.
    for table in ("identity_registry", "identity_national_ids"):
        con.execute(f"""UPDATE {table} SET resident_key = r.surviving_key FROM _retired r
                        WHERE {table}.resident_key = r.retired_key""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _current AS
        SELECT DISTINCT r.source, r.record_key, k.resident_key FROM _run_records r JOIN _cluster_keys k USING (cluster_id)""")
    con.execute("""UPDATE identity_registry SET resident_key = c.resident_key FROM _current c
                   WHERE identity_registry.source = c.source AND identity_registry.record_key = c.record_key
                     AND identity_registry.resident_key <> c.resident_key""")
    con.execute("""INSERT INTO identity_registry
                   SELECT c.source, c.record_key, c.resident_key, $now FROM _current c
                   ANTI JOIN identity_registry g ON g.source = c.source AND g.record_key = c.record_key""", {"now": now})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _current AS
        SELECT r.national_id, any_value(k.resident_key) AS resident_key
        FROM _run_records r JOIN _cluster_keys k USING (cluster_id) WHERE r.id_valid GROUP BY r.national_id""")
    con.execute("""UPDATE identity_national_ids SET resident_key = c.resident_key FROM _current c
                   WHERE identity_national_ids.national_id = c.national_id
                     AND identity_national_ids.resident_key <> c.resident_key""")
    con.execute("""INSERT INTO identity_national_ids
                   SELECT c.national_id, c.resident_key, $now FROM _current c
                   ANTI JOIN identity_national_ids n ON n.national_id = c.national_id""", {"now": now})
    con.execute("DROP TABLE _current; DROP TABLE _run_records")
    return counts
