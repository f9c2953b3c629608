"""The sync state in the municipality's DuckDB: what MuniForce holds, per target object and resident key.

`payload_hash` is the hash of the last payload Salesforce *accepted*. The diff of a run is "desired hash is
distinct from the accepted one", so a rejected or unconfirmed record (a run killed before it recorded the
answer) is simply sent again; upserts by external ID make that safe (no duplicates).

Before a group is sent its rows are marked `pending` (write-ahead): a run killed mid-way leaves `pending`
rows, and the deletion planner looks those up in Salesforce by external ID, since one may have been created
without its Id ever being recorded.

last_status: pending | created | updated | deactivated | deleted | rejected | retry
  rejected: Salesforce refused the record (its code and message are kept); sent again next run.
  retry:    transient trouble outlasted the run's retries (lock, unprocessed by a failed Bulk job).
"""

from __future__ import annotations

import duckdb

STATE_TABLE = "muniforce_sync_state"
RUNS_TABLE = "muniforce_sync_runs"

STATE_DDL = f"""
CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
  target             VARCHAR NOT NULL,   -- Salesforce object
  key                VARCHAR NOT NULL,   -- resident key
  external_id        VARCHAR,            -- value of the external ID field in Salesforce
  payload_hash       VARCHAR,            -- md5 of the last payload Salesforce accepted
  sf_id              VARCHAR,            -- Salesforce record Id
  last_status        VARCHAR NOT NULL,
  last_error_code    VARCHAR,            -- Salesforce statusCode of the last rejection
  last_error_message VARCHAR,            -- its message, with the record's own values redacted
  last_error_fields  VARCHAR,
  attempts           INTEGER NOT NULL DEFAULT 0,  -- consecutive unsuccessful attempts
  last_attempt_at    TIMESTAMP,
  last_success_at    TIMESTAMP,
  PRIMARY KEY (target, key)
)"""

RUNS_DDL = f"""
CREATE TABLE IF NOT EXISTS {RUNS_TABLE} (
  started_at   TIMESTAMP NOT NULL,
  finished_at  TIMESTAMP,
  municipality INTEGER NOT NULL,
  dry_run      BOOLEAN NOT NULL,
  counts       JSON,       -- per target: created/updated/unchanged/rejected/deleted/deactivated/pending
  api_calls    INTEGER,
  stopped      VARCHAR     -- why the run stopped early (quota), else NULL
)"""

# An outcome relation has these columns (one row per sent record); `record_outcomes` applies it.
OUTCOME_COLUMNS = ("key", "ok", "sf_id", "created", "code", "message", "fields", "transient")


def ensure_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(STATE_DDL)
    con.execute(RUNS_DDL)


def mark_pending(con: duckdb.DuckDBPyConnection, target: str, plan_table: str) -> None:
    """Write-ahead: the rows of a group are about to be sent."""
    con.execute(
        f"""
        INSERT INTO {STATE_TABLE} (target, key, external_id, sf_id, last_status, attempts)
        SELECT ?, key, ext, sf_id, 'pending', 0 FROM {plan_table}
        ON CONFLICT (target, key) DO UPDATE SET last_status = 'pending', external_id = excluded.external_id
        """,
        [target],
    )


def record_outcomes(
    con: duckdb.DuckDBPyConnection, target: str, plan_table: str, todo_table: str, outcomes: str, op: str
) -> dict[str, int]:
    """Applies Salesforce's answers for one call or job to the state (set-based) and takes the settled
    records off the to-do list. Transient failures stay on it. Returns counts by outcome.

    op: upsert | deactivate | delete
    """
    success_status = {"upsert": "CASE WHEN o.created THEN 'created' ELSE 'updated' END",
                      "deactivate": "'deactivated'", "delete": "'deleted'"}[op]
    keep_hash = "NULL" if op == "delete" else "p.payload_hash"
    keep_id = "NULL" if op == "delete" else "coalesce(o.sf_id, p.sf_id)"
    con.execute(
        f"""
        INSERT INTO {STATE_TABLE} AS s (target, key, external_id, payload_hash, sf_id, last_status, last_error_code,
                                        last_error_message, last_error_fields, attempts, last_attempt_at,
                                        last_success_at)
        SELECT ?, o.key, p.ext,
               CASE WHEN o.ok THEN {keep_hash} END,
               CASE WHEN o.ok THEN {keep_id} ELSE p.sf_id END,
               CASE WHEN o.ok THEN {success_status} ELSE 'rejected' END,
               CASE WHEN o.ok THEN NULL ELSE o.code END,
               CASE WHEN o.ok THEN NULL ELSE o.message END,
               CASE WHEN o.ok THEN NULL ELSE o.fields END,
               CASE WHEN o.ok THEN 0 ELSE 1 END,
               now(),
               CASE WHEN o.ok THEN now() END
        FROM {outcomes} o JOIN {plan_table} p USING (key)
        WHERE NOT o.transient
        ON CONFLICT (target, key) DO UPDATE SET
          external_id = excluded.external_id,
          payload_hash = CASE WHEN excluded.last_status = 'rejected' THEN s.payload_hash ELSE excluded.payload_hash END,
          sf_id = CASE WHEN excluded.last_status = 'deleted' THEN NULL ELSE coalesce(excluded.sf_id, s.sf_id) END,
          last_status = excluded.last_status,
          last_error_code = excluded.last_error_code,
          last_error_message = excluded.last_error_message,
          last_error_fields = excluded.last_error_fields,
          attempts = CASE WHEN excluded.last_status = 'rejected' THEN s.attempts + 1 ELSE 0 END,
          last_attempt_at = excluded.last_attempt_at,
          last_success_at = coalesce(excluded.last_success_at, s.last_success_at)
        """,
        [target],
    )
    con.execute(f"DELETE FROM {todo_table} WHERE key IN (SELECT key FROM {outcomes} WHERE NOT transient)")
    rows = con.execute(
        f"""
        SELECT CASE WHEN transient THEN 'transient' WHEN NOT ok THEN 'rejected'
                    WHEN ? = 'upsert' THEN CASE WHEN created THEN 'created' ELSE 'updated' END
                    WHEN ? = 'deactivate' THEN 'deactivated' ELSE 'deleted' END AS kind, count(*)
        FROM {outcomes} GROUP BY ALL
        """,
        [op, op],
    ).fetchall()
    return {kind: n for kind, n in rows}


def mark_unfinished(con: duckdb.DuckDBPyConnection, target: str, todo_table: str, code: str, message: str) -> None:
    """Records left on the to-do list when a group ends (transient trouble outlasted the retries)."""
    con.execute(
        f"""
        UPDATE {STATE_TABLE} SET last_status = 'retry', last_error_code = ?, last_error_message = ?,
               last_error_fields = NULL, attempts = attempts + 1, last_attempt_at = now()
        WHERE target = ? AND key IN (SELECT key FROM {todo_table})
        """,
        [code, message, target],
    )


def mark_absent(con: duckdb.DuckDBPyConnection, target: str, keys_table: str) -> None:
    """Records that Salesforce does not hold (nothing to delete or deactivate)."""
    con.execute(
        f"""
        UPDATE {STATE_TABLE} SET last_status = 'deleted', sf_id = NULL, payload_hash = NULL,
               last_error_code = NULL, last_error_message = NULL, last_error_fields = NULL, attempts = 0,
               last_attempt_at = now()
        WHERE target = ? AND key IN (SELECT key FROM {keys_table})
        """,
        [target],
    )
