"""Sends one group of the plan and records every answer in the state as it arrives.

Small to-do lists go through sObject Collections (200 per call), large ones through Bulk API 2.0 jobs of
`bulk_chunk_rows` rows written straight from DuckDB (`COPY ... (NULLSTR '#N/A')`: in Bulk an empty cell
leaves a field unchanged, `#N/A` clears it; in REST `null` clears). After each call or job the answers are
applied to the state set-based, so a run killed at any point keeps everything it had confirmed.

Records that failed for a transient reason (row lock, records a crashed Bulk job never processed) stay on
the to-do list and are sent again in the next round, up to `max_rounds`; what is left is marked `retry`.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
from simple_salesforce import Salesforce

from connectors.muniforce import bulk, composite
from connectors.muniforce.calls import TRANSIENT_CODES, Caller
from connectors.muniforce.mapping import Mapping, wire_name
from connectors.muniforce.plan import Group, sql_literal
from connectors.muniforce.report import Reject, SyncReport, redact
from connectors.muniforce.state import OUTCOME_COLUMNS, mark_absent, mark_pending, mark_unfinished, record_outcomes

OUTCOMES = "mf_outcomes"
# A delete answered with one of these: the record is not there (any more), which is what was wanted.
GONE = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}
_SCHEMA = pa.schema([("key", pa.string()), ("ok", pa.bool_()), ("sf_id", pa.string()), ("created", pa.bool_()),
                     ("code", pa.string()), ("message", pa.string()), ("fields", pa.string()),
                     ("transient", pa.bool_())])


class Sender:
    def __init__(self, con: duckdb.DuckDBPyConnection, sf: Salesforce, call: Caller, mapping: Mapping,
                 report: SyncReport, options, record_type_id: str | None):
        self.con, self.sf, self.call, self.mapping = con, sf, call, mapping
        self.report, self.options, self.record_type_id = report, options, record_type_id

    # -- the group loop --------------------------------------------------------------------------
    def send(self, group: Group) -> None:
        if group.size == 0:
            return
        mark_pending(self.con, group.obj.name, group.table)
        if group.duplicates:
            self._reject_duplicates(group)
        if group.op in ("delete", "deactivate"):
            self._resolve_ids(group)
        for round_no in range(self.options.max_rounds):
            left = self._todo_count(group)
            if left == 0:
                return
            if round_no:
                self.call.sleep_between_rounds(round_no - 1)
            if left > self.options.bulk_threshold:
                self._bulk_round(group)
            else:
                self._collections_round(group)
        left = self._todo_count(group)
        if left:
            mark_unfinished(self.con, group.obj.name, group.todo, "RETRY_EXHAUSTED",
                            f"still failing transiently after {self.options.max_rounds} rounds; sent again next run")
            self.report.counts(group.obj.name).pending += left

    def _todo_count(self, group: Group) -> int:
        return self.con.execute(f"SELECT count(*) FROM {group.todo}").fetchone()[0]

    # -- outcomes ------------------------------------------------------------------------------
    def _apply(self, group: Group, rows: list[tuple] | None = None) -> None:
        """Applies outcomes (Python rows, or the OUTCOMES temp table already built) to state and report."""
        if rows is not None:
            table = pa.Table.from_pylist([dict(zip(OUTCOME_COLUMNS, r)) for r in rows], schema=_SCHEMA)
            self.con.register("mf_outcomes_rows", table)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {OUTCOMES} AS SELECT * FROM mf_outcomes_rows")
            self.con.unregister("mf_outcomes_rows")
        counts = record_outcomes(self.con, group.obj.name, group.table, group.todo, OUTCOMES, group.op)
        tally = self.report.counts(group.obj.name)
        for kind in ("created", "updated", "deactivated", "deleted", "rejected"):
            setattr(tally, kind, getattr(tally, kind) + counts.get(kind, 0))
        if counts.get("rejected"):
            for key, code, message, fields in self.con.execute(
                    f"SELECT key, code, message, fields FROM {OUTCOMES} WHERE NOT ok AND NOT transient ORDER BY key"
            ).fetchall():
                self.report.add_reject(Reject(group.obj.name, key, code or "", message or "", fields or ""))

    def _reject_duplicates(self, group: Group) -> None:
        keys = [k for (k,) in self.con.execute(f"SELECT key FROM {group.duplicates} ORDER BY key").fetchall()]
        if keys:
            msg = "another resident key equals this one but for letter case (external IDs are case-insensitive)"
            self._apply(group, [(k, False, None, False, "DUPLICATE_EXTERNAL_ID", msg, group.obj.external_id, False)
                                for k in keys])

    def _resolve_ids(self, group: Group) -> None:
        """Deletes and deactivations need the record to exist: look up by external ID the ones whose Id was
        never recorded (a run killed before recording it); drop those Salesforce does not hold."""
        missing = [e for (e,) in self.con.execute(
            f"SELECT ext FROM {group.table} WHERE sf_id IS NULL AND ext IS NOT NULL ORDER BY ext").fetchall()]
        found: dict[str, str] = {}
        for i in range(0, len(missing), composite.MAX_RECORDS):
            found.update(composite.query_ids(self.sf, self.call, group.obj.name, group.obj.external_id,
                                             missing[i:i + composite.MAX_RECORDS]))
        if found:
            self.con.register("mf_found", pa.table({"ext_lower": list(found), "id": list(found.values())}))
            self.con.execute(f"UPDATE {group.table} SET sf_id = f.id FROM mf_found f "
                             f"WHERE {group.table}.sf_id IS NULL AND lower({group.table}.ext) = f.ext_lower")
            self.con.unregister("mf_found")
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE mf_absent AS SELECT key FROM {group.table} WHERE sf_id IS NULL")
        mark_absent(self.con, group.obj.name, "mf_absent")
        self.con.execute(f"DELETE FROM {group.todo} WHERE key IN (SELECT key FROM mf_absent)")

    # -- sObject Collections ---------------------------------------------------------------------
    def _record(self, group: Group, names: list[str], values: tuple) -> dict:
        """A REST record: lookups nest under their relationship, None is JSON null (clears the field)."""
        rec: dict = {}
        for name, v in zip(names, values):
            if "." in name:
                rel, parent_field = name.split(".", 1)
                if v is None:
                    rec[self._lookup_field(group, rel)] = None
                else:
                    rec[rel] = {parent_field: v}
            else:
                rec[name] = v
        if group.op == "upsert" and group.obj.record_type and self.record_type_id:
            rec["RecordTypeId"] = self.record_type_id
        return rec

    def _lookup_field(self, group: Group, relationship: str) -> str:
        for f in group.obj.fields:
            if f.relationship_name == relationship:
                return f.name
        raise KeyError(relationship)

    def _collections_round(self, group: Group) -> None:
        size = min(composite.MAX_RECORDS, self.options.collection_size)
        if group.op == "delete":
            rows = self.con.execute(f"SELECT p.key, p.sf_id FROM {group.table} p JOIN {group.todo} USING (key) "
                                    "ORDER BY p.key").fetchall()
            for i in range(0, len(rows), size):
                batch = rows[i:i + size]
                results = composite.delete(self.sf, self.call, group.obj.name, [sf_id for _, sf_id in batch])
                by_id = {r.get("id"): r for r in results}
                self._apply(group, [self._outcome(key, by_id.get(sf_id), (), deleting=True) for key, sf_id in batch])
            return
        cols = ", ".join(f'p."{c}"' for c in group.columns)
        rows = self.con.execute(f"SELECT p.key, {cols} FROM {group.table} p JOIN {group.todo} USING (key) "
                                "ORDER BY p.key").fetchall()
        ext = group.obj.external_id
        for i in range(0, len(rows), size):
            batch = rows[i:i + size]
            records = [self._record(group, group.columns, r[1:]) for r in batch]
            results = composite.upsert(self.sf, self.call, group.obj.name, ext, records)
            self._apply(group, [self._outcome(r[0], res, r[1:]) for r, res in zip(batch, results)])

    @staticmethod
    def _outcome(key: str, result: dict | None, values: tuple, deleting: bool = False) -> tuple:
        if result is None:  # a delete answered without this Id: try again next round
            return (key, False, None, False, "NO_RESULT", "Salesforce returned no result for the record", "", True)
        if result.get("success"):
            return (key, True, result.get("id"), bool(result.get("created")), None, None, None, False)
        err = (result.get("errors") or [{}])[0]
        code = err.get("statusCode") or err.get("errorCode") or "UNKNOWN"
        if deleting and code in GONE:
            return (key, True, None, False, None, None, None, False)
        return (key, False, None, False, code, redact(err.get("message") or "", values),
                ",".join(err.get("fields") or []), code in TRANSIENT_CODES)

    # -- Bulk API 2.0 --------------------------------------------------------------------------
    def _bulk_round(self, group: Group) -> None:
        chunk = self.options.bulk_chunk_rows
        self.con.execute(
            f"""CREATE OR REPLACE TEMP TABLE mf_batch AS
                SELECT p.*, (row_number() OVER (ORDER BY p.key) - 1) // {int(chunk)} AS chunk_no
                FROM {group.table} p JOIN {group.todo} USING (key)""")
        chunks = self.con.execute("SELECT max(chunk_no) + 1 FROM mf_batch").fetchone()[0] or 0
        if group.op == "delete":
            select, operation, ext, match = 'sf_id AS "Id"', "delete", None, 'b.sf_id = r."Id"'
        else:
            select = ", ".join(f'"{c}"' for c in group.columns)
            if group.op == "upsert" and group.obj.record_type and self.record_type_id:
                select += f', {sql_literal(self.record_type_id)} AS "RecordTypeId"'
            ext_wire = wire_name(group.obj, group.obj.external_id_field, self.mapping)
            operation, ext, match = "upsert", group.obj.external_id, f'b.ext = r."{ext_wire}"'
        work = Path(tempfile.mkdtemp(prefix="toshav-muniforce-", dir=self.options.work_dir))
        try:
            for c in range(chunks):
                path = work / f"{group.obj.name}_{group.op}_{c}.csv"
                self.con.execute(f"COPY (SELECT {select} FROM mf_batch WHERE chunk_no = {c} ORDER BY key) "
                                 f"TO '{path}' (HEADER, DELIMITER ',', QUOTE '\"', NULLSTR '#N/A')")
                result = bulk.run_job(self.sf, self.call, group.obj.name, operation, path, ext,
                                      self.options.poll_interval, self.options.max_poll_interval)
                path.unlink(missing_ok=True)
                self._apply_job(group, result, c, match)
                if result.state == "Failed" and result.processed == 0 and not _is_internal_error(result.error_message):
                    raise RuntimeError(f"Bulk job {result.job_id} for {group.obj.name} failed: "
                                       f"{result.error_message.split(':')[0].strip()}")
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _apply_job(self, group: Group, result: bulk.JobResult, chunk_no: int, match: str) -> None:
        if _has_rows(result.successful):
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {OUTCOMES} AS
                    SELECT b.key, true AS ok, r.sf__Id AS sf_id, lower(r.sf__Created) = 'true' AS created,
                           NULL::VARCHAR AS code, NULL::VARCHAR AS message, NULL::VARCHAR AS fields,
                           false AS transient
                    FROM read_csv('{result.successful}', header = true, all_varchar = true, delim = ',',
                                  quote = '"', escape = '"') r
                    JOIN mf_batch b ON b.chunk_no = {chunk_no} AND {match}""")
            self._apply(group)
        if _has_rows(result.failures):
            rows = []
            key_of = dict(self.con.execute(
                f"SELECT {'sf_id' if group.op == 'delete' else 'ext'}, key FROM mf_batch WHERE chunk_no = {chunk_no}"
            ).fetchall())
            match_col = "Id" if group.op == "delete" else wire_name(group.obj, group.obj.external_id_field,
                                                                    self.mapping)
            with open(result.failures, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    key = key_of.get(row.get(match_col))
                    if key is None:
                        continue
                    code, message, fields = bulk.parse_error(row.get("sf__Error", ""))
                    values = [v for k, v in row.items() if not k.startswith("sf__")]
                    if group.op == "delete" and code in GONE:
                        rows.append((key, True, None, False, None, None, None, False))
                    else:
                        rows.append((key, False, None, False, code, redact(message, values), fields,
                                     code in TRANSIENT_CODES))
            if rows:
                self._apply(group, rows)
        for p in (result.successful, result.failures):
            p.unlink(missing_ok=True)


def _has_rows(path: Path) -> bool:
    """Result files hold a header line, or nothing at all when there are no results."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with open(path, "rb") as f:
        f.readline()
        return bool(f.readline().strip())


def _is_internal_error(message: str) -> bool:
    return "internal" in message.lower() or "timeout" in message.lower()

